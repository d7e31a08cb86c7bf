// Cluster verdicts for the health endpoints (observability/health.ts), pure over the cluster map:
// can every bucket still reach its write quorum, and may this member stop now (the question the
// operator asks before a rolling restart or scale-down) without any bucket losing its write quorum.
// A verdict's `reason` is what any unauthenticated probe may read: counts, never names; the names
// (bucket names are tenants' data) go in `details`, which only callers with the cluster secret see.
import type { BucketSettings, Member } from './types.ts';
import { holdsData, replicasFor } from './placement.ts';

export interface Verdict {
  ok: boolean;
  reason: string;
  details?: Record<string, unknown>;
}

const writeQuorum = (r: number) => Math.floor(r / 2) + 1;

/** Every bucket's metadata partition can reach W of its R replicas among active members. */
export function writeQuorumVerdict(members: Member[], buckets: BucketSettings[]): Verdict {
  const short = buckets.filter((b) => replicasFor(`bucket:${b.name}`, members, b.replicas).length < writeQuorum(b.replicas)).map((b) => b.name);
  return short.length === 0
    ? { ok: true, reason: 'every bucket can reach its write quorum' }
    : { ok: false, reason: `write quorum unreachable for ${short.length} bucket(s)`, details: { buckets: short } };
}

/**
 * May `selfId` stop now? Its chunks can be anywhere, so the safe answer is per bucket: the items it
 * holds must keep W live replicas elsewhere, i.e. R - 1 - (holders already not active) ≥ W. With
 * R=2 (W=2) that is never true: stopping a node stops writes to what it holds until it is marked
 * down. Root-only members hold no data and may always stop. A member whose repair worker still
 * counts under-replicated chunks among what it holds may not stop either, whatever R is.
 */
export function maintenanceVerdict(selfId: string, members: Member[], buckets: BucketSettings[], pending?: { underReplicatedChunks: number }): Verdict {
  const self = members.find((m) => m.id === selfId);
  if (!self || !holdsData(self)) return { ok: true, reason: 'this member holds no data' };
  // Chunks held here with fewer than R live replicas (this member's repair status counts exactly
  // those): stopping now could take away the last copies before repair restored them.
  if (pending && pending.underReplicatedChunks > 0) {
    return {
      ok: false,
      reason: `repair pending: ${pending.underReplicatedChunks} under-replicated chunk(s) held here`,
      details: { underReplicatedChunks: pending.underReplicatedChunks },
    };
  }
  const unavailable = members.filter((m) => holdsData(m) && m.id !== selfId && m.state !== 'active' && m.state !== 'drained').length;
  const unsafe = buckets.filter((b) => b.replicas - 1 - unavailable < writeQuorum(b.replicas)).map((b) => b.name);
  return unsafe.length === 0
    ? { ok: true, reason: 'every bucket keeps its write quorum without this member' }
    : {
        ok: false,
        reason: `stopping would drop ${unsafe.length} bucket(s) below write quorum`,
        details: { buckets: unsafe, otherMembersUnavailable: unavailable },
      };
}
