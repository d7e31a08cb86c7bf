import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { cutPoints, chunkStream } from './chunker.ts';

test('cutPoints: boundaries inside a piece', () => {
  assert.equal(cutPoints(0, 10, 4), [4, 8]);
  assert.equal(cutPoints(3, 10, 4), [1, 5, 9]);
  assert.equal(cutPoints(0, 3, 4), []);
  assert.equal(cutPoints(2, 2, 4), [2]);
  assert.equal(cutPoints(0, 0, 4), []);
  assert.equal(cutPoints(0, 4, 4), [4]);
});

test('cutPoints: rejects nonsense', () => {
  assert.throws(() => cutPoints(0, 1, 0), /chunkSize/);
  assert.throws(() => cutPoints(4, 1, 4), /filled/);
});

async function collect(body: Readable, size: number) {
  const out: Buffer[] = [];
  for await (const c of chunkStream(body, size)) out.push(c);
  return out;
}

test('chunkStream: exact sizes across odd piece boundaries, bytes preserved', async () => {
  const data = randomBytes(10_000);
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length;) { const n = 1 + ((i * 7919) % 1500); pieces.push(data.subarray(i, i + n)); i += n; }
  const chunks = await collect(Readable.from(pieces), 1024);
  assert.equal(chunks.map((c) => c.length), [...Array(9).fill(1024), 10_000 - 9 * 1024]);
  assert.ok(Buffer.concat(chunks).equals(data));
});

test('chunkStream: empty body yields nothing; exact multiple has no empty tail', async () => {
  assert.equal((await collect(Readable.from([]), 8)).length, 0);
  const chunks = await collect(Readable.from([Buffer.alloc(16, 1)]), 8);
  assert.equal(chunks.map((c) => c.length), [8, 8]);
});

test('chunkStream: back pressure — a 64 MiB body is pulled lazily, never buffered whole', async () => {
  const chunkSize = 1024 * 1024;
  const total = 64 * chunkSize;
  let produced = 0;
  let maxAhead = 0;
  let consumed = 0;
  const src = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (produced >= total) return this.push(null);
      produced += 64 * 1024;
      this.push(Buffer.alloc(64 * 1024, produced & 0xff));
    },
  });
  const h = createHash('sha256');
  for await (const c of chunkStream(src, chunkSize)) {
    consumed += c.length;
    maxAhead = Math.max(maxAhead, produced - consumed);
    h.update(c);
  }
  assert.is(consumed, total);
  // The source never ran more than ~2 chunks ahead of the consumer.
  assert.ok(maxAhead <= 2 * chunkSize + 256 * 1024, `source ran ${maxAhead} bytes ahead`);
});

test('chunkStream: source error propagates', async () => {
  const src = new Readable({ read() { this.destroy(new Error('boom')); } });
  try { await collect(src, 4); assert.unreachable(); } catch (e) { assert.match(String(e), /boom/); }
});

test.run();
