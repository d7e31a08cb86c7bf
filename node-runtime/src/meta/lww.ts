// Last-writer-wins order of object versions, shared by every metadata replica and the
// coordinators that merge their answers: newer timestamp wins, then the higher writer id, then
// the higher version id (so two replicas always agree on the winner, whatever the arrival order);
// for the same write, the higher metadata revision (an ACL change, say) and then its member.
import type { ObjectVersion } from './records.ts';

type Stamp = Pick<ObjectVersion, 'timestamp' | 'writer' | 'versionId' | 'rev' | 'revBy'>;

/** > 0 when a is newer than b, < 0 when older, 0 when the same write. */
export function compareVersions(a: Stamp, b: Stamp): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  if (a.writer !== b.writer) return a.writer < b.writer ? -1 : 1;
  if (a.versionId !== b.versionId) return a.versionId < b.versionId ? -1 : 1;
  if ((a.rev ?? 0) !== (b.rev ?? 0)) return (a.rev ?? 0) - (b.rev ?? 0);
  if ((a.revBy ?? '') !== (b.revBy ?? '')) return (a.revBy ?? '') < (b.revBy ?? '') ? -1 : 1;
  return 0;
}

/** The newest of some versions (undefined when none). */
export function newest<T extends Stamp>(vs: (T | undefined)[]): T | undefined {
  let best: T | undefined;
  for (const v of vs) if (v && (!best || compareVersions(v, best) > 0)) best = v;
  return best;
}
