// Listing a bucket from its metadata replicas: pure merge and grouping steps. Replicas return pages
// of their latest version per key in key order; a merged page is only known complete up to the
// smallest last key of the replicas whose page was full. Keys compare as UTF-8 bytes (S3 order).
import type { ObjectVersion } from './types.ts';
import { compareVersions } from '../meta/lww.ts';

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Newest version per key across replica pages, in key order, cut at the first key some full page may be missing. */
export function mergePages(pages: ObjectVersion[][], limit: number): { versions: ObjectVersion[]; complete: boolean } {
  let bound: string | undefined;
  for (const p of pages) {
    if (p.length >= limit && p.length > 0) {
      const last = p[p.length - 1].key;
      if (bound === undefined || compareKeys(last, bound) < 0) bound = last;
    }
  }
  const byKey = new Map<string, ObjectVersion>();
  for (const p of pages) {
    for (const v of p) {
      if (bound !== undefined && compareKeys(v.key, bound) > 0) continue;
      const cur = byKey.get(v.key);
      if (!cur || compareVersions(v, cur) > 0) byKey.set(v.key, v);
    }
  }
  const versions = [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key));
  return { versions, complete: bound === undefined };
}

/** The common prefix a key rolls up into under `delimiter`, or undefined when it is listed itself. */
export function commonPrefixOf(key: string, prefix: string, delimiter?: string): string | undefined {
  if (!delimiter) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i < 0 ? undefined : key.slice(0, i + delimiter.length);
}

/** A cursor past every key that starts with `p` (U+10FFFF is the largest UTF-8 sequence). */
export function pastPrefix(p: string): string {
  return p + '\u{10FFFF}';
}
