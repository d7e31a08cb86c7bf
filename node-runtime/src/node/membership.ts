// This process's place in the cluster, whatever the cluster's size: the view of the map and the
// registry, the replica of every member, the routes peers call, readiness and the health verdicts.
// A process started as `root,node` without roots to join is a cluster of one: it is its own root,
// keeps its registry in its metadata store (cluster/standalone.ts) and calls nobody. Any other
// process joins roots (joined-cluster.ts). Everything else in startNode is the same for both.
import type { Router } from 'express';
import type { ClusterControl, ClusterSettings, RepairProgress, Role } from '../cluster/types.ts';
import { writeRecords, type RegistryRecords } from './registry-records.ts';
import type { Verdict } from '../cluster/health.ts';
import type { PeerHealth } from '../cluster/peer-health.ts';
import { StandaloneClusterView, standaloneRegistry } from '../cluster/standalone.ts';
import type { ChunkStore } from '../chunks/store.ts';
import type { DiskMonitor } from '../chunks/disk.ts';
import type { MemoryBudget } from '../chunks/memory.ts';
import type { MetaStore } from '../meta/store.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import { MemberReplicas } from '../data/replica-directory.ts';
import { LocalChunkReplica, LocalMetaReplica } from '../data/local-replica.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import { joinCluster } from './joined-cluster.ts';

export interface Membership {
  readonly view: ClusterControl;
  readonly replicas: ReplicaDirectory;
  /** What peers call under `/rpc/v1` (membership and replica routes); none in a cluster of one. */
  readonly rpcRoutes: Router[];
  /** Which members answered lately (write fallbacks, read order); none in a cluster of one. */
  readonly health?: PeerHealth;
  /** Registered with a root (or serving from a cached map that knows this member) and its keys recorded. */
  ready(): boolean;
  /** Record the users and keys this process was started with (root key, keys file), built from
   *  what the registry holds when the roots answer (a key stored as it is is not rewritten). */
  registerKeys(records: RegistryRecords): Promise<void>;
  /** `/cluster/health`: can every bucket reach its write quorum. */
  clusterHealth(): Verdict | boolean;
  /** `/maintenance`: may this member stop now. */
  maintenance(pending?: { underReplicatedChunks: number }): Verdict;
  /** Record that this member finished draining (through the roots). */
  markDrained(memberId: string): Promise<void>;
  /** Tell the roots this member's news now rather than at the next heartbeat. */
  announce(): void;
  /** Stop heartbeating: the first step of a stop, so the roots see a clean silence. */
  leave(): Promise<void>;
  stop(): Promise<void>;
}

export interface MembershipOptions {
  selfId: string;
  roles: Role[];
  name: string;
  dataDir: string;
  api: string; // advertised URLs
  cluster: string;
  roots: string[];
  zone?: string;
  weight?: number;
  secret?: string;
  settings: Partial<ClusterSettings>;
  heartbeatMs?: number;
  /** `memory`: the node's chunk budget, which chunks other members send here are gathered under (data/local-replica.ts). */
  stores: { chunks: ChunkStore; meta: MetaStore; memory?: MemoryBudget };
  /** This member's capacity (its volume's, node/facts.ts); default the file system's. */
  capacityBytes?: () => Promise<number>;
  /** The data disk of a data member: reported to the roots, and chunk writes refused while it is full or failed. */
  disk?: DiskMonitor;
  /** The node's metrics (internal RPC latency and errors). */
  metrics?: NodeMetrics;
  /** This member's repair progress, reported in heartbeats. */
  repairProgress: () => RepairProgress | undefined;
}

export async function openMembership(o: MembershipOptions): Promise<Membership> {
  const { chunks, meta } = o.stores;
  const capacityBytes = o.capacityBytes ?? (() => chunks.capacityBytes());
  const holdsData = o.roles.includes('node');
  const local = holdsData
    ? { chunks: new LocalChunkReplica(o.selfId, chunks, o.disk, o.stores.memory), meta: new LocalMetaReplica(o.selfId, meta) }
    : undefined;
  if (!o.roots.length && o.roles.includes('root') && holdsData) return clusterOfOne(o, local!, capacityBytes);
  if (!o.secret) throw new Error('a cluster secret is required to form a cluster (--secret or CAIRN_CLUSTER_SECRET)');
  return joinCluster({
    selfId: o.selfId,
    roles: o.roles,
    name: o.name,
    dataDir: o.dataDir,
    api: o.api,
    cluster: o.cluster,
    roots: o.roots,
    zone: o.zone,
    weight: o.weight,
    secret: o.secret,
    settings: o.settings,
    heartbeatMs: o.heartbeatMs,
    local,
    metrics: o.metrics,
    repairProgress: o.repairProgress,
    disk: o.disk,
    // A data dir that ran as a cluster of one keeps its buckets and keys (same LWW maps).
    seed: standaloneRegistry(meta),
    // A root-only process stores nothing: it reports no capacity so status sums only data members.
    usage: async () =>
      holdsData
        ? { usedBytes: chunks.usedBytes(), chunks: chunks.chunkCount(), capacityBytes: await capacityBytes() }
        : { usedBytes: 0, chunks: 0, capacityBytes: 0 },
    liveUsage: holdsData ? () => ({ usedBytes: chunks.usedBytes(), chunks: chunks.chunkCount() }) : undefined,
  });
}

async function clusterOfOne(
  o: MembershipOptions,
  local: { chunks: LocalChunkReplica; meta: LocalMetaReplica },
  capacityBytes: () => Promise<number>,
): Promise<Membership> {
  const { chunks, meta } = o.stores;
  const view = await StandaloneClusterView.open({
    self: {
      id: o.selfId,
      name: o.name,
      roles: o.roles,
      api: o.api,
      cluster: o.cluster,
      zone: o.zone ?? '',
      weight: o.weight ?? 1,
      capacityBytes: await capacityBytes(),
    },
    meta,
    usedBytes: () => chunks.usedBytes(),
    settings: o.settings,
    disk: o.disk && (() => o.disk!.status),
  });
  return {
    view,
    replicas: new MemberReplicas({ selfId: o.selfId, member: (id) => view.member(id), local }),
    rpcRoutes: [],
    ready: () => true,
    registerKeys: (records) => writeRecords(view, records),
    // Its buckets live on their only possible holder: writes work while the process does.
    clusterHealth: () => true,
    maintenance: () => ({ ok: false, reason: 'a single-member cluster cannot lose its only replica' }),
    markDrained: async () => {}, // never draining: it has nowhere to move data to
    announce: () => {},
    leave: async () => {},
    stop: async () => {},
  };
}
