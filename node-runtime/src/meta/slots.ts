// The versions of one key, as pure functions over its records: which slot a record fills, which
// record is the key's current version, and the merge of what several replicas hold.
//
// A key has a slot per S3 version: the null version (slot '') and one per version id a versioning
// bucket issued. Each slot is last-writer-wins on its own (meta/lww.ts), so a re-put of the null
// version replaces it, a metadata revision replaces its version's record, and the removal of one
// version is a newer tombstone in its slot. The key's *current* version is its newest slot that is
// not removed — a live version or a delete marker. Why the whole key and not a per-replica "head":
// a replica that missed a removal and another that missed a later write would each name a wrong
// head; merged slot by slot, the union of their records names the right one (W + R' > R).
import { compareVersions } from './lww.ts';
import type { ObjectVersion } from './records.ts';

/** The slot a record fills: '' for the null version, its version id when versioned. */
export function slotOf(v: Pick<ObjectVersion, 'versioned' | 'versionId'>): string {
  return v.versioned ? v.versionId : '';
}

/** The S3 version id of a record ('null' for the null version). */
export function s3VersionId(v: Pick<ObjectVersion, 'versioned' | 'versionId'>): string {
  return v.versioned ? v.versionId : 'null';
}

/** The slot an S3 version id names. */
export function slotOfVersionId(versionId: string): string {
  return versionId === 'null' ? '' : versionId;
}

/** A record whose slot is gone (a removal tombstone): not a version, not a delete marker. */
export function isRemoved(v: Pick<ObjectVersion, 'deleted' | 'deleteMarker'>): boolean {
  return v.deleted && !v.deleteMarker;
}

/** A live object version (neither a delete marker nor a removal). */
export function isLive(v: ObjectVersion | undefined): v is ObjectVersion {
  return v !== undefined && !v.deleted;
}

/** The key's current version: its newest slot that is not removed (undefined: the key is absent). */
export function currentOf<T extends ObjectVersion>(records: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const v of records) if (!isRemoved(v) && (!best || compareVersions(v, best) > 0)) best = v;
  return best;
}

/** The newest record of the key of any kind (its last change: a write, a delete, a removal). */
export function lastChangeOf<T extends ObjectVersion>(records: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const v of records) if (!best || compareVersions(v, best) > 0) best = v;
  return best;
}

/** Every slot of a key once, its newest record, from what several replicas answered (any order). */
export function mergeSlots<T extends ObjectVersion>(lists: readonly (readonly T[])[]): T[] {
  const bySlot = new Map<string, T>();
  for (const list of lists) {
    for (const v of list) {
      const s = slotOf(v);
      const cur = bySlot.get(s);
      if (!cur || compareVersions(v, cur) > 0) bySlot.set(s, v);
    }
  }
  return [...bySlot.values()].sort((a, b) => compareSlots(slotOf(a), slotOf(b)));
}

/** Slots in storage order: the null slot first, then version ids as bytes (Cairn's ids: newest first). */
export function compareSlots(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Where a record sits in a bucket: (key, slot), compared as the store orders them (UTF-8 bytes). */
export interface Position {
  key: string;
  slot: string;
}

export function comparePositions(a: Position, b: Position): number {
  if (a.key !== b.key) return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));
  return compareSlots(a.slot, b.slot);
}

export const positionOf = (v: Pick<ObjectVersion, 'key' | 'versioned' | 'versionId'>): Position => ({ key: v.key, slot: slotOf(v) });

/** The key's versions newest first, as ListObjectVersions shows them (removed slots left out). */
export function versionsNewestFirst<T extends ObjectVersion>(records: readonly T[]): T[] {
  return records.filter((v) => !isRemoved(v)).sort((a, b) => compareVersions(b, a));
}
