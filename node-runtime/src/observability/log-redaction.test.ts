// Logs never carry secrets or signatures: a child process logs credentials, Authorization headers,
// presigned URLs and cluster secrets at various depths through util/log.ts; the test reads the
// JSON lines it wrote to stdout and checks that no secret survived, while the useful fields
// (component, node, request id, access key id) did.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { loopbackAddress } from '../../../hack/testing/net.ts';
import { currentRequestId, requestIdHeaders, requestIdMiddleware } from './request-id.ts';

const script = fileURLToPath(new URL('../../test/log-secrets.ts', import.meta.url));

test('secrets and signatures are redacted at any depth, in strings and in messages', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [script], { env: { ...process.env, CAIRN_LOG_LEVEL: 'info' }, timeout: 20_000 });
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);
  assert.is(lines.length, 6);
  for (const secret of ['TOPSECRET', 'deadbeefdeadbeef', 'cafebabecafebabe', 'feedfacefeedface']) {
    assert.not.ok(stdout.includes(secret), `log output contains ${secret}`);
  }
  for (const l of lines) {
    assert.is(l.component, 's3');
    assert.is(l.node, 'nodes-0');
    assert.is(l.requestId, 'REQ123', 'the request id of the async context is on every line');
  }
  assert.is(lines[0].accessKeyId, 'AKIAPUBLIC', 'non-secret ids stay readable');
  assert.is(lines[1].key.name, 'k');
  assert.match(lines[2].req.headers.authorization, /^\[redacted\]$/);
  assert.match(lines[3].url, /X-Amz-Signature=\[redacted\]&X-Amz-Expires=60/);
  assert.is(lines[4].config.secretName, 'bucket-creds', 'a secret *name* is not a secret');
  assert.is(lines[4].items[0].token, '[redacted]');
  assert.match(lines[5].msg, /Signature=\[redacted\] inline/);
});

test('request ids: fresh on the file API, carried over internal RPC', async () => {
  const host = loopbackAddress();
  const seen: Record<string, string | undefined> = {};
  const rpc = express();
  rpc.use(requestIdMiddleware({ trustIncoming: true }));
  rpc.post('/chunk', async (_req, res) => {
    await Promise.resolve();
    seen.peer = currentRequestId();
    res.status(204).end();
  });
  const rpcServer = rpc.listen(0, host);
  await new Promise((r) => rpcServer.once('listening', r));
  const rpcUrl = `http://${host}:${(rpcServer.address() as AddressInfo).port}`;

  const s3 = express();
  s3.use(requestIdMiddleware());
  s3.put('/b/k', async (_req, res) => {
    seen.coordinator = currentRequestId();
    await fetch(`${rpcUrl}/chunk`, { method: 'POST', headers: requestIdHeaders({}) });
    res.status(200).end();
  });
  const s3Server = s3.listen(0, host);
  await new Promise((r) => s3Server.once('listening', r));
  try {
    const res = await fetch(`http://${host}:${(s3Server.address() as AddressInfo).port}/b/k`, {
      method: 'PUT',
      headers: { 'x-cairn-request-id': 'CLIENT-CHOSEN' },
    });
    assert.is(res.status, 200);
    const id = res.headers.get('x-amz-request-id');
    assert.match(id ?? '', /^[0-9A-F]{16}$/);
    assert.is(seen.coordinator, id);
    assert.is(seen.peer, id, "the peer logs under the coordinator's request id");
  } finally {
    for (const s of [rpcServer, s3Server]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }
});

test.run();
