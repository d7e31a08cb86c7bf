// ChunkBuffer: one holder, one end. Released memory is reused once and never handed out twice, a
// second release (or a discard after a release) changes nothing, the grant goes back exactly once,
// and touching the bytes after the end is an error rather than someone else's data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { ChunkBuffer, POOL_IDLE_MS, freeChunkBytes } from './buffer.ts';
import { MemoryBudget } from './memory.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let size = 128 * 1024; // each test its own pooled size, so the pool starts empty for it
const nextSize = () => (size *= 2);

test('a released buffer is reused once, never twice: a double release is a no-op', () => {
  const n = nextSize();
  const a = ChunkBuffer.take(n);
  const mem = a.bytes;
  const free = freeChunkBytes();
  a.release();
  a.release();
  a.discard();
  assert.is(freeChunkBytes(), free + n, 'pooled once');
  const b = ChunkBuffer.take(n),
    c = ChunkBuffer.take(n);
  assert.ok(b.bytes === mem, 'reused');
  assert.ok(c.bytes !== mem, 'not handed out twice');
  b.release();
  c.release();
});

test('using the bytes after the end throws, whether released or discarded', () => {
  const a = ChunkBuffer.take(nextSize());
  a.release();
  assert.ok(a.ended);
  assert.throws(() => a.bytes, /used after it was released/);
  const b = ChunkBuffer.of(Buffer.from('some bytes'));
  b.discard();
  assert.throws(() => b.bytes, /used after it was discarded/);
  assert.throws(() => b.narrow(0, 1), /used after/);
});

test('a discarded buffer is not pooled: someone may still hold its bytes', () => {
  const n = nextSize();
  const a = ChunkBuffer.take(n);
  const free = freeChunkBytes();
  a.discard();
  a.release();
  assert.is(freeChunkBytes(), free);
});

test('the grant goes back exactly once, with the end of the buffer (also when the grant came later)', async () => {
  const budget = new MemoryBudget(1 << 20);
  const a = ChunkBuffer.take(64 * 1024, await budget.take(64 * 1024));
  assert.is(budget.used, 64 * 1024);
  a.release();
  a.release();
  a.discard();
  assert.is(budget.used, 0);
  const b = ChunkBuffer.of(Buffer.alloc(10)).holdUnder(await budget.take(1000));
  assert.is(budget.used, 1000);
  b.discard();
  assert.is(budget.used, 0);
  ChunkBuffer.of(Buffer.alloc(1)).holdUnder(budget.tryTake(5)!).release();
  const ended = ChunkBuffer.of(Buffer.alloc(1));
  ended.release();
  ended.holdUnder(budget.tryTake(7)!);
  assert.is(budget.used, 0, 'a grant handed to an ended buffer goes straight back');
});

test('hashing by transfer keeps the bytes, remembers the id, and holds the bytes meanwhile', async () => {
  const src = randomBytes(nextSize());
  const a = ChunkBuffer.take(src.length);
  src.copy(a.bytes);
  const hashing = a.hash();
  assert.throws(() => a.bytes, /hash worker holds its memory/);
  assert.is(await hashing, sha(src));
  assert.is(a.id, sha(src));
  assert.ok(a.bytes.equals(src));
  const free = freeChunkBytes();
  a.release();
  assert.is(freeChunkBytes(), free + src.length, 'the memory that came back is pooled');
  // Released while the worker had it: the id still comes back, the memory is left to the GC.
  const b = ChunkBuffer.take(src.length);
  src.copy(b.bytes);
  const late = b.hash();
  b.release();
  assert.is(await late, sha(src));
  assert.is(freeChunkBytes(), free, 'not pooled: it was not here when released');
  // Small and foreign buffers are hashed without a transfer and stay readable.
  const small = ChunkBuffer.of(Buffer.from('tiny'));
  assert.is(await small.hash(), sha(Buffer.from('tiny')));
  assert.is(small.bytes.toString(), 'tiny');
});

test('narrow exposes a range of the same memory; shrink moves the bytes and the grant to a buffer of their size', async () => {
  const src = randomBytes(nextSize());
  const a = ChunkBuffer.take(src.length);
  src.copy(a.bytes);
  assert.ok(a.narrow(10, 19).bytes.equals(src.subarray(10, 20)));
  assert.is(a.length, 10);
  assert.throws(() => a.narrow(5, 10), /outside chunk/);
  const free = freeChunkBytes();
  a.release();
  assert.is(freeChunkBytes(), free + src.length, 'the whole allocation goes back, not the view');

  const budget = new MemoryBudget(1 << 22);
  const big = ChunkBuffer.take(1 << 20, await budget.take(1 << 20));
  big.bytes.fill(7, 0, 100_000);
  const last = big.shrink(100_000);
  assert.ok(big.ended);
  assert.is(last.length, 100_000);
  assert.ok(last.bytes.every((x) => x === 7));
  assert.is(budget.used, 1 << 20, 'the grant moved with the bytes');
  last.release();
  assert.is(budget.used, 0);
});

test('a pool left idle is emptied, so a node at rest holds no chunk memory; a busy one keeps recycling', async () => {
  const n = nextSize();
  const a = ChunkBuffer.take(n);
  a.release();
  assert.ok(freeChunkBytes() >= n);
  await new Promise((r) => setTimeout(r, POOL_IDLE_MS / 2));
  const b = ChunkBuffer.take(n); // in use again: the idle clock starts over
  b.release();
  await new Promise((r) => setTimeout(r, POOL_IDLE_MS / 2 + 100));
  assert.ok(freeChunkBytes() >= n, 'still pooled while in use');
  await new Promise((r) => setTimeout(r, POOL_IDLE_MS));
  assert.is(freeChunkBytes(), 0, 'emptied after the idle time');
});

test.run();
