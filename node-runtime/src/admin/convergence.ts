// Does a bucket hold its replication factor? Pure over the repair progress every data member
// reports in its heartbeats (repair/worker.ts: per bucket, the R its pass planned with, the items it
// repairs that are below their R, the surplus copies it holds). A bucket holds its R when every
// live data member has planned a pass with that R and none counts anything left to copy or to drop
// — so a changed factor is not called done before every existing object has it. Why from the
// reports: a count of zero from a pass that planned with the old R (or before the bucket's objects
// were there) says nothing.
import type { BucketSettings, Member, RepairProgress } from '../cluster/types.ts';
import { holdsData } from '../cluster/placement.ts';

export interface BucketConvergence {
  underReplicatedChunks: number; // the bucket's items below their R (chunks, and its metadata partition)
  surplusChunks: number; // copies beyond R still to drop (after a lowered R or a move)
  converged: boolean; // every object of the bucket has exactly its R (or more, when a write asked)
  waitingFor: string[]; // members whose last plan does not know the current R yet
}

export function bucketConvergence(bucket: Pick<BucketSettings, 'name' | 'replicas'>, members: (Member & { repair?: RepairProgress })[]): BucketConvergence {
  const out: BucketConvergence = { underReplicatedChunks: 0, surplusChunks: 0, converged: false, waitingFor: [] };
  for (const m of members) {
    if (!holdsData(m) || (m.state !== 'active' && m.state !== 'draining')) continue;
    const report = m.repair;
    // No pass finished yet, or a node too old to report per bucket: unknown, so not converged.
    if (!report?.buckets || !report.passes) {
      out.waitingFor.push(m.name);
      continue;
    }
    // Every bucket is in every report once a pass planned with it: absent means not planned yet
    // (a new bucket, or a report from before the change), not "nothing here".
    const mine = report.buckets[bucket.name];
    if (!mine || mine.r !== bucket.replicas) {
      out.waitingFor.push(m.name);
      continue;
    }
    out.underReplicatedChunks += mine.under ?? 0;
    out.surplusChunks += mine.surplus ?? 0;
  }
  out.converged = out.waitingFor.length === 0 && out.underReplicatedChunks === 0 && out.surplusChunks === 0;
  return out;
}
