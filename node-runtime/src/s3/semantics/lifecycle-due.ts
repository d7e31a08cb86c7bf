// What a bucket's lifecycle rules make due for one object version or one multipart upload at a given time, and the x-amz-expiration header.
//
// S3's clock: an action after N days is due at the first midnight UTC after creation + N days
// (created 2014-01-15 10:30, 3 days → due 2014-01-19 00:00); noncurrent days count from when
// the version became noncurrent (its successor's creation); upload aborts from initiation. A
// test harness may shrink a day (s3-tests runs with a 10 s "day", as rgw_lc_debug_interval
// does): with `dayMs` set, times are not rounded. Which version is current, noncurrent or an
// expired delete marker is the caller's reading of the key's version list; this module only
// decides. Disabled rules never act; among enabled rules the first in document order that is
// due wins.
import type { Tag } from './tagging.ts';
import type { LifecycleFilter, LifecycleRule, SizeBounds } from './lifecycle.ts';

const DAY_MS = 86_400_000;

/** One version of a key as the lifecycle worker sees it. */
export interface VersionFacts {
  key: string;
  size: number;
  tags: readonly Tag[];
  lastModified: number; // ms; creation of this version (or delete marker)
  isLatest: boolean;
  isDeleteMarker: boolean;
  noncurrentSince?: number; // ms; creation of the next newer version (noncurrent only)
  newerNoncurrentCount?: number; // noncurrent versions newer than this one (noncurrent only)
  onlyVersion?: boolean; // a latest delete marker with no other version left: "expired"
}

export type LifecycleAction =
  | { kind: 'expire-current'; ruleId: string } // versioned: add a delete marker; else delete
  | { kind: 'delete-noncurrent'; ruleId: string } // delete this version permanently
  | { kind: 'remove-delete-marker'; ruleId: string }; // delete the expired delete marker

export interface ClockOptions {
  dayMs?: number;
}

/** When an action `days` after `from` is due. */
export function dueAt(from: number, days: number, opts: ClockOptions = {}): number {
  if (opts.dayMs !== undefined) return from + days * opts.dayMs;
  return Math.floor((from + days * DAY_MS) / DAY_MS) * DAY_MS + DAY_MS;
}

function withinSize(b: SizeBounds, size: number): boolean {
  return (b.sizeGreaterThan === undefined || size > b.sizeGreaterThan) && (b.sizeLessThan === undefined || size < b.sizeLessThan);
}

const hasTag = (tags: readonly Tag[], t: Tag) => tags.some((x) => x.key === t.key && x.value === t.value);

/** Whether a rule's prefix and filter select this key, size and tag set (every predicate must hold). */
export function ruleSelects(rule: LifecycleRule, v: Pick<VersionFacts, 'key' | 'size' | 'tags'>): boolean {
  if (rule.prefix !== undefined) return v.key.startsWith(rule.prefix);
  const f: LifecycleFilter = rule.filter ?? {};
  if (f.prefix !== undefined && !v.key.startsWith(f.prefix)) return false;
  if (f.tag && !hasTag(v.tags, f.tag)) return false;
  if (!withinSize(f, v.size)) return false;
  if (f.and) {
    if (f.and.prefix !== undefined && !v.key.startsWith(f.and.prefix)) return false;
    if (!f.and.tags.every((t) => hasTag(v.tags, t))) return false;
    if (!withinSize(f.and, v.size)) return false;
  }
  return true;
}

/** When the rule's Expiration (Days or Date) expires a current version created at `created`. */
function expiryOf(rule: LifecycleRule, created: number, opts: ClockOptions): number | undefined {
  const e = rule.expiration;
  if (e?.days !== undefined) return dueAt(created, e.days, opts);
  if (e?.date !== undefined) return e.date;
  return undefined;
}

/** The action due now for this version, if any. */
export function dueAction(rules: readonly LifecycleRule[], v: VersionFacts, now: number, opts: ClockOptions = {}): LifecycleAction | undefined {
  for (const rule of rules) {
    if (rule.status !== 'Enabled' || !ruleSelects(rule, v)) continue;
    if (v.isLatest && v.isDeleteMarker) {
      // Only an expired delete marker (nothing left behind it) is ever removed: at once with
      // ExpiredObjectDeleteMarker, or once the rule's Days/Date would expire it.
      if (!v.onlyVersion) continue;
      const at = rule.expiration?.expiredObjectDeleteMarker ? v.lastModified : expiryOf(rule, v.lastModified, opts);
      if (at !== undefined && now >= at) return { kind: 'remove-delete-marker', ruleId: rule.id };
    } else if (v.isLatest) {
      const at = expiryOf(rule, v.lastModified, opts);
      if (at !== undefined && now >= at) return { kind: 'expire-current', ruleId: rule.id };
    } else {
      const nve = rule.noncurrentVersionExpiration;
      if (!nve || v.noncurrentSince === undefined) continue;
      // NewerNoncurrentVersions keeps that many newer noncurrent versions whatever their age.
      if (nve.newerNoncurrentVersions !== undefined && (v.newerNoncurrentCount ?? 0) < nve.newerNoncurrentVersions) continue;
      if (now >= dueAt(v.noncurrentSince, nve.noncurrentDays, opts)) return { kind: 'delete-noncurrent', ruleId: rule.id };
    }
  }
  return undefined;
}

/** The rule that aborts an incomplete multipart upload now, if any (uploads have no tags or size). */
export function dueUploadAbort(
  rules: readonly LifecycleRule[],
  upload: { key: string; initiated: number },
  now: number,
  opts: ClockOptions = {},
): string | undefined {
  for (const rule of rules) {
    const abort = rule.abortIncompleteMultipartUpload;
    if (rule.status !== 'Enabled' || !abort || !ruleSelects(rule, { key: upload.key, size: 0, tags: [] })) continue;
    if (now >= dueAt(upload.initiated, abort.daysAfterInitiation, opts)) return rule.id;
  }
  return undefined;
}

/**
 * x-amz-expiration for PUT/GET/HEAD of a current version: `expiry-date="<HTTP date>",
 * rule-id="<id>"` for the earliest Expiration among the enabled rules that select it.
 */
export function expirationHeader(
  rules: readonly LifecycleRule[],
  v: Pick<VersionFacts, 'key' | 'size' | 'tags' | 'lastModified'>,
  opts: ClockOptions = {},
): string | undefined {
  let best: { at: number; id: string } | undefined;
  for (const rule of rules) {
    if (rule.status !== 'Enabled' || !ruleSelects(rule, v)) continue;
    const at = expiryOf(rule, v.lastModified, opts);
    if (at !== undefined && (!best || at < best.at)) best = { at, id: rule.id };
  }
  return best && `expiry-date="${new Date(best.at).toUTCString()}", rule-id="${best.id}"`;
}
