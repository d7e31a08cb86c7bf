// Health endpoints over a real HTTP server on loopback: status codes and JSON reasons as the
// callbacks change, and probes that answer in time even when a check hangs or throws.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { loopbackAddress } from '../../../hack/testing/net.ts';
import { healthRouter, runCheck, type CheckResult } from './health.ts';

const state = {
  joined: false,
  writable: true as boolean | Error,
  quorum: { ok: true, reason: 'all 3 buckets reach W' } as CheckResult,
  maintenance: { ok: false, reason: 'chunk abc has only 1 other replica (W=2)' } as CheckResult | 'hang',
};

let server: Server;
let base: string;

test.before(async () => {
  const app = express();
  app.use(
    healthRouter({
      joined: () => state.joined,
      storesWritable: async () => {
        if (state.writable instanceof Error) throw state.writable;
        return { ok: state.writable, reason: state.writable ? 'ok' : 'disk full' };
      },
      clusterHealth: () => state.quorum,
      maintenance: () => (state.maintenance === 'hang' ? new Promise<CheckResult>(() => {}) : state.maintenance),
      timeoutMs: 300,
      authorized: (req) => req.headers.authorization === 'Bearer s3cret',
    }),
  );
  const host = loopbackAddress();
  server = app.listen(0, host);
  await new Promise((r) => server.once('listening', r));
  base = `http://${host}:${(server.address() as AddressInfo).port}`;
});

test.after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(base + path, { headers });
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

test('/healthz answers 200 while the process runs', async () => {
  const r = await get('/healthz');
  assert.is(r.status, 200);
  assert.is(r.body.status, 'alive');
});

test('/readyz is 503 with the failing check named until joined and writable', async () => {
  let r = await get('/readyz');
  assert.is(r.status, 503);
  assert.is(r.body.checks.joined.ok, false);
  assert.is(r.body.checks.storesWritable.ok, true);
  assert.match(r.body.reason, /joined/);

  state.joined = true;
  state.writable = false;
  r = await get('/readyz');
  assert.is(r.status, 503);
  assert.match(r.body.reason, /storesWritable: disk full/);

  state.writable = new Error('EROFS: read-only file system');
  r = await get('/readyz');
  assert.is(r.status, 503);
  assert.match(r.body.reason, /EROFS/);

  state.writable = true;
  r = await get('/readyz');
  assert.is(r.status, 200);
  assert.is(r.body.status, 'ready');
});

test('/cluster/health follows the write-quorum callback', async () => {
  let r = await get('/cluster/health');
  assert.is(r.status, 200);
  assert.is(r.body.reason, 'all 3 buckets reach W');
  state.quorum = { ok: false, reason: 'bucket photos: 1 of 3 replicas reachable, W=2', details: { buckets: ['photos'] } };
  r = await get('/cluster/health', { authorization: 'Bearer s3cret' });
  assert.is(r.status, 503);
  assert.is(r.body.status, 'unhealthy');
  assert.equal(r.body.details, { buckets: ['photos'] });
});

test('without the cluster secret a probe gets the status and the reason, never the details (bucket names)', async () => {
  state.quorum = { ok: false, reason: 'write quorum unreachable for 1 bucket(s)', details: { buckets: ['tenant-photos'] } };
  state.maintenance = { ok: false, reason: 'stopping would drop 1 bucket(s) below write quorum', details: { buckets: ['tenant-photos'] } };
  for (const path of ['/cluster/health', '/maintenance']) {
    const anonymous = await get(path);
    assert.not.ok('details' in anonymous.body, path);
    assert.not.match(JSON.stringify(anonymous.body), /tenant-photos/, path);
    assert.is((await get(path, { authorization: 'Bearer wrong' })).body.details, undefined, path);
    assert.equal((await get(path, { authorization: 'Bearer s3cret' })).body.details, { buckets: ['tenant-photos'] }, path);
  }
  state.quorum = { ok: true, reason: 'all 3 buckets reach W' };
  state.maintenance = { ok: false, reason: 'chunk abc has only 1 other replica (W=2)' };
});

test('/maintenance is 412 with the reason, 200 when safe, 412 when the check hangs', async () => {
  let r = await get('/maintenance');
  assert.is(r.status, 412);
  assert.match(r.body.reason, /only 1 other replica/);
  state.maintenance = { ok: true, reason: 'every item has W replicas elsewhere' };
  r = await get('/maintenance');
  assert.is(r.status, 200);
  assert.is(r.body.status, 'safe');
  state.maintenance = 'hang';
  const started = Date.now();
  r = await get('/maintenance');
  assert.is(r.status, 412);
  assert.match(r.body.reason, /timed out/);
  assert.ok(Date.now() - started < 2000);
});

test('runCheck rejects a callback that returns no verdict', async () => {
  assert.equal(await runCheck(() => undefined as unknown as boolean), { ok: false, reason: 'check returned no verdict' });
});

test.run();
