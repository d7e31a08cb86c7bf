// The collectors that turn the runtime's own state (cluster map, repair progress, store usage) into
// the state gauges of observability/metrics.ts at scrape time; the node wires them to its parts.
// Each takes a getter, registers itself and returns the unregister function; the mapping from state
// to samples is a pure function.
import type { DiskState, Member, MemberState, RepairProgress } from '../cluster/types.ts';
import type { NodeMetrics } from '../observability/metrics.ts';

export const memberStates: readonly MemberState[] = ['joining', 'active', 'draining', 'drained', 'down'];

export interface MembershipSamples {
  byState: Record<MemberState, number>;
  states: { member: string; state: MemberState; value: 0 | 1 }[];
  heartbeatAge: { member: string; seconds: number }[];
}

/** Pure: the membership gauges for a cluster map at time `now` (ms). Members are labelled by name. */
export function membershipSamples(list: readonly Member[], now: number): MembershipSamples {
  const byState = Object.fromEntries(memberStates.map((s) => [s, 0])) as Record<MemberState, number>;
  const states: MembershipSamples['states'] = [];
  const heartbeatAge: MembershipSamples['heartbeatAge'] = [];
  for (const m of list) {
    byState[m.state]++;
    const member = m.name || m.id;
    for (const s of memberStates) states.push({ member, state: s, value: s === m.state ? 1 : 0 });
    if (m.lastHeartbeat > 0) heartbeatAge.push({ member, seconds: Math.max(0, (now - m.lastHeartbeat) / 1000) });
  }
  return { byState, states, heartbeatAge };
}

/**
 * Roots: publish the cluster map (members by state, per-member state and heartbeat age) and the
 * write-quorum verdict on every scrape. Members that left the map disappear from the output.
 */
export function collectMembership(
  m: NodeMetrics,
  source: {
    members(): readonly Member[];
    writeQuorumAvailable?(): boolean | Promise<boolean>;
    bucketCount?(): number;
  },
): () => void {
  let previous = new Set<string>();
  return m.registerCollector(async () => {
    const s = membershipSamples(source.members(), Date.now());
    for (const st of memberStates) m.members.set({ state: st }, s.byState[st]);
    m.memberState.reset();
    m.memberHeartbeatAge.reset();
    for (const x of s.states) m.memberState.set({ member: x.member, state: x.state }, x.value);
    for (const x of s.heartbeatAge) m.memberHeartbeatAge.set({ member: x.member }, x.seconds);
    const current = new Set(s.states.map((x) => x.member));
    for (const gone of previous) if (!current.has(gone)) m.forgetLabelValue('peer', gone);
    previous = current;
    if (source.writeQuorumAvailable) m.clusterWriteQuorum.set((await source.writeQuorumAvailable()) ? 1 : 0);
    if (source.bucketCount) m.bucketsRegistered.set(source.bucketCount());
  });
}

/** Repair owners (every data node): publish the repair worker's progress (the admin API's RepairProgress). */
export function collectRepairProgress(
  m: NodeMetrics,
  progress: () => (RepairProgress & { queueLength?: number }) | Promise<RepairProgress & { queueLength?: number }>,
): () => void {
  return m.registerCollector(async () => {
    const p = await progress();
    m.chunksUnderReplicated.set(p.underReplicatedChunks);
    m.chunksMisplaced.set(p.misplacedChunks);
    // Only buckets with work left have series: a cluster of many buckets at rest exports none.
    m.repairBucketItems.reset();
    for (const [bucket, b] of Object.entries(p.buckets ?? {})) {
      if (b.under) m.repairBucketItems.set({ bucket, state: 'under_replicated' }, b.under);
      if (b.surplus) m.repairBucketItems.set({ bucket, state: 'surplus' }, b.surplus);
    }
    m.repairQueueBytes.set(p.bytesRemaining);
    m.repairRate.set(p.rateBytesPerSec);
    if (p.queueLength !== undefined) m.repairQueueLength.set(p.queueLength);
  });
}

export interface NodeUsage {
  capacityBytes: number;
  usedBytes: number;
  chunks: number;
  objects?: number;
  disk?: { state: DiskState; freeBytes: number };
}

const diskStates: readonly DiskState[] = ['ok', 'full', 'failed'];

/** Data nodes: publish this node's capacity, usage and stored item counts. */
export function collectNodeUsage(m: NodeMetrics, usage: () => NodeUsage | Promise<NodeUsage>): () => void {
  return m.registerCollector(async () => {
    const u = await usage();
    m.nodeCapacityBytes.set(u.capacityBytes);
    m.nodeUsedBytes.set(u.usedBytes);
    m.chunksStored.set(u.chunks);
    if (u.objects !== undefined) m.objectsStored.set(u.objects);
    if (u.disk) {
      m.nodeDiskFreeBytes.set(u.disk.freeBytes);
      for (const s of diskStates) m.nodeDiskState.set({ state: s }, s === u.disk.state ? 1 : 0);
    }
  });
}

export interface QuotaSamples {
  buckets: { bucket: string; bytes: number; objects: number; quotaBytes?: number; quotaObjects?: number }[];
  users: { user: string; bytes: number; objects: number; buckets: number; quota: { bytes?: number; objects?: number; buckets?: number } }[];
}

/** Roots: publish every bucket's usage and quota, and the usage and plan of every user with a quota. */
export function collectQuotas(m: NodeMetrics, samples: () => Promise<QuotaSamples>): () => void {
  const gauges = [
    m.bucketUsedBytes,
    m.bucketObjects,
    m.bucketQuotaBytes,
    m.bucketQuotaObjects,
    m.userUsedBytes,
    m.userObjects,
    m.userBuckets,
    m.userQuotaBytes,
    m.userQuotaObjects,
    m.userQuotaBuckets,
  ];
  return m.registerCollector(async () => {
    const s = await samples();
    // Reset first: a deleted bucket or a plan removed takes its series with it.
    for (const g of gauges) g.reset();
    for (const b of s.buckets) {
      m.bucketUsedBytes.set({ bucket: b.bucket }, b.bytes);
      m.bucketObjects.set({ bucket: b.bucket }, b.objects);
      if (b.quotaBytes !== undefined) m.bucketQuotaBytes.set({ bucket: b.bucket }, b.quotaBytes);
      if (b.quotaObjects !== undefined) m.bucketQuotaObjects.set({ bucket: b.bucket }, b.quotaObjects);
    }
    for (const u of s.users) {
      m.userUsedBytes.set({ user: u.user }, u.bytes);
      m.userObjects.set({ user: u.user }, u.objects);
      m.userBuckets.set({ user: u.user }, u.buckets);
      if (u.quota.bytes !== undefined) m.userQuotaBytes.set({ user: u.user }, u.quota.bytes);
      if (u.quota.objects !== undefined) m.userQuotaObjects.set({ user: u.user }, u.quota.objects);
      if (u.quota.buckets !== undefined) m.userQuotaBuckets.set({ user: u.user }, u.quota.buckets);
    }
  });
}
