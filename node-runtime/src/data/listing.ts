// Listing a bucket from its metadata replicas: pure merge and grouping steps. Replicas return pages
// of records in (key, slot) order — one record per version slot of each key (meta/slots.ts); a merged
// page is only known complete up to the smallest last position of the replicas whose page was full.
// Keys compare as UTF-8 bytes (S3 order).
import type { ObjectVersion } from './types.ts';
import { compareVersions } from '../meta/lww.ts';
import { comparePositions, positionOf, slotOf, type Position } from '../meta/slots.ts';

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The newest record per (key, slot) across replica pages, in position order, cut after the first
 * position some full page may be missing records beyond (`bound`: resume after it).
 */
export function mergePages(pages: ObjectVersion[][], limit: number): { versions: ObjectVersion[]; complete: boolean; bound?: Position } {
  let bound: Position | undefined;
  for (const p of pages) {
    if (p.length >= limit && p.length > 0) {
      const last = positionOf(p[p.length - 1]!);
      if (bound === undefined || comparePositions(last, bound) < 0) bound = last;
    }
  }
  const bySlot = new Map<string, ObjectVersion>();
  for (const p of pages) {
    for (const v of p) {
      if (bound !== undefined && comparePositions(positionOf(v), bound) > 0) continue;
      const id = `${v.key}\u0000${slotOf(v)}`;
      const cur = bySlot.get(id);
      if (!cur || compareVersions(v, cur) > 0) bySlot.set(id, v);
    }
  }
  const versions = [...bySlot.values()].sort((a, b) => comparePositions(positionOf(a), positionOf(b)));
  return { versions, complete: bound === undefined, ...(bound ? { bound } : {}) };
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
