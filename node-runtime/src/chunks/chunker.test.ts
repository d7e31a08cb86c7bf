import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { chunkStream } from './chunker.ts';
import { MemoryBudget } from './memory.ts';

async function collect(body: Readable, size: number) {
  const out: Buffer[] = [];
  for await (const c of chunkStream(body, size)) {
    out.push(c.bytes);
    c.discard();
  }
  return out;
}

test('chunkStream: exact sizes across odd piece boundaries, bytes preserved', async () => {
  const data = randomBytes(10_000);
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; ) {
    const n = 1 + ((i * 7919) % 1500);
    pieces.push(data.subarray(i, i + n));
    i += n;
  }
  const chunks = await collect(Readable.from(pieces), 1024);
  assert.equal(
    chunks.map((c) => c.length),
    [...Array(9).fill(1024), 10_000 - 9 * 1024],
  );
  assert.ok(Buffer.concat(chunks).equals(data));
});

test('chunkStream: empty body yields nothing; exact multiple has no empty tail', async () => {
  assert.equal((await collect(Readable.from([]), 8)).length, 0);
  const chunks = await collect(Readable.from([Buffer.alloc(16, 1)]), 8);
  assert.equal(
    chunks.map((c) => c.length),
    [8, 8],
  );
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
    h.update(c.bytes);
    c.release();
  }
  assert.is(consumed, total);
  // The source never ran more than ~2 chunks ahead of the consumer.
  assert.ok(maxAhead <= 2 * chunkSize + 256 * 1024, `source ran ${maxAhead} bytes ahead`);
});

test('chunkStream: buffers sized to the declared length, each reserved before it is filled; a short body still ends whole', async () => {
  const data = randomBytes(2500);
  const reserved: number[] = [];
  const pieces = [data.subarray(0, 700), data.subarray(700, 2500)];
  const chunks: Buffer[] = [];
  const budget = new MemoryBudget(1 << 20);
  const reserve = async (n: number) => {
    reserved.push(n);
    return budget.take(n);
  };
  for await (const c of chunkStream(Readable.from(pieces), 1024, { size: 2500, reserve })) {
    assert.is(budget.used, c.length, 'each chunk holds its grant (the next is reserved only when its bytes arrive)');
    chunks.push(c.bytes);
    c.release();
  }
  assert.is(budget.used, 0, 'every grant given back with its chunk');
  assert.equal(reserved, [1024, 1024, 452]);
  assert.equal(
    chunks.map((c) => c.length),
    [1024, 1024, 452],
  );
  assert.ok(Buffer.concat(chunks).equals(data));
  // Declared longer than sent: the last chunk is cut to what arrived (the caller reports IncompleteBody).
  const short: Buffer[] = [];
  for await (const c of chunkStream(Readable.from([data.subarray(0, 1100)]), 1024, { size: 5000 })) {
    short.push(c.bytes);
    c.discard();
  }
  assert.equal(
    short.map((c) => c.length),
    [1024, 76],
  );
  assert.ok(Buffer.concat(short).equals(data.subarray(0, 1100)));
  // Nothing reserved for an empty body.
  const none: number[] = [];
  for await (const _ of chunkStream(Readable.from([]), 1024, {
    size: 0,
    reserve: async (n) => {
      none.push(n);
      return budget.take(n);
    },
  }))
    assert.unreachable();
  assert.equal(none, []);
});

test('chunkStream: source error propagates', async () => {
  const src = new Readable({
    read() {
      this.destroy(new Error('boom'));
    },
  });
  try {
    await collect(src, 4);
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /boom/);
  }
});

test('chunkStream: a chunk being filled when the body fails gives its grant back', async () => {
  const budget = new MemoryBudget(1 << 20);
  let sent = false;
  const src = new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(100_000));
      } else this.destroy(new Error('cut'));
    },
  });
  try {
    for await (const c of chunkStream(src, 128 * 1024, { reserve: (n) => budget.take(n) })) {
      c.release();
      assert.unreachable();
    }
  } catch (e) {
    assert.match(String(e), /cut/);
  }
  assert.is(budget.used, 0);
});

test.run();
