// What the lifecycle worker reads of a key: its versions, newest first (ListObjectVersions order), as
// the facts the rules are decided on (s3/semantics/lifecycle-due.ts), and the actions due now. Pure.
//
// "Noncurrent since" is the creation of the next newer version; an "expired" delete marker is a
// current marker with nothing behind it. Each action names the exact version it was decided for, so
// carrying it out can be conditional on that version still being what it was (lifecycle-worker.ts).
import type { ObjectVersion } from '../data/types.ts';
import { dueAction, type ClockOptions, type LifecycleAction, type VersionFacts } from './semantics/lifecycle-due.ts';
import type { LifecycleRule } from './semantics/lifecycle.ts';

export interface DueVersion {
  version: ObjectVersion;
  action: LifecycleAction;
}

/** The facts of one key's versions, given newest first. */
export function keyFacts(versions: readonly ObjectVersion[]): VersionFacts[] {
  let noncurrentSeen = 0;
  return versions.map((v, i) => {
    const isLatest = i === 0;
    const facts: VersionFacts = {
      key: v.key,
      size: v.size,
      tags: v.tags ?? [],
      lastModified: v.timestamp,
      isLatest,
      isDeleteMarker: v.deleted,
      ...(isLatest ? { onlyVersion: versions.length === 1 } : { noncurrentSince: versions[i - 1]!.timestamp, newerNoncurrentCount: noncurrentSeen }),
    };
    if (!isLatest && !v.deleted) noncurrentSeen++;
    return facts;
  });
}

/** Split a batch (ListObjectVersions order) into keys, each newest first. */
export function byKey(versions: readonly ObjectVersion[]): ObjectVersion[][] {
  const out: ObjectVersion[][] = [];
  for (const v of versions) {
    const last = out[out.length - 1];
    if (last && last[0]!.key === v.key) last.push(v);
    else out.push([v]);
  }
  return out;
}

/** The actions due now for one key's versions (newest first). */
export function dueForKey(rules: readonly LifecycleRule[], versions: readonly ObjectVersion[], now: number, opts: ClockOptions = {}): DueVersion[] {
  const facts = keyFacts(versions);
  const out: DueVersion[] = [];
  facts.forEach((f, i) => {
    const action = dueAction(rules, f, now, opts);
    if (action) out.push({ version: versions[i]!, action });
  });
  return out;
}
