// Reading an encrypted version (data/sse.ts): each chunk it touches is fetched whole (and verified
// by its hash, as any chunk), decrypted with the object's data key and its own nonce, and only then
// cut to the range asked for. Offsets count plaintext bytes: a stored chunk is its plaintext plus
// the cipher's 16-byte tag.
import { Readable } from 'node:stream';
import { s3Error } from '../util/errors.ts';
import { fetchPiece, streamOf } from './read-path.ts';
import type { DataPlane } from './replicas.ts';
import { decryptChunk, seqParts, TAG_BYTES } from './sse.ts';
import type { ChunkRef, ObjectVersion } from './types.ts';

interface Slice {
  ref: ChunkRef;
  from: number;
  to: number;
} // plaintext offsets within the chunk, inclusive

function slicesFor(chunks: ChunkRef[], start: number, end: number): Slice[] {
  const out: Slice[] = [];
  let offset = 0;
  for (const ref of chunks) {
    const plain = ref.size - TAG_BYTES;
    const cStart = offset,
      cEnd = offset + plain - 1;
    offset += plain;
    if (plain <= 0 || cEnd < start) continue;
    if (cStart > end) break;
    out.push({ ref, from: Math.max(start, cStart) - cStart, to: Math.min(end, cEnd) - cStart });
  }
  return out;
}

async function plaintextOf(plane: DataPlane, s: Slice, dataKey: Buffer, signal?: AbortSignal): Promise<Buffer> {
  if (s.ref.seq === undefined) throw s3Error('InternalError', `encrypted chunk ${s.ref.id.slice(0, 12)} has no place recorded`);
  const data = await fetchPiece(plane, { id: s.ref.id, chunkSize: s.ref.size, start: 0, end: s.ref.size - 1 }, signal);
  try {
    const { part, index } = seqParts(s.ref.seq);
    return decryptChunk(dataKey, part, index, data.bytes).subarray(s.from, s.to + 1);
  } finally {
    data.release();
  }
}

/** The plaintext of an encrypted version over [start, end]; the first chunk is read before this resolves. */
export async function openSealedBody(
  plane: DataPlane,
  v: ObjectVersion,
  range: { start: number; end: number } | undefined,
  dataKey: Buffer,
  signal?: AbortSignal,
): Promise<{ body: Readable; bytes?: Buffer }> {
  const start = range?.start ?? 0;
  const end = range?.end ?? v.size - 1;
  if (v.inline !== undefined) {
    const plain = v.inline === '' ? Buffer.alloc(0) : decryptChunk(dataKey, 0, 0, Buffer.from(v.inline, 'base64'));
    const bytes = end >= start ? plain.subarray(start, end + 1) : Buffer.alloc(0);
    return { body: streamOf(bytes), bytes };
  }
  const slices = end >= start ? slicesFor(v.chunks, start, end) : [];
  const first = slices.length ? await plaintextOf(plane, slices[0], dataKey, signal) : undefined;
  async function* all(): AsyncGenerator<Buffer> {
    if (first) yield first;
    for (let i = 1; i < slices.length; i++) yield await plaintextOf(plane, slices[i], dataKey, signal);
  }
  return { body: Readable.from(all(), { objectMode: false }) };
}
