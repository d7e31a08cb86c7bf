// The read path in a cluster: pieces held by other members are fetched two ahead (a remote fetch is
// a round trip), verified, and the stream stays bounded in memory and byte-exact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ClusterObjectService } from './objects.ts';
import { testCluster, type TestCluster } from '../../test/data-cluster.ts';

const KiB = 1024;
const CHUNK = 64 * KiB;
let c: TestCluster | undefined;
test.after.each(async () => {
  await c?.close();
  c = undefined;
});

test('3 members, R=1: remote pieces are prefetched two at a time, bounded, and the body is exact', async () => {
  c = await testCluster(3, { chunkSize: CHUNK, inlineMax: 1 * KiB, defaultReplicas: 1 });
  const svc = new ClusterObjectService(c.plane, { metaTimeoutMs: 2000, chunkTimeoutMs: 2000 });
  await svc.createBucket('bkt', { owner: 'me' });
  const data = randomBytes(40 * CHUNK + 999);
  await svc.putObject('bkt', 'obj', Readable.from([data]), { size: data.length });
  let fetched = 0,
    active = 0,
    maxActive = 0,
    remote = 0;
  for (const id of ['m0', 'm1', 'm2']) {
    const replica = c.replicas.chunks(id);
    const get = replica.getChunk.bind(replica);
    replica.getChunk = async (chunk, range, signal) => {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await new Promise((r) => setTimeout(r, 2)); // a round trip: lets the prefetches overlap
        const stream = await get(chunk, range, signal);
        // Counted once a replica has it (self is tried first and misses the chunks it lacks).
        fetched += range ? range.end - range.start + 1 : CHUNK;
        if (id !== 'm0') remote++;
        return stream;
      } finally {
        active--;
      }
    };
  }
  const { body } = await svc.getObject('bkt', 'obj');
  const parts: Buffer[] = [];
  let consumed = 0,
    maxAhead = 0;
  for await (const b of body) {
    parts.push(b as Buffer);
    consumed += (b as Buffer).length;
    maxAhead = Math.max(maxAhead, fetched - consumed);
    await new Promise((r) => setImmediate(r)); // a slow consumer
  }
  assert.ok(Buffer.concat(parts).equals(data), 'body differs');
  assert.ok(remote > 0, 'no piece came from another member');
  assert.ok(maxActive >= 2, `prefetches never overlapped (max ${maxActive} at once)`);
  assert.ok(maxAhead <= 4 * CHUNK, `fetched ${maxAhead} bytes ahead of the consumer`);
});

test('owned pieces: the next is fetched while the reader holds one; a reader that stops early leaves no read-ahead held', async () => {
  c = await testCluster(3, { chunkSize: CHUNK, inlineMax: 1 * KiB, defaultReplicas: 1 });
  const svc = new ClusterObjectService(c.plane, { metaTimeoutMs: 2000, chunkTimeoutMs: 2000 });
  await svc.createBucket('bkt', { owner: 'me' });
  const data = randomBytes(20 * CHUNK);
  await svc.putObject('bkt', 'obj', Readable.from([data]), { size: data.length });
  let fetched = 0;
  for (const id of ['m0', 'm1', 'm2']) {
    const replica = c.replicas.chunks(id);
    const get = replica.getChunk.bind(replica);
    replica.getChunk = async (...a) => {
      const piece = await get(...a);
      fetched++;
      return piece;
    };
  }
  const { pieces } = await svc.getObject('bkt', 'obj');
  assert.ok(pieces, 'a chunked object offers owned pieces');
  const got: Buffer[] = [];
  for await (const p of pieces!) {
    await new Promise((r) => setTimeout(r, 20)); // the reader sends this piece meanwhile
    // As with a Readable: while piece k goes out, piece k+1 is ready and the two after it (the
    // prefetch depth with several members) are fetched too.
    assert.ok(fetched >= got.length + 4, `${fetched} pieces fetched while the reader holds piece ${got.length}`);
    got.push(Buffer.from(p.bytes));
    p.release();
    if (got.length === 5) break;
  }
  assert.ok(Buffer.concat(got).equals(data.subarray(0, 5 * CHUNK)));
  const { readAhead } = c.plane.memory;
  const { waitFor } = await import('../../../hack/testing/net.ts');
  await waitFor(() => readAhead.used === 0, { timeoutMs: 2000, what: 'read-ahead of the abandoned body back' });
});

test.run();
