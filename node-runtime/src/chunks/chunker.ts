// The chunker: turns an object body (a Readable of arbitrary pieces) into chunk Buffers of exactly
// `chunkSize` bytes (the last one shorter). It pulls from the stream only when the consumer asks for
// the next chunk, so memory stays at about one chunk being filled plus the ones the consumer holds,
// whatever the object size (back pressure: an async iterator pauses the source while we do not read
// from it), and every chunk's memory can be reserved from the node's budget before it is filled.
// Each chunk is a ChunkBuffer holding its grant: the consumer owns it and ends it.
import type { Readable } from 'node:stream';
import { OFF_THREAD_MIN } from './hasher.ts';
import { ChunkBuffer } from './buffer.ts';
import { noGrant, type Grant } from './memory.ts';
import { consumed } from '../util/gc.ts';

export interface ChunkingOptions {
  /** The declared body length: chunk buffers are sized to what is left of it (a 4 KiB body gets 4 KiB, not a chunk). */
  size?: number;
  /** Called before the first byte of each chunk is taken, with that chunk's buffer size: the grant
   *  the chunk is held under (memory budget, see memory.ts). A fill's grant is told of every piece
   *  copied into it (`progress`), so a body that stops sending can be told apart from one that sends. */
  reserve?: (bytes: number) => Promise<Grant>;
}

/**
 * Yield the body as chunks of `chunkSize` bytes. An empty body yields nothing. Errors of the source
 * (including an abort) propagate to the consumer's `for await`. Each piece is copied into the
 * chunk's own buffer as it arrives (one copy, no list of pieces held alongside it); large chunks get
 * memory of their own, so a hash worker can take them by transfer (chunks/hasher.ts). A chunk being
 * filled when the body fails or the consumer stops is ended here, its grant given back.
 */
export async function* chunkStream(
  body: AsyncIterable<Buffer | Uint8Array | string> | Readable,
  chunkSize: number,
  o: ChunkingOptions = {},
): AsyncGenerator<ChunkBuffer> {
  if (!(chunkSize > 0) || !Number.isInteger(chunkSize)) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  let cur: ChunkBuffer | undefined; // the chunk being filled
  let grant: Grant = noGrant; // its grant
  let filled = 0;
  let emitted = 0; // bytes of the chunks already yielded
  try {
    for await (const raw of body as AsyncIterable<Buffer | Uint8Array | string>) {
      const piece = typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      let from = 0;
      while (from < piece.length) {
        if (!cur) {
          const left = o.size !== undefined ? o.size - emitted : 0;
          const size = left > 0 ? Math.min(chunkSize, left) : chunkSize;
          grant = (await o.reserve?.(size)) ?? noGrant;
          cur = size >= OFF_THREAD_MIN ? ChunkBuffer.take(size, grant) : ChunkBuffer.of(Buffer.allocUnsafe(size), grant);
        }
        const n = piece.copy(cur.bytes, filled, from);
        grant.progress?.();
        filled += n;
        from += n;
        if (filled === cur.length) {
          grant.filled?.();
          const full = cur;
          cur = undefined;
          emitted += filled;
          filled = 0;
          yield full;
        }
      }
      consumed(piece.length); // its bytes are in `cur` now (see util/gc.ts)
    }
    if (cur && filled > 0) {
      grant.filled?.();
      const last = cur.shrink(filled); // the bytes in a buffer of their own size, with the grant
      cur = undefined;
      yield last;
    }
  } finally {
    cur?.release(); // never yielded: nothing else saw its bytes
  }
}

/**
 * Copy a body into `bytes` from the start, piece by piece, each piece counted for the byte-paced
 * collections (util/gc.ts). The bytes copied, or undefined as soon as the body is longer than
 * `bytes` (the body is not read further). For a chunk whose length is known before it arrives.
 */
export async function fillFrom(body: AsyncIterable<Buffer>, bytes: Buffer): Promise<number | undefined> {
  let filled = 0;
  for await (const piece of body) {
    if (filled + piece.length > bytes.length) return undefined;
    filled += piece.copy(bytes, filled);
    consumed(piece.length); // copied: the piece is garbage
  }
  return filled;
}
