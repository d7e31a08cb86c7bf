// Roots and membership in one process with real HTTP between members: registration, heartbeats,
// failure detection, return, registry writes through the roots, root-to-root gossip, caches on
// disk, and the cluster-secret check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { request } from 'undici';
import { joinCluster, type JoinedCluster as ClusterRoles } from '../node/joined-cluster.ts';
import { rpcRouter } from '../rpc/router.ts';
import { loadOrCreateNodeId } from './identity.ts';
import type { Role } from './types.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { setLogLevel } from '../util/log.ts';

setLogLevel(process.env.CAIRN_LOG_LEVEL ?? 'warn');

const SECRET = 'test-cluster-secret';
const tmp: string[] = [];
const running = new Set<{ roles: ClusterRoles; server: Server }>();

async function member(
  name: string,
  roles: Role[],
  roots: () => string[],
  opts: {
    dataDir?: string;
    host?: string;
    port?: number;
    failureTimeoutMs?: number;
    heartbeatMs?: number;
    liveUsage?: () => { usedBytes: number; chunks: number };
  } = {},
) {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), `cairn-${name}-`)));
  if (!opts.dataDir) tmp.push(dataDir);
  const host = opts.host ?? loopbackAddress();
  const app = express();
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(opts.port ?? 0, host, () => resolve(s));
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  const selfId = await loadOrCreateNodeId(dataDir);
  const r = await joinCluster({
    selfId,
    roles,
    name,
    dataDir,
    api: url.replace(/:\d+$/, ':1'),
    cluster: url,
    roots: roots().length ? roots() : [url],
    secret: SECRET,
    heartbeatMs: opts.heartbeatMs ?? 100,
    settings: { failureTimeoutMs: opts.failureTimeoutMs ?? 800 },
    liveUsage: opts.liveUsage,
  });
  app.use('/rpc/v1', rpcRouter(SECRET, r.rpcRoutes));
  const handle = { roles: r, server, url, dataDir, host, name };
  running.add(handle);
  return {
    ...handle,
    async stop() {
      running.delete(handle);
      await r.stop();
      server.closeAllConnections();
      await new Promise((res) => server.close(res));
    },
  };
}

const stateOf = (r: ClusterRoles, id: string) => r.view.member(id)?.state;

test('nodes register, become active, see each other; a silent node goes down and comes back with the same id', async () => {
  const root = await member('root-0', ['root'], () => []);
  const a = await member('nodes-0', ['node'], () => [root.url]);
  let b = await member('nodes-1', ['node'], () => [root.url]);
  const bId = b.roles.selfId;
  await waitFor(() => stateOf(a.roles, bId) === 'active' && stateOf(b.roles, a.roles.selfId) === 'active', { what: 'both active everywhere' });
  assert.is(stateOf(a.roles, root.roles.selfId), 'active');
  assert.ok(a.roles.ready());

  await b.stop();
  await waitFor(() => stateOf(root.roles, bId) === 'down', { timeoutMs: 5000, what: 'b down at the root' });
  await waitFor(() => stateOf(a.roles, bId) === 'down', { timeoutMs: 2000, what: "b down in a's cache" });
  assert.is(stateOf(a.roles, a.roles.selfId), 'active', 'a keeps heartbeating and stays active');

  b = await member('nodes-1', ['node'], () => [root.url], { dataDir: b.dataDir, host: b.host });
  assert.is(b.roles.selfId, bId, 'identity kept in the data dir');
  await waitFor(() => stateOf(a.roles, bId) === 'active', { timeoutMs: 5000, what: 'b active again' });
  assert.is(a.roles.view.members().filter((m) => m.name === 'nodes-1').length, 1, 'no second entry for the same node');
});

test('beatNow: what a member reports reaches the root at once, not a heartbeat period later', async () => {
  const root = await member('root-0', ['root'], () => []);
  let usedBytes = 1;
  const a = await member('nodes-0', ['node'], () => [root.url], {
    heartbeatMs: 60_000,
    failureTimeoutMs: 120_000,
    liveUsage: () => ({ usedBytes, chunks: 1 }),
  });
  const used = () => root.roles.view.member(a.roles.selfId)?.usedBytes;
  await waitFor(() => used() === 1, { timeoutMs: 5000, what: 'registered with its first report' });
  usedBytes = 42;
  await new Promise((r) => setTimeout(r, 300));
  assert.is(used(), 1, 'the next period is a minute away');
  a.roles.agent.beatNow();
  await waitFor(() => used() === 42, { timeoutMs: 2000, what: 'the new figure at the root after beatNow' });
});

test('registry writes go through the root and reach every node before the call returns; no root → 503', async () => {
  const root = await member('root-0', ['root'], () => []);
  const a = await member('nodes-0', ['node'], () => [root.url]);
  const b = await member('nodes-1', ['node'], () => [root.url]);
  await waitFor(() => a.roles.view.members().length === 3 && b.roles.ready());
  await a.roles.view.putBucket({ name: 'photos', createdAt: new Date().toISOString(), owner: 'me', replicas: 2, access: 'private' });
  assert.is(b.roles.view.bucket('photos')?.replicas, 2, 'visible on another node at once');
  await b.roles.view.putUser({ id: 'alice', displayName: 'Alice', createdAt: 'now' });
  await b.roles.view.putKey({ accessKeyId: 'AKEXAMPLE', userId: 'alice', sealedSecret: 'sealed-123', createdAt: 'now' });
  assert.is(a.roles.view.user('alice')?.displayName, 'Alice');
  assert.is((a.roles.view.key('AKEXAMPLE') as { sealedSecret?: string })?.sealedSecret, 'sealed-123');
  await a.roles.view.removeBucket('photos');
  assert.is(b.roles.view.bucket('photos'), undefined);

  await root.stop();
  try {
    await a.roles.view.putBucket({ name: 'later', createdAt: '', owner: 'me', replicas: 1, access: 'private' });
    assert.unreachable('should fail without a root');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ServiceUnavailable');
  }
  assert.is(a.roles.view.bucket('later'), undefined, 'a refused write changes nothing locally');
  // The map stays usable from the cache, also across a restart of the node with every root down.
  assert.is(a.roles.view.members().length, 3);
  await a.roles.agent.stop();
  const cached = JSON.parse(await readFile(join(a.dataDir, 'cluster', 'cached-maps.json'), 'utf8'));
  assert.ok(cached.members[b.roles.selfId], 'cache on disk holds the other members');
  assert.ok(cached.keys.AKEXAMPLE, 'and the keys');
  await a.stop();
  const again = await member('nodes-0', ['node'], () => [root.url], { dataDir: a.dataDir, host: a.host });
  assert.is(again.roles.view.members().length, 3, 'restarted node serves from its cached map');
  assert.ok(again.roles.ready(), 'ready from the cache');
  assert.is((again.roles.view.key('AKEXAMPLE') as { sealedSecret?: string })?.sealedSecret, 'sealed-123');
});

test('a node that missed the broadcast gets the change with a heartbeat, though heartbeats leave out a registry it has', async () => {
  const root = await member('root-0', ['root'], () => []);
  const a = await member('nodes-0', ['node'], () => [root.url]);
  const b = await member('nodes-1', ['node'], () => [root.url]);
  await waitFor(() => a.roles.view.members().length === 3 && b.roles.ready());
  await a.roles.view.putBucket({ name: 'seen', createdAt: '', owner: 'me', replicas: 2, access: 'private' });
  assert.ok(b.roles.view.bucket('seen'), 'broadcast');
  // Every push from the root is lost from now on: only heartbeats can tell the nodes.
  root.roles.root!.broadcast = async () => {};
  await new Promise((r) => setTimeout(r, 300)); // a few heartbeats that carry no registry
  await a.roles.view.putBucket({ name: 'quiet', createdAt: '', owner: 'me', replicas: 1, access: 'private' });
  assert.ok(a.roles.view.bucket('quiet'), 'the writer has its write at once (the root answers with it)');
  await waitFor(() => b.roles.view.bucket('quiet'), { timeoutMs: 3000, what: 'the other node learns the bucket by heartbeat' });
  await a.roles.view.removeBucket('seen');
  await waitFor(() => b.roles.view.bucket('seen') === undefined, { timeoutMs: 3000, what: 'and its removal' });
});

test('two roots gossip: a node known to one root is known to the other; the map survives a root restart', async () => {
  const hosts = [loopbackAddress(), loopbackAddress()];
  const urls: string[] = [];
  const r0 = await member('root-0', ['root'], () => urls, { host: hosts[0] });
  urls.push(r0.url);
  let r1 = await member('root-1', ['root'], () => urls, { host: hosts[1] });
  urls.push(r1.url);
  // r0 was started before r1's URL was known: give it the full list now by restarting its agent loop.
  await r0.stop();
  const r0b = await member('root-0', ['root'], () => urls, { host: hosts[0], dataDir: r0.dataDir });
  const n = await member('nodes-0', ['node'], () => [r0b.url]); // talks to root-0 only
  await waitFor(() => stateOf(r1.roles, n.roles.selfId) === 'active', { timeoutMs: 5000, what: 'root-1 learns the node through gossip' });
  await n.roles.view.putBucket({ name: 'logs', createdAt: '', owner: 'me', replicas: 1, access: 'private' });
  await waitFor(() => r1.roles.view.bucket('logs'), { timeoutMs: 3000, what: 'bucket gossiped to root-1' });

  await r1.stop();
  r1 = await member('root-1', ['root'], () => urls, { host: hosts[1], dataDir: r1.dataDir });
  assert.ok(r1.roles.view.bucket('logs'), 'root-1 reloads its maps from disk');
  assert.ok(r1.roles.view.member(n.roles.selfId), 'and the members');
});

test("a root that lost its disk is refilled from the nodes' caches", async () => {
  const root = await member('root-0', ['root'], () => []);
  const n = await member('nodes-0', ['node'], () => [root.url]);
  await waitFor(() => n.roles.ready());
  await n.roles.view.putBucket({ name: 'precious', createdAt: '', owner: 'me', replicas: 1, access: 'private' });
  await root.stop();
  // Same address, empty data dir: a new root that knows nothing.
  const fresh = await member('root-0', ['root'], () => [], { host: root.host, port: Number(new URL(root.url).port) });
  assert.is(fresh.roles.view.bucket('precious'), undefined);
  // The node's first heartbeat after the root was unreachable carries its cached maps.
  await waitFor(() => fresh.roles.view.bucket('precious'), { timeoutMs: 2000, what: 'bucket refilled from the node cache' });
  assert.ok(fresh.roles.view.member(n.roles.selfId));
});

test('internal RPC without the cluster secret gets 401 and changes nothing', async () => {
  const root = await member('root-0', ['root'], () => []);
  const body = JSON.stringify({ maps: { buckets: { evil: { value: { name: 'evil' }, ts: Date.now() + 1e9, writer: 'x' } } } });
  for (const authorization of [undefined, 'Bearer wrong', `Basic ${SECRET}`]) {
    const res = await request(`${root.url}/rpc/v1/maps`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    });
    assert.is(res.statusCode, 401);
    await res.body.dump();
  }
  const hb = await request(`${root.url}/rpc/v1/heartbeat`, {
    method: 'POST',
    body: JSON.stringify({ member: { id: 'intruder', roles: ['node'], cluster: 'http://x' }, ready: true }),
    headers: { 'content-type': 'application/json' },
  });
  assert.is(hb.statusCode, 401);
  await hb.body.dump();
  assert.is(root.roles.view.bucket('evil'), undefined);
  assert.is(root.roles.view.member('intruder'), undefined);
  const ok = await request(`${root.url}/rpc/v1/maps`, { headers: { authorization: `Bearer ${SECRET}` } });
  assert.is(ok.statusCode, 200);
  await ok.body.dump();
});

test.after.each(async () => {
  for (const h of [...running]) {
    running.delete(h);
    await h.roles.stop().catch(() => {});
    h.server.closeAllConnections();
    await new Promise((res) => h.server.close(res));
  }
});

test.after(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

test.run();
