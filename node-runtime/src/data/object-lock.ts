// Object lock (WORM) as the data path enforces it: the retention a new version gets by default, and
// whether a version may be removed now. Pure: the coordinator checks them against the version as a
// conditional write read it (data/conditional.ts), so a retention set concurrently is never missed.
import type { BucketSettings } from '../cluster/types.ts';
import { s3Error } from '../util/errors.ts';
import type { ObjectVersion } from './types.ts';

const DAY_MS = 86_400_000;

/** The retention a version written at `now` gets from its bucket's default, if any. */
export function defaultRetention(b: BucketSettings, now: number): ObjectVersion['retention'] | undefined {
  const d = b.objectLock?.defaultRetention;
  if (!d) return undefined;
  const days = d.days ?? (d.years ?? 0) * 365;
  return { mode: d.mode, until: now + days * DAY_MS };
}

/**
 * Refuses (AccessDenied, as S3) the removal of a version under legal hold or within its retention —
 * a GOVERNANCE retention only unless `bypassGovernance` (from a caller s3/ allowed to bypass); a
 * COMPLIANCE retention binds everyone, the admin user included.
 */
export function checkRemovable(v: ObjectVersion, now: number, bypassGovernance: boolean): void {
  if (v.legalHold) throw s3Error('AccessDenied', 'The version is under a legal hold.', { resource: v.key });
  const r = v.retention;
  if (!r || r.until <= now) return;
  if (r.mode === 'GOVERNANCE' && bypassGovernance) return;
  throw s3Error('AccessDenied', `The version is locked (${r.mode}) until ${new Date(r.until).toISOString()}.`, { resource: v.key });
}

/**
 * Refuses a retention change that weakens a COMPLIANCE retention (shorter, or to GOVERNANCE) or, without
 * `bypassGovernance`, changes a GOVERNANCE one other than by lengthening it in the same mode (even to
 * COMPLIANCE, as S3 and the conformance suite have it: the mode of a governed version is the bypasser's to change).
 */
export function checkRetentionChange(v: ObjectVersion, next: ObjectVersion['retention'] | undefined, now: number, bypassGovernance: boolean): void {
  const cur = v.retention;
  if (!cur || cur.until <= now) return;
  const weaker = !next || next.until < cur.until || next.mode !== cur.mode;
  if (!weaker) return;
  if (cur.mode === 'GOVERNANCE' && bypassGovernance) return;
  throw s3Error('AccessDenied', `The version's ${cur.mode} retention until ${new Date(cur.until).toISOString()} cannot be shortened or weakened.`, {
    resource: v.key,
  });
}
