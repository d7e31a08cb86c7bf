// The chunker: turns an object body (a Readable of arbitrary pieces) into chunk Buffers of exactly
// `chunkSize` bytes (the last one shorter). The boundary arithmetic is a pure function; the shell
// pulls from the stream only when the consumer asks for the next chunk, so memory stays at about
// one chunk being filled plus the one the consumer holds, whatever the object size (back pressure:
// an async iterator pauses the source while we do not read from it).
import type { Readable } from 'node:stream';
import { OFF_THREAD_MIN, takeChunk } from './hasher.ts';

/**
 * Where a piece of `pieceLength` bytes, arriving when `filled` bytes of the current chunk are
 * already buffered, completes chunks: the offsets inside the piece just after each chunk's last byte.
 * E.g. cutPoints(3, 10, 4) → [1, 5, 9] (chunk ends after 1 byte, then every 4).
 */
export function cutPoints(filled: number, pieceLength: number, chunkSize: number): number[] {
  if (!(chunkSize > 0) || !Number.isInteger(chunkSize)) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  if (filled < 0 || filled >= chunkSize) throw new RangeError(`filled must be in [0, chunkSize), got ${filled}`);
  const cuts: number[] = [];
  for (let at = chunkSize - filled; at <= pieceLength; at += chunkSize) cuts.push(at);
  return cuts;
}

/**
 * Yield the body as chunks of `chunkSize` bytes. An empty body yields nothing. Errors of the source
 * (including an abort) propagate to the consumer's `for await`.
 */
export async function* chunkStream(body: AsyncIterable<Buffer | Uint8Array | string> | Readable, chunkSize: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let filled = 0;
  for await (const raw of body as AsyncIterable<Buffer | Uint8Array | string>) {
    const piece = typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let from = 0;
    for (const cut of cutPoints(filled, piece.length, chunkSize)) {
      parts.push(piece.subarray(from, cut));
      // The copy keeps the chunk from pinning the (possibly larger) source pieces; big chunks get
      // memory of their own, so a hash worker can take them by transfer (chunks/hasher.ts).
      yield joinPieces(parts, chunkSize);
      parts = [];
      filled = 0;
      from = cut;
    }
    if (from < piece.length) {
      const rest = piece.subarray(from);
      parts.push(rest);
      filled += rest.length;
    }
  }
  if (filled > 0) yield joinPieces(parts, filled);
}

function joinPieces(parts: Buffer[], total: number): Buffer {
  if (total < OFF_THREAD_MIN) return Buffer.concat(parts, total);
  const out = takeChunk(total);
  let at = 0;
  for (const p of parts) at += p.copy(out, at);
  return out;
}
