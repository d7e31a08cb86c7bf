// Remote replicas against a real member's stores over the cluster port: chunks streamed raw both
// ways, ranges, verification errors that come back as the same ChunkError a local store throws,
// metadata calls as JSON, and the cluster secret on every call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ChunkStore } from '../chunks/store.ts';
import { MetaStore } from '../meta/store.ts';
import { isChunkError } from '../chunks/errors.ts';
import { LocalChunkReplica, LocalMetaReplica } from './local-replica.ts';
import type { ObjectVersion } from './types.ts';
import { RpcClient } from '../rpc/client.ts';
import { RemoteChunkReplica, RemoteMetaReplica } from './remote-replica.ts';
import { rpcRouter } from '../rpc/router.ts';
import { replicaRoutes } from './replica-routes.ts';
import { MemberReplicas } from './replica-directory.ts';
import type { Member } from '../cluster/types.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { ChunkBuffer, freeChunkBytes } from '../chunks/buffer.ts';
import { setLogLevel } from '../util/log.ts';
import { MemoryBudget } from '../chunks/memory.ts';

setLogLevel(process.env.CAIRN_LOG_LEVEL ?? 'error');

const SECRET = 'replica-test-secret';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A copy of the bytes of a chunk buffer we own, which is then released. */
function readAll(c: ChunkBuffer): Buffer {
  const copy = Buffer.from(c.bytes);
  c.release();
  return copy;
}
const own = (b: Buffer) => ChunkBuffer.of(b);

const calls: string[] = []; // paths the member was asked, in order
let olderPeer = false;
let dir: string, chunks: ChunkStore, meta: MetaStore, server: Server, url: string;
const memory = new MemoryBudget(8 << 20); // the member's chunk budget, which chunks sent to it are gathered under
const rpc = new RpcClient({ secret: SECRET, retries: 1 });
const wrong = new RpcClient({ secret: 'not-the-secret', retries: 0 });

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-rpc-'));
  chunks = await ChunkStore.open(dir);
  meta = MetaStore.open(dir);
  const app = express();
  app.use((req, _res, next) => {
    calls.push(req.path);
    next();
  });
  // Plays a member from before batches: its `/meta/:method` route answered a batch as an unknown call.
  app.use((req, res, next) =>
    olderPeer && req.path === '/rpc/v1/meta/batch'
      ? res.status(400).json({ error: { code: 'InvalidRequest', message: 'unknown metadata call batch' } })
      : next(),
  );
  app.use(
    '/rpc/v1',
    rpcRouter(SECRET, [replicaRoutes({ chunks: new LocalChunkReplica('m1', chunks, undefined, memory), meta: new LocalMetaReplica('m1', meta) })]),
  );
  const host = loopbackAddress();
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, host, () => resolve(s));
  });
  url = `http://${host}:${(server.address() as AddressInfo).port}`;
});

test.after(async () => {
  await rpc.close();
  await wrong.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

test('a streamed chunk is stored, read back whole and by range, listed and deleted', async () => {
  const remote = new RemoteChunkReplica('m1', url, rpc);
  const body = randomBytes(3 * 1024 * 1024 + 17);
  const id = sha(body);
  // A Readable in small pieces: the body is streamed, not buffered into JSON.
  const pieces = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536));
  await remote.putChunk(id, Readable.from(pieces), body.length);
  assert.ok(await chunks.has(id), 'stored on the member');
  assert.ok((await readAll(await remote.getChunk(id))).equals(body));
  assert.ok((await readAll(await remote.getChunk(id, { start: 100, end: 199 }))).equals(body.subarray(100, 200)));
  const small = Buffer.from('hello');
  await remote.putChunk(sha(small), own(small), small.length);
  assert.equal(await remote.hasChunks([id, sha(small), sha(Buffer.from('absent'))]), [true, true, false]);
  await remote.deleteChunk(id);
  assert.equal(await remote.hasChunks([id]), [false]);
});

test('a chunk sent here is gathered under the memory budget and written around the page cache; with no room it is streamed', async () => {
  const remote = new RemoteChunkReplica('m1', url, rpc);
  const pieces = (b: Buffer) => Readable.from(Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536)));
  const a = randomBytes(4 << 20);
  const direct = chunks.directWrites;
  await remote.putChunk(sha(a), pieces(a), a.length);
  assert.is(chunks.directWrites, direct + 1, 'gathered whole, written direct');
  assert.is(memory.used, 0, 'the grant went back');
  assert.ok((await readAll(await remote.getChunk(sha(a)))).equals(a));
  // Bytes that do not hash to the id: refused, nothing stored, the memory given back.
  const b = randomBytes(1 << 20);
  const notB = sha(randomBytes(16));
  try {
    await remote.putChunk(notB, pieces(b), b.length);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkHashMismatch'), String(e));
  }
  assert.equal(await remote.hasChunks([notB]), [false]);
  assert.is(memory.used, 0);
  // The budget is all taken (local uploads): the chunk is streamed to disk instead, never waiting for memory.
  const all = memory.tryTake(memory.limit)!;
  try {
    await remote.putChunk(sha(b), pieces(b), b.length);
  } finally {
    all.release();
  }
  assert.is(chunks.directWrites, direct + 1);
  assert.ok((await readAll(await remote.getChunk(sha(b)))).equals(b));
});

test('errors cross the wire as the chunk errors a local store throws', async () => {
  const remote = new RemoteChunkReplica('m1', url, rpc);
  const missing = sha(Buffer.from('never stored'));
  try {
    await remote.getChunk(missing);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkNotFound'), String(e));
  }
  const body = Buffer.from('some bytes');
  try {
    await remote.putChunk(sha(Buffer.from('other bytes')), own(body), body.length);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkHashMismatch'), String(e));
  }
  try {
    await remote.putChunk(sha(body), Readable.from([body]), body.length);
  } catch (e) {
    assert.unreachable(String(e));
  }
  try {
    await remote.getChunk('../../etc/passwd');
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'InvalidChunkId'), String(e));
  }
});

test('a whole chunk served goes back to the buffer pool once the response finished', async () => {
  const remote = new RemoteChunkReplica('m1', url, rpc);
  const body = randomBytes(512 * 1024); // a pooled size no other test here uses: the pool has none free
  const id = sha(body);
  await chunks.put(id, body, body.length); // on the member directly: a chunk sent over RPC would be gathered in a pooled buffer
  const before = freeChunkBytes();
  // Read with the bare client, which takes nothing from the pool: only the member's buffer moves.
  const res = await rpc.raw(url, { method: 'GET', path: `/rpc/v1/chunks/${id}?verify=caller` });
  assert.is(res.headers['content-length'], String(body.length), 'the length is announced');
  assert.ok(Buffer.from(await res.body.arrayBuffer()).equals(body));
  await waitFor(() => freeChunkBytes() === before + body.length, { timeoutMs: 2000, what: 'the served buffer back in the pool' });
  await remote.deleteChunk(id);
});

test('a corrupt chunk: refused whole or by range, sent as it is only to a caller that verifies it', async () => {
  const remote = new RemoteChunkReplica('m1', url, rpc);
  const body = randomBytes(200_000);
  const id = sha(body);
  await remote.putChunk(id, own(body), body.length);
  const bad = Buffer.from(body);
  bad[12345] ^= 0xff;
  await writeFile(chunks.path(id), bad);
  try {
    await readAll(await remote.getChunk(id));
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkCorrupt'), String(e));
  }
  try {
    await readAll(await remote.getChunk(id, { start: 0, end: 9 }, undefined, true));
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkCorrupt'), String(e));
  }
  assert.ok((await readAll(await remote.getChunk(id, undefined, undefined, true))).equals(bad), 'the bytes on disk, for the caller to check');
  await remote.deleteChunk(id);
});

test('metadata calls as JSON: versions merge newest-wins, list and usage', async () => {
  const remote = new RemoteMetaReplica('m1', url, rpc);
  const v = (key: string, timestamp: number, size: number): ObjectVersion => ({
    bucket: 'b',
    key,
    versionId: `v${timestamp}`,
    timestamp,
    writer: 'w',
    deleted: false,
    size,
    etag: 'e',
    userMeta: {},
    chunks: [],
    replicas: 1,
  });
  await remote.putVersion(v('a', 2, 10));
  const winner = await remote.putVersion(v('a', 1, 99));
  assert.is(winner.timestamp, 2, 'an older version does not replace a newer one');
  await remote.putVersion(v('c', 1, 5));
  assert.is((await remote.getVersion('b', 'a'))?.size, 10);
  assert.is(await remote.getVersion('b', 'zzz'), undefined);
  assert.equal(
    (await remote.listVersions('b', { limit: 10 })).map((x) => x.key),
    ['a', 'c'],
  );
  assert.equal(await remote.bucketUsage('b'), { objects: 2, bytes: 15, versions: 2, versionBytes: 15 });
  // Versions of a key, by slot; a coordinator's write refused as stale; a reservation over the wire.
  await remote.putVersion({ ...v('a', 3, 4), versioned: true, versionId: 'x3' });
  assert.equal(
    (await remote.getVersions('b', 'a')).map((x) => x.versionId),
    ['v2', 'x3'],
  );
  assert.is((await remote.getVersion('b', 'a', 'null'))?.versionId, 'v2');
  // An inline body travels only when asked for.
  await remote.putVersion({ ...v('i', 4, 3), inline: Buffer.from('abc').toString('base64') });
  assert.is((await remote.getVersions('b', 'i'))[0]?.inline, Buffer.from('abc').toString('base64'));
  const [lean] = await remote.getVersions('b', 'i', { bodies: false });
  assert.equal([lean?.versionId, lean?.size, lean?.inline], ['v4', 3, undefined]);
  assert.equal(await remote.writeVersion(v('a', 3, 1), { fence: 'write' }), { staleAt: 3 });
  const cur = (await remote.getVersion('b', 'a'))!;
  assert.equal(await remote.reserveKey('b', 'a', { id: 'r', timestamp: 9, expected: cur, until: Date.now() + 5000 }), { reserved: true });
  assert.equal(await remote.writeVersion({ ...v('a', 10, 1) }, { fence: 'revision' }), { held: true });
  await remote.releaseKey('b', 'a', 'r');
  assert.ok('stored' in (await remote.writeVersion(v('a', 10, 1), { fence: 'write' })));
});

test('per-object metadata calls made together travel as one batch, each answered on its own', async () => {
  const remote = new RemoteMetaReplica('m1', url, rpc);
  const v = (key: string, timestamp: number): ObjectVersion => ({
    bucket: 'bt',
    key,
    versionId: `v${timestamp}`,
    timestamp,
    writer: 'w',
    deleted: false,
    size: timestamp,
    etag: 'e',
    userMeta: {},
    chunks: [],
    replicas: 1,
  });
  await remote.putVersion(v('k0', 5));
  calls.length = 0;
  // Twelve calls in one turn of the event loop: puts (one older than what is stored) and gets.
  const puts = Array.from({ length: 8 }, (_, i) => remote.putVersion(v(`k${i}`, i === 0 ? 1 : 10 + i)));
  const gets = [remote.getVersion('bt', 'k0'), remote.getVersion('bt', 'nope'), remote.getVersion('bt', 'k7'), remote.getVersion('other', 'k1')];
  const stored = await Promise.all(puts);
  const got = await Promise.all(gets);
  assert.equal(calls, ['/rpc/v1/meta/batch'], 'one request for all of them');
  assert.is(stored[0].timestamp, 5, 'the older put of k0 lost to the stored version, for that call alone');
  assert.equal(
    stored.slice(1).map((x) => x.timestamp),
    [11, 12, 13, 14, 15, 16, 17],
  );
  assert.is(got[0]?.timestamp, 5);
  assert.is(got[1], undefined);
  // The get of k7 ran in the same batch as its put: either answer is a correct read; it is one of them.
  assert.ok(got[2] === undefined || got[2].timestamp === 17);
  assert.is(got[3], undefined);
  // A lone call is a plain call.
  calls.length = 0;
  assert.is((await remote.getVersion('bt', 'k3'))?.timestamp, 13);
  assert.equal(calls, ['/rpc/v1/meta/getVersion']);
  // On the wire: a call that cannot be batched fails alone; an oversized batch is refused whole.
  const post = (body: unknown) =>
    fetch(`${url}/rpc/v1/meta/batch`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
    });
  const mixed = await post({
    calls: [
      { method: 'listVersions', args: ['bt', {}] },
      { method: 'getVersion', args: ['bt', 'k3'] },
    ],
  });
  assert.is(mixed.status, 200);
  const out = (await mixed.json()) as { results: { error?: { code: string }; result?: { timestamp: number } }[] };
  assert.is(out.results[0].error?.code, 'InvalidRequest');
  assert.is(out.results[1].result?.timestamp, 13);
  const huge = await post({ calls: Array.from({ length: 65 }, () => ({ method: 'getVersion', args: ['bt', 'k3'] })) });
  assert.is(huge.status, 400);
});

test('a peer from before batches (mid rolling update) gets the same calls one by one', async () => {
  const remote = new RemoteMetaReplica('m1', url, rpc);
  olderPeer = true;
  try {
    calls.length = 0;
    const got = await Promise.all([remote.getVersion('bt', 'k3'), remote.getVersion('bt', 'k4'), remote.getVersion('bt', 'nope')]);
    assert.equal(
      got.map((v) => v?.timestamp),
      [13, 14, undefined],
    );
    assert.equal(calls, ['/rpc/v1/meta/batch', '/rpc/v1/meta/getVersion', '/rpc/v1/meta/getVersion', '/rpc/v1/meta/getVersion']);
    calls.length = 0;
    await Promise.all([remote.getVersion('bt', 'k3'), remote.getVersion('bt', 'k4')]);
    assert.equal(calls, ['/rpc/v1/meta/getVersion', '/rpc/v1/meta/getVersion'], 'not asked to batch again for a while');
  } finally {
    olderPeer = false;
  }
});

test('without the cluster secret: 401 and nothing stored', async () => {
  const remote = new RemoteChunkReplica('m1', url, wrong);
  const body = Buffer.from('intruder');
  try {
    await remote.putChunk(sha(body), own(body), body.length);
    assert.unreachable();
  } catch (e) {
    assert.is((e as { status?: number }).status, 401);
  }
  assert.is(await chunks.has(sha(body)), false);
  try {
    await new RemoteMetaReplica('m1', url, wrong).putVersion({} as ObjectVersion);
    assert.unreachable();
  } catch (e) {
    assert.is((e as { status?: number }).status, 401);
  }
});

test('bad input gets a clear JSON error, not a crash', async () => {
  const res = await fetch(`${url}/rpc/v1/meta/getVersion`, {
    method: 'POST',
    body: '{"args": [',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
  });
  assert.is(res.status, 400);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'InvalidRequest');
  const unknown = await fetch(`${url}/rpc/v1/meta/dropEverything`, {
    method: 'POST',
    body: '{"args":[]}',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
  });
  assert.is(unknown.status, 400);
  assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /unknown metadata call/);
});

test('an unreachable member fails fast with ServiceUnavailable', async () => {
  const remote = new RemoteChunkReplica('gone', `http://${loopbackAddress()}:9`, rpc);
  const t0 = Date.now();
  try {
    await remote.hasChunks(['x']);
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ServiceUnavailable');
  }
  assert.ok(Date.now() - t0 < 3000);
});

test("the replica directory: this member's own stores, the others over RPC at their current address", async () => {
  const local = { chunks: new LocalChunkReplica('self', chunks), meta: new LocalMetaReplica('self', meta) };
  const member = (id: string, cluster: string): Member => ({
    id,
    name: id,
    roles: ['node'],
    api: '',
    cluster,
    zone: '',
    weight: 1,
    state: 'active',
    capacityBytes: 0,
    usedBytes: 0,
    lastHeartbeat: 0,
  });
  const map = new Map([
    ['self', member('self', 'http://self.invalid')],
    ['m1', member('m1', url)],
  ]);
  const dir = new MemberReplicas({ selfId: 'self', member: (id) => map.get(id), local, rpc });
  assert.ok(dir.chunks('self') === local.chunks && dir.meta('self') === local.meta, 'no RPC to itself');
  const remote = dir.chunks('m1');
  assert.ok(remote instanceof RemoteChunkReplica);
  assert.ok(dir.chunks('m1') === remote, 'one client object per member');
  map.set('m1', member('m1', url.replace('http://', 'http://localhost.')));
  assert.ok(dir.chunks('m1') !== remote, 'a new address gets a new client object');
  assert.throws(() => dir.meta('nobody'), /not in the cluster map/);
  const rootOnly = new MemberReplicas({ selfId: 'self', member: (id) => map.get(id), rpc });
  assert.throws(() => rootOnly.chunks('self'), /stores no data/);
  const ofOne = new MemberReplicas({ selfId: 'self', member: (id) => map.get(id), local });
  assert.throws(() => ofOne.chunks('m1'), /cluster of one/);
});

test.run();
