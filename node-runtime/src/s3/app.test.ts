// The app's own failure handling, with an ObjectService that misbehaves on purpose (the real
// engine is exercised by the api-*.test.ts suites): unexpected exceptions become InternalError
// 500 without leaking details, and a client that goes away aborts the engine call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { ObjectService, PutOptions } from '../data/types.ts';
import { freePort, loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { NodeMetrics } from '../observability/metrics.ts';
import { createS3App } from './app.ts';
import { errorCode, rawRequest, signHeaders } from '../../test/s3-client.ts';

const creds = { accessKey: 'APPTEST', secretKey: 'app-test-secret' };
const metrics = new NodeMetrics('app-test');
let server: Server;
let endpoint: string;
const seen: { aborted: boolean; bytes: number } = { aborted: false, bytes: 0 };

// Only the calls these tests make; anything else would be a test bug, so it throws loudly.
const objects = new Proxy({} as ObjectService, {
  get(_t, name) {
    if (name === 'listBuckets')
      return async () => {
        throw new Error('disk on fire: /secret/path');
      };
    if (name === 'putObject') {
      return (_b: string, _k: string, body: Readable, opts: PutOptions) =>
        new Promise((_resolve, reject) => {
          body.on('data', (d: Buffer) => {
            seen.bytes += d.length;
          });
          opts.signal?.addEventListener('abort', () => {
            seen.aborted = true;
            body.destroy();
            reject(new Error('aborted'));
          });
        });
    }
    return () => {
      throw new Error(`unexpected call ${String(name)}`);
    };
  },
});

test.before(async () => {
  const host = loopbackAddress();
  const port = await freePort(host);
  // The caller is the admin user (a superuser), so every request reaches the engine.
  const app = createS3App({
    objects,
    region: 'us-east-1',
    metrics,
    masterKey: Buffer.alloc(32),
    principal: (id) => (id === creds.accessKey ? { userId: 'admin', secretAccessKey: creds.secretKey, superuser: true } : undefined),
    users: () => ({ exists: () => true, byEmail: () => undefined, displayName: (id) => id }),
    bucket: () => undefined,
    putBucket: async () => {},
  });
  server = createServer(app);
  await new Promise<void>((r) => server.listen(port, host, () => r()));
  endpoint = `http://${host}:${(server.address() as AddressInfo).port}`;
});

test.after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('an unexpected exception is InternalError 500 with the request id, no internals', async () => {
  const r = await rawRequest(endpoint, { method: 'GET' }, creds);
  assert.is(r.status, 500);
  assert.is(errorCode(r.body), 'InternalError');
  assert.not.match(r.body, 'disk on fire');
  assert.match(r.body, `<RequestId>${r.headers['x-amz-request-id']}</RequestId>`);
  // The request is counted under its operation name.
  await waitFor(async () => (await metrics.text()).includes('cairn_s3_requests_total{operation="ListBuckets",code="500",node="app-test"} 1'), {
    timeoutMs: 2000,
    what: 'metric',
  });
});

test('a client disconnect mid-upload aborts the ObjectService call', async () => {
  const { path, headers } = await signHeaders(endpoint, { method: 'PUT', bucket: 'b', key: 'k', headers: { 'content-length': '1000000' } }, creds);
  const url = new URL(endpoint);
  const req = request({ host: url.hostname, port: url.port, method: 'PUT', path, headers, agent: false });
  req.on('error', () => {
    /* we cut it ourselves */
  });
  req.write(Buffer.alloc(1000, 1));
  await waitFor(() => seen.bytes >= 1000, { timeoutMs: 5000, what: 'body reaches the engine' });
  req.destroy();
  await waitFor(() => seen.aborted, { timeoutMs: 5000, what: 'abort signal' });
});

test.run();
