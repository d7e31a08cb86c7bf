// Remote replicas against a real member's stores over the cluster port: chunks streamed raw both
// ways, ranges, verification errors that come back as the same ChunkError a local store throws,
// metadata calls as JSON, and the cluster secret on every call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ChunkStore } from '../chunks/store.ts';
import { MetaStore } from '../meta/store.ts';
import { isChunkError } from '../chunks/errors.ts';
import { LocalChunkReplica, LocalMetaReplica } from '../data/local-replica.ts';
import type { ObjectVersion } from '../data/types.ts';
import { RpcClient } from './client.ts';
import { RemoteChunkReplica, RemoteMetaReplica } from './replicas-remote.ts';
import { rpcRouter } from './router.ts';
import type { MembershipAgent } from '../cluster/agent.ts';
import { loopbackAddress } from '../../../hack/testing/net.ts';
import { setLogLevel } from '../util/log.ts';

setLogLevel(process.env.CAIRN_LOG_LEVEL ?? 'error');

const SECRET = 'replica-test-secret';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

let dir: string, chunks: ChunkStore, meta: MetaStore, server: Server, url: string;
const rpc = new RpcClient({ secret: SECRET, retries: 1 });
const wrong = new RpcClient({ secret: 'not-the-secret', retries: 0 });

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-rpc-'));
  chunks = await ChunkStore.open(dir);
  meta = MetaStore.open(dir);
  const app = express();
  // The replica routes need no membership; an agent is only used by the map routes.
  app.use('/rpc/v1', rpcRouter({ secret: SECRET, agent: {} as MembershipAgent, local: { chunks: new LocalChunkReplica('m1', chunks), meta: new LocalMetaReplica('m1', meta) } }));
  const host = loopbackAddress();
  server = await new Promise<Server>((resolve) => { const s = app.listen(0, host, () => resolve(s)); });
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
  await remote.putChunk(sha(small), small, small.length);
  assert.equal(await remote.hasChunks([id, sha(small), sha(Buffer.from('absent'))]), [true, true, false]);
  await remote.deleteChunk(id);
  assert.equal(await remote.hasChunks([id]), [false]);
});

test('errors cross the wire as the chunk errors a local store throws', async () => {
  const remote = new RemoteChunkReplica('m1', url, rpc);
  const missing = sha(Buffer.from('never stored'));
  try { await remote.getChunk(missing); assert.unreachable(); } catch (e) { assert.ok(isChunkError(e, 'ChunkNotFound'), String(e)); }
  const body = Buffer.from('some bytes');
  try { await remote.putChunk(sha(Buffer.from('other bytes')), body, body.length); assert.unreachable(); }
  catch (e) { assert.ok(isChunkError(e, 'ChunkHashMismatch'), String(e)); }
  try { await remote.putChunk(sha(body), Readable.from([body]), body.length); } catch (e) { assert.unreachable(String(e)); }
  try { await remote.getChunk('../../etc/passwd'); assert.unreachable(); } catch (e) { assert.ok(isChunkError(e, 'InvalidChunkId'), String(e)); }
});

test('metadata calls as JSON: versions merge newest-wins, list and usage', async () => {
  const remote = new RemoteMetaReplica('m1', url, rpc);
  const v = (key: string, timestamp: number, size: number): ObjectVersion => ({
    bucket: 'b', key, versionId: `v${timestamp}`, timestamp, writer: 'w', deleted: false, size, etag: 'e', userMeta: {}, chunks: [], replicas: 1,
  });
  await remote.putVersion(v('a', 2, 10));
  const winner = await remote.putVersion(v('a', 1, 99));
  assert.is(winner.timestamp, 2, 'an older version does not replace a newer one');
  await remote.putVersion(v('c', 1, 5));
  assert.is((await remote.getVersion('b', 'a'))?.size, 10);
  assert.is(await remote.getVersion('b', 'zzz'), undefined);
  assert.equal((await remote.listVersions('b', { limit: 10 })).map((x) => x.key), ['a', 'c']);
  assert.equal(await remote.bucketUsage('b'), { objects: 2, bytes: 15 });
});

test('without the cluster secret: 401 and nothing stored', async () => {
  const remote = new RemoteChunkReplica('m1', url, wrong);
  const body = Buffer.from('intruder');
  try { await remote.putChunk(sha(body), body, body.length); assert.unreachable(); }
  catch (e) { assert.is((e as { status?: number }).status, 401); }
  assert.is(await chunks.has(sha(body)), false);
  try { await new RemoteMetaReplica('m1', url, wrong).putVersion({} as ObjectVersion); assert.unreachable(); }
  catch (e) { assert.is((e as { status?: number }).status, 401); }
});

test('bad input gets a clear JSON error, not a crash', async () => {
  const res = await fetch(`${url}/rpc/v1/meta/getVersion`, { method: 'POST', body: '{"args": [', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` } });
  assert.is(res.status, 400);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'InvalidRequest');
  const unknown = await fetch(`${url}/rpc/v1/meta/dropEverything`, { method: 'POST', body: '{"args":[]}', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` } });
  assert.is(unknown.status, 400);
  assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /unknown metadata call/);
});

test('an unreachable member fails fast with ServiceUnavailable', async () => {
  const remote = new RemoteChunkReplica('gone', `http://${loopbackAddress()}:9`, rpc);
  const t0 = Date.now();
  try { await remote.hasChunks(['x']); assert.unreachable(); }
  catch (e) { assert.is((e as { code?: string }).code, 'ServiceUnavailable'); }
  assert.ok(Date.now() - t0 < 3000);
});

test.run();
