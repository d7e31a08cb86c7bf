import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { BodyHasher, hashByTransfer, sha256Off } from './hasher.ts';
import { ChunkBuffer } from './buffer.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('memory of its own is hashed by transfer and comes back with the same bytes', async () => {
  const src = randomBytes(1 << 20);
  const b = Buffer.allocUnsafeSlow(src.length);
  src.copy(b);
  const { hex, back } = await hashByTransfer(b);
  assert.is(hex, sha(src));
  assert.is(b.length, 0, 'the original is detached while (and after) the worker had it');
  assert.ok(back.equals(src));
});

test('other buffers stay usable: copied to a worker, or hashed on the spot when small', async () => {
  const big = randomBytes(300 * 1024);
  const view = Buffer.concat([randomBytes(10), big]).subarray(10); // a view into a larger buffer
  assert.is(await sha256Off(view), sha(big));
  assert.ok(view.equals(big), 'still readable');
  assert.is(await sha256Off(Buffer.alloc(0)), sha(Buffer.alloc(0)));
});

test('many concurrent hashes all answer correctly', async () => {
  const inputs = Array.from({ length: 24 }, (_, i) => randomBytes(64 * 1024 + i * 4096));
  const got = await Promise.all(
    inputs.map(async (src) => {
      const b = Buffer.allocUnsafeSlow(src.length);
      src.copy(b);
      return (await hashByTransfer(b)).hex;
    }),
  );
  assert.equal(got, inputs.map(sha));
});

test('BodyHasher: the MD5 of the whole body and the SHA-256 of each chunk, in order, on a worker', async () => {
  const parts = [randomBytes(256 * 1024), randomBytes(256 * 1024), randomBytes(1000)]; // the last one small and foreign
  const h = new BodyHasher();
  const ids: string[] = [];
  for (const [i, p] of parts.entries()) {
    const c = i < 2 ? ChunkBuffer.take(p.length) : ChunkBuffer.of(Buffer.from(p));
    if (i < 2) p.copy(c.bytes);
    const id = await c.hash(h);
    assert.ok(c.bytes.equals(p));
    assert.is(c.id, id);
    ids.push(id);
    c.release();
  }
  assert.equal(ids, parts.map(sha));
  assert.is(await h.close(), createHash('md5').update(Buffer.concat(parts)).digest('hex'));
  assert.is(await h.close(), await h.close(), 'close is idempotent');
  // Two bodies hashed at once keep their MD5s apart.
  const [a, b] = [new BodyHasher(), new BodyHasher()];
  const [x, y] = [randomBytes(100 * 1024), randomBytes(100 * 1024)];
  await Promise.all([ChunkBuffer.of(Buffer.from(x)).hash(a), ChunkBuffer.of(Buffer.from(y)).hash(b), ChunkBuffer.of(Buffer.from(y)).hash(a)]);
  assert.is(
    await a.close(),
    createHash('md5')
      .update(Buffer.concat([x, y]))
      .digest('hex'),
  );
  assert.is(await b.close(), createHash('md5').update(y).digest('hex'));
});

test('BodyHasher: chunks hashed side by side (as the write path pipelines them) still make the MD5 of the body in order', async () => {
  const parts = Array.from({ length: 8 }, (_, i) => randomBytes(128 * 1024 + i * 4096));
  const h = new BodyHasher();
  const ids = await Promise.all(
    parts.map((p) => {
      const c = ChunkBuffer.of(Buffer.from(p));
      return c.hash(h).then((id) => {
        assert.ok(c.bytes.equals(p), 'the bytes come back whole');
        return id;
      });
    }),
  );
  assert.equal(ids, parts.map(sha));
  assert.is(await h.close(), createHash('md5').update(Buffer.concat(parts)).digest('hex'));
});

// The file ends without closing anything: idle hash workers must not keep the process alive.
test.run();
