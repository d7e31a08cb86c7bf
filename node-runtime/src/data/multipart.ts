// Multipart completion rules (pure): which stored parts a CompleteMultipartUpload names, in order,
// and the resulting object layout and ETag, with S3's errors for every way the list can be wrong.
import { createHash } from 'node:crypto';
import { s3Error } from '../util/errors.ts';
import type { ChunkRef, CompletedPart, PartRecord } from './types.ts';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;

export interface Assembled {
  size: number;
  etag: string; // md5(concat(part md5 bytes))-N
  chunks: ChunkRef[];
  parts: { number: number; size: number; etag: string; checksum?: string }[];
}

const unquote = (e: string) =>
  e
    .trim()
    .replace(/^"+|"+$/g, '')
    .toLowerCase();

/** A multipart object's ETag from its parts' (in order): the MD5 of their MD5s, dash, their count. */
export function multipartEtag(partEtags: string[]): string {
  const md5 = createHash('md5');
  for (const e of partEtags) md5.update(Buffer.from(unquote(e), 'hex'));
  return `${md5.digest('hex')}-${partEtags.length}`;
}

export function assembleParts(requested: CompletedPart[], stored: PartRecord[]): Assembled {
  if (requested.length === 0)
    throw s3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema: at least one part is required.');
  for (let i = 1; i < requested.length; i++) {
    if (requested[i].number <= requested[i - 1].number) throw s3Error('InvalidPartOrder');
  }
  const byNumber = new Map(stored.map((p) => [p.number, p]));
  const chosen = requested.map((r) => {
    const p = byNumber.get(r.number);
    if (!p || unquote(p.etag) !== unquote(r.etag))
      throw s3Error('InvalidPart', `Part ${r.number} was not uploaded or its ETag does not match.`, { extra: { PartNumber: String(r.number), ETag: r.etag } });
    return p;
  });
  chosen.forEach((p, i) => {
    if (i < chosen.length - 1 && p.size < MIN_PART_SIZE) {
      throw s3Error('EntityTooSmall', `Part ${p.number} is ${p.size} bytes; every part except the last must be at least ${MIN_PART_SIZE} bytes.`, {
        extra: { PartNumber: String(p.number), ProposedSize: String(p.size), MinSizeAllowed: String(MIN_PART_SIZE) },
      });
    }
  });
  return {
    size: chosen.reduce((n, p) => n + p.size, 0),
    etag: multipartEtag(chosen.map((p) => p.etag)),
    chunks: chosen.flatMap((p) => p.chunks),
    parts: chosen.map((p) => ({ number: p.number, size: p.size, etag: unquote(p.etag), ...(p.checksum ? { checksum: p.checksum } : {}) })),
  };
}
