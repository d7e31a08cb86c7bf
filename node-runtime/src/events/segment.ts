// Outbox segment files: length-prefixed, CRC-checked records, read back up to the first torn or corrupt one.
//
// A record is a 24-byte header then the payload:
//   u32 LE payload length | u32 LE CRC-32 of everything after it | u64 LE sequence number | f64 LE append time (ms) | payload
// The sequence number is stored although it follows from the segment's base, so a scan notices a
// record that is not where it should be. A file is only ever appended to; a crash mid-append leaves
// a torn tail (a short record, or one whose CRC does not match), which a scan stops before.
import { open, readdir, readFile, truncate } from 'node:fs/promises';
import { logger } from '../util/log.ts';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export const HEADER_BYTES = 24;
/** One sparse index entry (a byte offset) every this many records: a read seeks there and skips forward. */
export const INDEX_EVERY = 64;

export interface StoredRecord {
  seq: number;
  at: number;
  payload: Buffer;
  size: number;
}

export function encodeRecord(seq: number, at: number, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeBigUInt64LE(BigInt(seq), 8);
  buf.writeDoubleLE(at, 16);
  payload.copy(buf, HEADER_BYTES);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

export interface Decoded {
  records: StoredRecord[];
  consumed: number; // bytes of whole, valid records
  needed?: number; // the next record is longer than what was given: its full size
  corrupt: boolean; // stopped at a record that cannot be valid (CRC, length, sequence)
}

/** The records at the start of `buf`, stopping at the first incomplete or invalid one. */
export function decodeRecords(buf: Buffer, expectSeq: number | undefined, maxPayload: number): Decoded {
  const records: StoredRecord[] = [];
  let pos = 0;
  while (pos + HEADER_BYTES <= buf.length) {
    const len = buf.readUInt32LE(pos);
    if (len > maxPayload) return { records, consumed: pos, corrupt: true };
    const size = HEADER_BYTES + len;
    if (pos + size > buf.length) return { records, consumed: pos, needed: size, corrupt: false };
    if (crc32(buf.subarray(pos + 8, pos + size)) !== buf.readUInt32LE(pos + 4)) return { records, consumed: pos, corrupt: true };
    const seq = Number(buf.readBigUInt64LE(pos + 8));
    if (expectSeq !== undefined && seq !== expectSeq + records.length) return { records, consumed: pos, corrupt: true };
    records.push({ seq, at: buf.readDoubleLE(pos + 16), payload: buf.subarray(pos + HEADER_BYTES, pos + size), size });
    pos += size;
  }
  return { records, consumed: pos, needed: pos < buf.length ? HEADER_BYTES : undefined, corrupt: false };
}

export const segmentFile = (base: number) => `${String(base).padStart(20, '0')}.seg`;
export const segmentBase = (name: string): number | undefined => (/^\d{20}\.seg$/.test(name) ? Number(name.slice(0, 20)) : undefined);

/** A segment as the outbox tracks it: entries [base, base + count) in its first `bytes` bytes. */
export interface Segment {
  base: number;
  count: number;
  bytes: number;
  lastAt: number;
  index: number[];
}

/** What a scan of a segment file found: its valid records' count, bytes, last append time and sparse index. */
export interface SegmentScan {
  count: number;
  validBytes: number;
  fileBytes: number;
  lastAt: number;
  index: number[];
}

/** Read a whole segment (segments are a few MiB) and index it; stops before a torn or corrupt tail. */
export async function scanSegment(dir: string, base: number, maxPayload: number): Promise<SegmentScan> {
  const buf = await readFile(join(dir, segmentFile(base)));
  const d = decodeRecords(buf, base, maxPayload);
  const index: number[] = [];
  let offset = 0;
  for (const [i, r] of d.records.entries()) {
    if (i % INDEX_EVERY === 0) index.push(offset);
    offset += r.size;
  }
  return { count: d.records.length, validBytes: d.consumed, fileBytes: buf.length, lastAt: d.records.at(-1)?.at ?? 0, index };
}

/**
 * Up to `max` records from `fromSeq` on, of a segment whose first `limit` bytes are durable.
 * `offset`/`offsetSeq` is the nearest index entry at or before `fromSeq`.
 */
export async function readSegment(
  path: string,
  offset: number,
  offsetSeq: number,
  fromSeq: number,
  max: number,
  limit: number,
  maxPayload: number,
): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  const fh = await open(path, 'r');
  try {
    let pos = offset,
      seq = offsetSeq,
      want = 256 * 1024;
    while (out.length < max && pos < limit) {
      const len = Math.min(want, limit - pos);
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, pos);
      const d = decodeRecords(buf.subarray(0, bytesRead), seq, maxPayload);
      if (d.corrupt || (d.records.length === 0 && (d.needed === undefined || d.needed <= bytesRead || pos + d.needed > limit))) {
        throw new Error(`outbox segment ${path} is corrupt at byte ${pos + d.consumed} (sequence ${seq + d.records.length})`);
      }
      if (d.records.length === 0) {
        want = d.needed!;
        continue;
      } // one record larger than a read: read it whole
      for (const r of d.records) if (r.seq >= fromSeq && out.length < max) out.push(r);
      pos += d.consumed;
      seq += d.records.length;
    }
  } finally {
    await fh.close();
  }
  return out;
}

/**
 * The segments of `dir` after a restart, oldest first, each scanned. A torn tail of the newest one
 * (an append that never completed) is cut off; a closed one's corrupt tail is skipped (readers see
 * a gap). An empty directory gets a first, empty segment starting at `floor`.
 */
export async function recoverSegments(dir: string, maxPayload: number, floor: number): Promise<Segment[]> {
  const log = logger('outbox', { dir });
  const bases = (await readdir(dir))
    .map(segmentBase)
    .filter((b) => b !== undefined)
    .sort((a, b) => a - b);
  if (bases.length === 0) {
    await (await open(join(dir, segmentFile(floor)), 'w')).close();
    bases.push(floor);
  }
  const segments: Segment[] = [];
  for (const [i, base] of bases.entries()) {
    const scan = await scanSegment(dir, base, maxPayload);
    if (scan.validBytes < scan.fileBytes) {
      if (i === bases.length - 1) {
        log.warn(
          { segment: segmentFile(base), kept: scan.count, tornBytes: scan.fileBytes - scan.validBytes },
          'outbox: torn tail cut off (an append that never completed)',
        );
        await truncate(join(dir, segmentFile(base)), scan.validBytes);
      } else {
        log.error({ segment: segmentFile(base), kept: scan.count }, 'outbox: corrupt records in a closed segment; the rest of it is skipped');
      }
    }
    segments.push({ base, count: scan.count, bytes: scan.validBytes, lastAt: scan.lastAt, index: scan.index });
  }
  return segments;
}
