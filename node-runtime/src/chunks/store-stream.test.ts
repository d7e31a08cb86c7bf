// Streamed chunk puts (the receiving side of a remote replica write) gather small network pieces
// into batched writes: the bytes on disk must be exactly the stream's, across batch boundaries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChunkStore } from './store.ts';
import { isChunkError } from './errors.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-chunks-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `data` cut into pieces of uneven sizes (1 byte to ~9 KiB), as a network delivers them. */
function pieces(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(data.length - at, 1 + ((i * 7919) % 9000));
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

test('a chunk streamed in hundreds of small pieces (several write batches) is stored byte for byte', async () => {
  const s = await ChunkStore.open(dir);
  const a = randomBytes(2 * 1024 * 1024 + 4567);
  const parts = pieces(a);
  assert.ok(parts.length > 300, `${parts.length} pieces`);
  await s.put(sha(a), Readable.from(parts), a.length);
  assert.ok((await s.get(sha(a))).bytes.equals(a));
});

test('a streamed chunk longer than declared is rejected mid-stream, nothing stored or left in tmp', async () => {
  const s = await ChunkStore.open(dir);
  const a = randomBytes(1536 * 1024);
  try {
    await s.put(sha(a), Readable.from(pieces(a)), a.length - 1);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkSizeMismatch'), String(e));
  }
  try {
    await s.put(sha(a), Readable.from(pieces(a)), a.length + 1);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkSizeMismatch'), String(e));
  }
  assert.not.ok(await s.has(sha(a)));
  assert.equal(await readdir(join(dir, 'tmp')), []);
});

test.run();
