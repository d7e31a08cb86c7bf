import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, statfs, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChunkStore } from './store.ts';
import { ChunkBuffer } from './buffer.ts';
import { isChunkError } from './errors.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let dir = '';

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-chunks-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('put/get round trip, idempotent put, used bytes and ids', async () => {
  const s = await ChunkStore.open(dir);
  const a = randomBytes(5000),
    b = randomBytes(100);
  await s.put(sha(a), a, a.length);
  await s.put(sha(a), a, a.length);
  await s.put(sha(b), Readable.from([b.subarray(0, 30), b.subarray(30)]), b.length);
  assert.ok((await s.get(sha(a))).bytes.equals(a));
  assert.ok((await s.get(sha(b))).bytes.equals(b));
  assert.is(s.usedBytes(), 5100);
  assert.is(s.chunkCount(), 2);
  const ids: string[] = [];
  for await (const id of s.ids()) ids.push(id);
  assert.equal(ids.sort(), [sha(a), sha(b)].sort());
  assert.ok(await s.has(sha(a)));
  // Files are where the layout says, and nothing is left in tmp.
  assert.ok((await readdir(join(dir, 'chunks', sha(a).slice(0, 2)))).includes(sha(a)));
  assert.equal(await readdir(join(dir, 'tmp')), []);
});

test('wrong hash or size is rejected and nothing is stored', async () => {
  const s = await ChunkStore.open(dir);
  const a = randomBytes(100);
  const wrong = sha(Buffer.from('other'));
  for (const body of [a, Readable.from([a])]) {
    try {
      await s.put(wrong, body, a.length);
      assert.unreachable();
    } catch (e) {
      assert.ok(isChunkError(e, 'ChunkHashMismatch'), String(e));
    }
  }
  try {
    await s.put(sha(a), Readable.from([a]), 50);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkSizeMismatch'), String(e));
  }
  assert.not.ok(await s.has(wrong));
  assert.not.ok(await s.has(sha(a)));
  assert.equal(await readdir(join(dir, 'tmp')), []);
  assert.is(s.usedBytes(), 0);
});

test('invalid ids never reach the file system', async () => {
  const s = await ChunkStore.open(dir);
  for (const id of ['../../etc/passwd', 'AB'.repeat(32), '']) {
    try {
      await s.get(id);
      assert.unreachable();
    } catch (e) {
      assert.ok(isChunkError(e, 'InvalidChunkId'), String(e));
    }
  }
});

test('missing and corrupt chunks are distinct errors; a put repairs a corrupt copy', async () => {
  const s = await ChunkStore.open(dir);
  const a = randomBytes(1000);
  try {
    await s.get(sha(a));
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkNotFound'));
  }
  await s.put(sha(a), a, a.length);
  const flipped = Buffer.from(a);
  flipped[500] ^= 1;
  await writeFile(s.path(sha(a)), flipped);
  try {
    await s.read(sha(a), { start: 0, end: 9 });
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkCorrupt'));
  }
  await s.put(sha(a), a, a.length);
  assert.ok((await s.read(sha(a), { start: 10, end: 19 })).bytes.equals(a.subarray(10, 20)));
});

test('delete; stale temp files are removed at open; counts survive reopen', async () => {
  let s = await ChunkStore.open(dir);
  const a = randomBytes(10),
    b = randomBytes(20);
  await s.put(sha(a), a, 10);
  await s.put(sha(b), b, 20);
  await s.delete(sha(a));
  await s.delete(sha(a));
  assert.not.ok(await s.has(sha(a)));
  await mkdir(join(dir, 'tmp'), { recursive: true });
  await writeFile(join(dir, 'tmp', 'leftover'), 'half a chunk');
  s = await ChunkStore.open(dir);
  assert.equal(await readdir(join(dir, 'tmp')), []);
  assert.is(s.usedBytes(), 20);
  assert.is(s.chunkCount(), 1);
  assert.ok((await s.capacityBytes()) > 0);
});

test('aborted streaming put leaves nothing', async () => {
  const s = await ChunkStore.open(dir);
  const ac = new AbortController();
  const a = randomBytes(100);
  const body = new Readable({ read() {} });
  const p = s.put(sha(a), body, 100, ac.signal);
  body.push(a.subarray(0, 50));
  await new Promise((r) => setImmediate(r));
  body.destroy(new Error('client went away'));
  try {
    await p;
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /went away/);
  }
  assert.not.ok(await s.has(sha(a)));
  assert.equal(await readdir(join(dir, 'tmp')), []);
});

test('collect deletes only an unchanged chunk; a re-put renews it so it is kept', async () => {
  const s = await ChunkStore.open(dir);
  const a = randomBytes(300),
    b = randomBytes(200);
  await s.put(sha(a), a, a.length);
  await s.put(sha(b), b, b.length);
  const { stat, utimes } = await import('node:fs/promises');
  const old = new Date(Date.now() - 3600_000);
  await utimes(s.path(sha(a)), old, old);
  const seen = (await stat(s.path(sha(a)))).mtimeMs;
  // Garbage collection races a new write of the same bytes: both are serialised, the put wins.
  const [freed] = await Promise.all([
    (async () => {
      await s.put(sha(a), a, a.length);
      return s.collect(sha(a), seen);
    })(),
  ]);
  assert.is(freed, 0);
  assert.ok(await s.has(sha(a)), 're-put chunk kept');
  assert.ok((await stat(s.path(sha(a)))).mtimeMs > seen, 'mtime renewed');
  const bSeen = (await stat(s.path(sha(b)))).mtimeMs;
  assert.is(await s.collect(sha(b), bSeen), 200);
  assert.not.ok(await s.has(sha(b)));
  assert.is(s.usedBytes(), 300);
});

test('chunks hashed off the event loop: a buffer hashed by the write path is stored as is, a wrong one rejected, on-disk rot caught on read', async () => {
  const s = await ChunkStore.open(dir);
  const src = randomBytes(1 << 20); // large enough for the hash workers
  const chunk = ChunkBuffer.take(src.length);
  src.copy(chunk.bytes);
  const id = await chunk.hash();
  await s.put(id, chunk, chunk.length);
  assert.ok(chunk.bytes.equals(src), "still the caller's after the put");
  chunk.release();
  assert.ok((await s.get(id)).bytes.equals(src));
  assert.ok((await s.read(id, { start: 10, end: 19 })).bytes.equals(src.subarray(10, 20)));
  // A large buffer nobody hashed in this process is verified, not trusted.
  const other = randomBytes(1 << 20);
  try {
    await s.put(id, other, other.length);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkHashMismatch'), String(e));
  }
  // A flipped byte on disk is caught before any byte is returned.
  const rotten = Buffer.from(src);
  rotten[12345] ^= 0xff;
  await writeFile(join(dir, 'chunks', id.slice(0, 2), id), rotten);
  try {
    await s.get(id);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkCorrupt'), String(e));
  }
  try {
    await s.read(id, { start: 0, end: 9 });
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkCorrupt'), String(e));
  }
});

// Direct I/O (issue 23). `fincore` (util-linux) counts a file's pages in the page cache: a chunk file
// written around it has none.
// (A file system that refuses O_DIRECT — tmpfs before Linux 6.6 — takes the fallback to the page
// cache; none is at hand here: tmpfs accepts it on this kernel.)
const TMPFS_MAGIC = 0x01021994;
const cachedPages = (path: string) => Number(execFileSync('fincore', ['--raw', '--noheadings', '--output', 'PAGES', path], { encoding: 'utf8' }).trim());
const filled = (size: number) => {
  const c = ChunkBuffer.take(size);
  randomFillSync(c.bytes);
  return c;
};

test('chunks in aligned buffers are written around the page cache, a short tail through it; other buffers through it', async () => {
  assert.is.not((await statfs(dir)).type, TMPFS_MAGIC, 'the test directory must be on a disk file system');
  const s = await ChunkStore.open(dir);
  const whole = filled(4 << 20); // a full chunk: pooled, page-aligned
  const odd = filled((1 << 20) + 100); // a body's last chunk: whole blocks direct, the 100-byte tail buffered
  for (const c of [whole, odd]) {
    assert.ok(c.aligned);
    await c.hash();
    await s.put(c.id!, c, c.length);
  }
  assert.is(s.directWrites, 2);
  assert.is(cachedPages(s.path(whole.id!)), 0);
  assert.is(cachedPages(s.path(odd.id!)), 1); // the tail's page only
  const plain = randomBytes(1 << 20); // a Buffer of unknown alignment: through the page cache
  await s.put(sha(plain), plain, plain.length);
  assert.is(s.directWrites, 2);
  assert.ok(cachedPages(s.path(sha(plain))) > 0);
  for (const [id, bytes] of [
    [whole.id!, whole.bytes],
    [odd.id!, odd.bytes],
    [sha(plain), plain],
  ] as const) {
    const got = await s.get(id);
    assert.ok(got.bytes.equals(bytes));
    got.release();
  }
  assert.is(s.usedBytes(), (4 << 20) + (1 << 20) + 100 + (1 << 20));
  assert.equal(await readdir(join(dir, 'tmp')), []);
  // Turned off: every chunk file through the page cache.
  const off = await ChunkStore.open(join(dir, 'off'), { directIo: false });
  const c = filled(1 << 20);
  await c.hash();
  await off.put(c.id!, c, c.length);
  assert.is(off.directWrites, 0);
  assert.ok((await off.get(c.id!)).bytes.equals(c.bytes));
});

// `written` says the bytes are no longer read (the write path then reuses the buffer while the fsync
// runs): whatever happens to them after it must not reach the disk. Here they are overwritten at once.
test('written: told once per put, after which the bytes are not read (direct, with a tail, buffered, already stored)', async () => {
  const s = await ChunkStore.open(dir);
  const off = await ChunkStore.open(join(dir, 'off'), { directIo: false });
  const cases: [string, ChunkStore, number][] = [
    ['direct', s, 4 << 20],
    ['direct with a buffered tail', s, (1 << 20) + 100],
    ['buffered', off, 1 << 20],
  ];
  for (const [what, store, size] of cases) {
    const c = filled(size);
    await c.hash();
    const want = Buffer.from(c.bytes);
    let told = 0;
    await store.put(c.id!, c, c.length, undefined, () => {
      told++;
      c.bytes.fill(0); // reused by the next chunk, as the write path may do now
    });
    assert.is(told, 1, what);
    const got = await store.get(c.id!); // verified against the id: zeros would be ChunkCorrupt
    assert.ok(got.bytes.equals(want), what);
    got.release();
    // Stored already: told at once, nothing written.
    let again = 0;
    const copy = ChunkBuffer.of(Buffer.from(want));
    await copy.hash();
    await store.put(c.id!, copy, copy.length, undefined, () => again++);
    assert.is(again, 1, `${what}, stored already`);
  }
  assert.is(s.directWrites, 2);
});

test.run();
