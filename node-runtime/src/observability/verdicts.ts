// The verdicts behind /cluster/health and /maintenance, as pure functions of the cached cluster map,
// the bucket registry and the repair state, so health.ts's callbacks are one line each and the
// rules are unit-tested. W is the write quorum ⌊R/2⌋+1 (DESIGN.md).
import type { BucketSettings, Member } from '../cluster/types.ts';
import { holdsData, replicasFor } from '../cluster/placement.ts';
import { writeQuorum } from '../data/quorum.ts';
import type { CheckResult } from './health.ts';

/** /cluster/health: every (live) bucket's metadata partition reaches W active replicas. */
export function clusterHealthVerdict(members: Member[], buckets: BucketSettings[]): CheckResult {
  const short: string[] = [];
  for (const b of buckets.filter((x) => !x.deleted)) {
    const have = replicasFor(`bucket:${b.name}`, members, b.replicas).length;
    if (have < writeQuorum(b.replicas)) short.push(`${b.name} (${have} of W=${writeQuorum(b.replicas)})`);
  }
  if (short.length === 0) return { ok: true, reason: `all ${buckets.filter((x) => !x.deleted).length} buckets reach their write quorum` };
  return { ok: false, reason: `no write quorum for ${short.length} bucket(s): ${short.slice(0, 5).join(', ')}${short.length > 5 ? ', …' : ''}`, details: { buckets: short.length } };
}

export interface MaintenanceState {
  selfId: string;
  members: Member[];
  buckets: BucketSettings[];
  defaultReplicas: number;
  /** Chunks the cluster knows to be under-replicated (sum of the repair owners' counts, or this node's view). */
  underReplicatedChunks: number;
}

/**
 * /maintenance: can this member stop now (restart, node drain by Kubernetes) without any write
 * failing or any data becoming unreadable? Conservative, like a PDB with maxUnavailable 1:
 * - a member that holds no data (root-only, or already drained) may stop while another root is active;
 * - a data member may stop only when no repair is pending, every other data member is active, and
 *   every R in use leaves W replicas elsewhere (R - 1 ≥ W, i.e. R ≥ 3 with the default W).
 */
export function maintenanceVerdict(s: MaintenanceState): CheckResult {
  const self = s.members.find((m) => m.id === s.selfId);
  if (!self) return { ok: false, reason: 'this process is not in the cluster map yet' };
  if (self.roles.includes('root')) {
    const otherRoots = s.members.filter((m) => m.id !== self.id && m.roles.includes('root') && m.state === 'active');
    if (otherRoots.length === 0) return { ok: false, reason: `${self.name} is the only active root: members could not heartbeat or join while it is stopped` };
  }
  if (!holdsData(self) || self.state === 'drained' || self.state === 'down') {
    return { ok: true, reason: `${self.name} holds no data that others need` };
  }
  if (s.underReplicatedChunks > 0) {
    return { ok: false, reason: `repair in progress: ${s.underReplicatedChunks} chunk(s) under-replicated; stopping ${self.name} could take their last replicas away`, details: { underReplicatedChunks: s.underReplicatedChunks } };
  }
  const notActive = s.members.filter((m) => m.id !== self.id && holdsData(m) && m.state !== 'active' && m.state !== 'drained');
  if (notActive.length) {
    return { ok: false, reason: `other data member(s) not active (${notActive.map((m) => `${m.name}: ${m.state}`).join(', ')}); stop one member at a time` };
  }
  const rs = new Set([s.defaultReplicas, ...s.buckets.filter((b) => !b.deleted).map((b) => b.replicas)]);
  const unsafe = [...rs].filter((r) => r - 1 < writeQuorum(r)).sort((a, b) => a - b);
  if (unsafe.length) {
    const r = unsafe[0];
    return { ok: false, reason: `with R=${r}, W=${writeQuorum(r)}: stopping ${self.name} leaves ${r - 1} replica(s) of the items it holds, writes to them would fail` };
  }
  return { ok: true, reason: `every item on ${self.name} keeps its write quorum on other active members` };
}
