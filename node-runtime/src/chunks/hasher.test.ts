import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { allocChunk, BodyHasher, hashChunk, hashOwned, knownChunkId, recycleChunk, sha256Off, takeChunk } from './hasher.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('owned buffers are hashed by transfer and come back with the same bytes', async () => {
  const src = randomBytes(1 << 20);
  const b = allocChunk(src.length);
  src.copy(b);
  const { hex, data } = await hashOwned(b);
  assert.is(hex, sha(src));
  assert.is(b.length, 0, 'the original is detached while (and after) the worker had it');
  assert.is(data.length, src.length);
  assert.ok(data.equals(src));
});

test('other buffers stay usable: copied to a worker, or hashed on the spot when small', async () => {
  const big = randomBytes(300 * 1024);
  const view = Buffer.concat([randomBytes(10), big]).subarray(10);   // a view into a larger buffer
  assert.is(await sha256Off(view), sha(big));
  assert.ok(view.equals(big), 'still readable');
  const small = randomBytes(100);
  assert.equal(await hashOwned(small), { hex: sha(small), data: small });
  assert.is(await sha256Off(Buffer.alloc(0)), sha(Buffer.alloc(0)));
});

test('hashChunk remembers the id of the buffer it returns (and of no other)', async () => {
  const src = randomBytes(256 * 1024);
  const b = allocChunk(src.length);
  src.copy(b);
  const { id, chunk } = await hashChunk(b);
  assert.is(id, sha(src));
  assert.is(knownChunkId(chunk), id);
  assert.is(knownChunkId(Buffer.from(src)), undefined);
});

test('many concurrent hashes all answer correctly', async () => {
  const inputs = Array.from({ length: 24 }, (_, i) => randomBytes(64 * 1024 + i * 4096));
  const got = await Promise.all(inputs.map(async (src) => {
    const b = allocChunk(src.length);
    src.copy(b);
    return (await hashOwned(b)).hex;
  }));
  assert.equal(got, inputs.map(sha));
});

test('BodyHasher: the MD5 of the whole body and the SHA-256 of each chunk, in order, on a worker', async () => {
  const parts = [randomBytes(256 * 1024), randomBytes(256 * 1024), randomBytes(1000)];   // the last one small and not owned
  const h = new BodyHasher();
  const ids: string[] = [];
  for (const [i, p] of parts.entries()) {
    let input: Buffer = p;
    if (i < 2) { input = allocChunk(p.length); p.copy(input); }
    const { id, chunk } = await h.chunk(input);
    assert.ok(chunk.equals(p));
    assert.is(knownChunkId(chunk), id);
    ids.push(id);
  }
  assert.equal(ids, parts.map(sha));
  assert.is(await h.close(), createHash('md5').update(Buffer.concat(parts)).digest('hex'));
  assert.is(await h.close(), await h.close(), 'close is idempotent');
  // Two bodies hashed at once keep their MD5s apart.
  const [a, b] = [new BodyHasher(), new BodyHasher()];
  const [x, y] = [randomBytes(100 * 1024), randomBytes(100 * 1024)];
  await Promise.all([a.chunk(Buffer.from(x)), b.chunk(Buffer.from(y)), a.chunk(Buffer.from(y))]);
  assert.is(await a.close(), createHash('md5').update(Buffer.concat([x, y])).digest('hex'));
  assert.is(await b.close(), createHash('md5').update(y).digest('hex'));
});

test('chunk pool: a handed-back buffer is reused once, never twice; foreign buffers are ignored', async () => {
  const size = 128 * 1024;
  const a = takeChunk(size);
  recycleChunk(a);
  recycleChunk(a);   // a second hand-back must not let two takers share it
  const b = takeChunk(size), c = takeChunk(size);
  assert.ok(b === a, 'reused');
  assert.ok(c !== a, 'not handed out twice');
  recycleChunk(Buffer.alloc(size));          // never pooled: ignored
  assert.ok(takeChunk(size) !== b);
  // Through a worker and back, the returned buffer is the pooled one; the detached original is not.
  const { data } = await hashOwned(b);
  recycleChunk(b);
  recycleChunk(data);
  assert.ok(takeChunk(size) === data);
  assert.is(takeChunk(100_000).length, 100_000, 'other sizes are plain allocations');
});

// The file ends without closing anything: idle hash workers must not keep the process alive.
test.run();
