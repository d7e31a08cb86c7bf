// The pipelined write path: several chunks of one body upload at once, bounded, in body order in
// the result, and a failure or abort mid-body leaves nothing acknowledged into metadata.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { storeBody, DEFAULT_INFLIGHT, DURABLE_PER_INFLIGHT, type BodyPlan } from './write-path.ts';
import { ClusterObjectService } from './objects.ts';
import { testCluster, type TestCluster } from '../../test/data-cluster.ts';
import { isS3Error } from '../util/errors.ts';
import { waitFor } from '../../../hack/testing/net.ts';

const KiB = 1024;
const CHUNK = 64 * KiB;

let c: TestCluster | undefined;
test.after.each(async () => {
  await c?.close();
  c = undefined;
});

/** A body of `total` bytes pushed 16 KiB at a time; `produced` counts what left the source. */
function source(data: Buffer, onRead?: () => void): Readable & { produced: number } {
  let at = 0;
  const r = new Readable({
    highWaterMark: 16 * KiB,
    read() {
      onRead?.();
      if (at >= data.length) return this.push(null);
      const end = Math.min(data.length, at + 16 * KiB);
      this.push(data.subarray(at, end));
      at = end;
      r.produced = at;
    },
  }) as Readable & { produced: number };
  r.produced = 0;
  return r;
}

/** Wrap member m0's putChunk: every call waits for `gate()` before storing; counts concurrency. */
function instrument(cl: TestCluster, gate: (n: number) => Promise<void>) {
  const replica = cl.replicas.chunks('m0');
  const put = replica.putChunk.bind(replica);
  const s = { started: 0, active: 0, maxActive: 0, stored: 0, storedBytes: 0 };
  replica.putChunk = async (id, body, size, signal) => {
    const n = s.started++;
    s.active++;
    s.maxActive = Math.max(s.maxActive, s.active);
    try {
      await gate(n);
      await put(id, body, size, signal);
      s.stored++;
      s.storedBytes += size;
    } finally {
      s.active--;
    }
  };
  return s;
}

const plan = (over: Partial<BodyPlan> = {}): BodyPlan => ({ replicas: 1, inlineMax: 1 * KiB, chunkSize: CHUNK, timeoutMs: 5000, ...over });

test('pipelined: up to `inflight` chunks upload at once, never more; refs stay in body order', async () => {
  c = await testCluster(1);
  const data = randomBytes(20 * CHUNK + 123);
  // Later chunks finish first (each waits less than the one before): the result must still list
  // the chunks in body order, with the right ids.
  const stats = instrument(c, (n) => new Promise((r) => setTimeout(r, Math.max(0, 40 - 2 * n))));
  const depth = 4;
  const src = source(data);
  const stored = await storeBody(c.plane, src, plan({ size: data.length, inflight: depth }));
  assert.is(stored.size, data.length);
  assert.is(stored.md5, createHash('md5').update(data).digest('hex'));
  assert.is(stored.chunks.length, 21);
  assert.ok(stats.maxActive > 1, `uploads were not overlapped (max ${stats.maxActive} at once)`);
  assert.ok(stats.maxActive <= depth, `${stats.maxActive} uploads at once, bound is ${depth}`);
  for (let i = 0; i < stored.chunks.length; i++) {
    const part = data.subarray(i * CHUNK, (i + 1) * CHUNK);
    assert.is(stored.chunks[i].size, part.length);
    assert.is(stored.chunks[i].id, createHash('sha256').update(part).digest('hex'), `chunk ${i}`);
  }
});

test('bounded memory: the source runs at most about inflight + 2 chunks ahead of storage', async () => {
  c = await testCluster(1);
  const data = randomBytes(40 * CHUNK);
  let release: (() => void)[] = [];
  // Uploads wait until released; the reader is measured while they are held.
  const stats = instrument(c, () => new Promise<void>((r) => release.push(r)));
  let maxAhead = 0;
  const src = source(data, () => {
    maxAhead = Math.max(maxAhead, src.produced - stats.storedBytes);
  });
  const done = storeBody(c.plane, src, plan({ size: data.length }));
  // The pipeline fills up to its bound while nothing completes.
  await waitFor(() => release.length === DEFAULT_INFLIGHT, { timeoutMs: 5000, what: 'the pipeline to fill' });
  for (let i = 0; i < 200 && stats.stored < 40; i++) {
    await waitFor(() => release.length > 0 || stats.stored >= 40, { timeoutMs: 5000, what: 'an upload to wait' });
    assert.ok(stats.active <= DEFAULT_INFLIGHT, `${stats.active} uploads at once`);
    const r = release;
    release = [];
    for (const f of r) f();
    await new Promise((res) => setImmediate(res));
  }
  const stored = await done;
  assert.is(stored.chunks.length, 40);
  assert.is(stats.maxActive, DEFAULT_INFLIGHT, 'the pipeline filled up to its bound');
  assert.ok(maxAhead <= (DEFAULT_INFLIGHT + 2) * CHUNK, `source ran ${maxAhead} bytes ahead of storage`);
});

test('memory budget across streams: concurrent bodies never hold more than the budget, and every grant comes back', async () => {
  c = await testCluster(1);
  const chunkMemory = c.plane.memory.chunks;
  chunkMemory.resize(4 * CHUNK);
  {
    let maxUsed = 0;
    instrument(c, async () => {
      maxUsed = Math.max(maxUsed, chunkMemory.used);
      await new Promise((r) => setTimeout(r, 2));
    });
    const bodies = Array.from({ length: 6 }, () => randomBytes(12 * CHUNK + 7));
    const waitsBefore = chunkMemory.waits;
    const stored = await Promise.all(bodies.map((d) => storeBody(c!.plane, source(d), plan({ size: d.length }))));
    stored.forEach((s, i) => assert.is(s.md5, createHash('md5').update(bodies[i]).digest('hex')));
    assert.ok(maxUsed <= 4 * CHUNK, `${maxUsed} bytes held, budget ${4 * CHUNK}`);
    assert.ok(chunkMemory.waits > waitsBefore, 'six streams had to wait for memory');
    await waitFor(() => chunkMemory.used === 0, { timeoutMs: 2000, what: 'every grant to come back' });
    // A failing body gives its memory back too (a leak would stall every later write).
    c.replicas.chunks('m0').putChunk = async () => {
      throw new Error('disk on fire');
    };
    const d = randomBytes(10 * CHUNK);
    try {
      await storeBody(c.plane, source(d), plan({ size: d.length }));
      assert.unreachable();
    } catch (e) {
      assert.match(String(e), /disk on fire|quorum/);
    }
    await waitFor(() => chunkMemory.used === 0 && chunkMemory.waiters === 0, { timeoutMs: 2000, what: 'grants of the failed body to come back' });
  }
});

test('copies that read and write at once (UploadPartCopy-like) complete with tiny budgets, and every grant of both budgets comes back', async () => {
  c = await testCluster(2, { chunkSize: CHUNK, inlineMax: 1 * KiB, defaultReplicas: 1 });
  const svc = new ClusterObjectService(c.plane, { metaTimeoutMs: 2000, chunkTimeoutMs: 2000 });
  await svc.createBucket('bkt', { owner: 'me' });
  const data = randomBytes(12 * CHUNK);
  await svc.putObject('bkt', 'src', source(data), { size: data.length });
  const { chunks: chunkMemory, readAhead: readAheadMemory } = c.plane.memory;
  // Two chunks' worth each: every copy's write side waits for memory while its read side holds
  // read-ahead (kept in a budget of its own, so the two can never wait on each other).
  chunkMemory.resize(2 * CHUNK);
  readAheadMemory.resize(2 * CHUNK);
  {
    instrument(c, () => new Promise((res) => setTimeout(res, 3)));
    const copies = Array.from({ length: 4 }, async (_, i) => {
      const { body } = await svc.getObject('bkt', 'src');
      return svc.putObject('bkt', `copy-${i}`, body, { size: data.length });
    });
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('copies stalled')), 15_000));
    const done = (await Promise.race([Promise.all(copies), timeout])) as { etag: string }[];
    for (const v of done) assert.is(v.etag, createHash('md5').update(data).digest('hex'));
    await waitFor(() => chunkMemory.used === 0 && readAheadMemory.used === 0, { timeoutMs: 2000, what: 'every grant back' });
  }
});

test('a chunk failing mid-body: rejects, nothing still writing, no upload starts after it, nothing visible', async () => {
  c = await testCluster(1, { chunkSize: CHUNK, inlineMax: 1 * KiB, defaultReplicas: 1 });
  const svc = new ClusterObjectService(c.plane, { metaTimeoutMs: 2000, chunkTimeoutMs: 2000 });
  await svc.createBucket('bkt', { owner: 'me' });
  const stats = instrument(c, async (n) => {
    if (n === 5) throw new Error('disk on fire');
    await new Promise((r) => setTimeout(r, 5));
  });
  const data = randomBytes(30 * CHUNK);
  let err: unknown;
  try {
    await svc.putObject('bkt', 'broken', source(data), { size: data.length });
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the put must fail');
  assert.is(stats.active, 0, 'no chunk write is still running when the put rejects');
  const startedAtFailure = stats.started;
  assert.ok(startedAtFailure <= 5 + DEFAULT_INFLIGHT, `${startedAtFailure} uploads started: the failure did not stop the body`);
  try {
    await svc.headObject('bkt', 'broken');
    assert.unreachable('object visible');
  } catch (e) {
    assert.ok(isS3Error(e) && e.code === 'NoSuchKey', String(e));
  }
  const listed = await svc.listObjects('bkt', { maxKeys: 1000 });
  assert.is(listed.objects.length, 0);
  await new Promise((r) => setTimeout(r, 20));
  assert.is(stats.started, startedAtFailure, 'no upload started after the put failed');
});

test('abort mid-body with chunks in flight: rejects, nothing visible, a later put of the key works', async () => {
  c = await testCluster(1, { chunkSize: CHUNK, inlineMax: 1 * KiB, defaultReplicas: 1 });
  const svc = new ClusterObjectService(c.plane, { metaTimeoutMs: 2000, chunkTimeoutMs: 2000 });
  await svc.createBucket('bkt', { owner: 'me' });
  const ac = new AbortController();
  const stats = instrument(c, (n) => {
    if (n === 3) ac.abort(new Error('client disconnected'));
    return new Promise((r) => setTimeout(r, 10));
  });
  const data = randomBytes(30 * CHUNK);
  try {
    await svc.putObject('bkt', 'half', source(data), { size: data.length, signal: ac.signal });
    assert.unreachable('put succeeded');
  } catch (e) {
    assert.match(String(e), /disconnected|abort/i);
  }
  // The abort cancels the quorum at once; replica writes under way finish or fail by themselves.
  await waitFor(() => stats.active === 0, { timeoutMs: 5000, what: 'chunk writes to settle' });
  const startedAtAbort = stats.started;
  assert.ok(startedAtAbort <= 3 + DEFAULT_INFLIGHT + 1, `${startedAtAbort} uploads started: the abort did not stop the body`);
  try {
    await svc.headObject('bkt', 'half');
    assert.unreachable('object visible');
  } catch (e) {
    assert.ok(isS3Error(e) && e.code === 'NoSuchKey', String(e));
  }
  const small = randomBytes(3 * CHUNK);
  const v = await svc.putObject('bkt', 'half', source(small), { size: small.length });
  assert.is(v.size, small.length);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a chunk is let go once its writes have its bytes: more uploads than `inflight` wait on their fsyncs, within DURABLE_PER_INFLIGHT × it', async () => {
  c = await testCluster(1);
  const replica = c.replicas.chunks('m0');
  const put = replica.putChunk.bind(replica);
  let active = 0,
    maxActive = 0;
  replica.putChunk = async (id, body, size, signal, written) => {
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      await put(id, body, size, signal, written);
      await sleep(30); // a slow fsync: the bytes are with the disk, the write is not done
    } finally {
      active--;
    }
  };
  const data = randomBytes(24 * CHUNK + 5);
  const depth = 2;
  const stored = await storeBody(c.plane, source(data), plan({ size: data.length, inflight: depth }));
  assert.ok(maxActive > depth, `${maxActive} uploads at once: chunks were held until their writes were durable`);
  assert.ok(maxActive <= depth * DURABLE_PER_INFLIGHT, `${maxActive} uploads at once, bound is ${depth * DURABLE_PER_INFLIGHT}`);
  const back = Buffer.concat(
    await Promise.all(
      stored.chunks.map(async (ref) => {
        const got = await c!.stores[0].chunks.get(ref.id); // verified: bytes reused too soon would be corrupt
        const bytes = Buffer.from(got.bytes);
        got.release();
        return bytes;
      }),
    ),
  );
  assert.ok(back.equals(data));
});

test('a write that fails before it had the bytes keeps them for its stand-in, though the other write already let go', async () => {
  c = await testCluster(3);
  // m1 refuses every chunk a little after m0 and m2 have the bytes (their fsyncs still running).
  const refused = new Set<string>();
  for (const m of ['m0', 'm2']) {
    const replica = c.replicas.chunks(m);
    const put = replica.putChunk.bind(replica);
    replica.putChunk = async (id, body, size, signal, written) => {
      await put(id, body, size, signal, written);
      await sleep(60);
    };
  }
  c.replicas.chunks('m1').putChunk = async (id) => {
    await sleep(20);
    refused.add(id);
    throw new Error('m1 refuses chunks');
  };
  const data = randomBytes(12 * CHUNK);
  const stored = await storeBody(c.plane, source(data), plan({ replicas: 2, size: data.length }));
  assert.ok(refused.size > 0, 'no chunk was placed on m1: the test proves nothing');
  for (const ref of stored.chunks) {
    for (const i of [0, 2]) {
      const got = await c.stores[i].chunks.get(ref.id); // both copies, verified
      got.release();
    }
  }
});

test.run();
