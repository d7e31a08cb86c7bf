import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { allocChunk, hashChunk, hashOwned, knownChunkId, sha256Off } from './hasher.ts';

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

// The file ends without closing anything: idle hash workers must not keep the process alive.
test.run();
