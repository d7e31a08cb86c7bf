// A process in a cluster of many: its root role (when given), the membership agent that heartbeats
// to every root and caches the maps, the multi-member ClusterView, the replicas of the other members
// over internal RPC, and the routes peers call. The cluster of one is in membership.ts.
import type { Router } from 'express';
import type { ChunkReplica, MetaReplica } from '../data/replicas.ts';
import { MemberReplicas } from '../data/replica-directory.ts';
import { replicaRoutes } from '../data/replica-routes.ts';
import type { ClusterSettings, RepairProgress, Role } from '../cluster/types.ts';
import type { ClusterMaps } from '../cluster/maps.ts';
import { RootService, type MapsAnswer } from '../cluster/root.ts';
import { MembershipAgent } from '../cluster/agent.ts';
import { MultiClusterView } from '../cluster/view.ts';
import { PeerHealth } from '../cluster/peer-health.ts';
import type { DiskMonitor } from '../chunks/disk.ts';
import { membershipRoutes } from '../cluster/routes.ts';
import { maintenanceVerdict, writeQuorumVerdict } from '../cluster/health.ts';
import { RpcClient } from '../rpc/client.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import { logger } from '../util/log.ts';
import type { Membership } from './membership.ts';
import { writeRecords, type RegistryRecords } from './registry-records.ts';

const log = logger('cluster');

export interface JoinOptions {
  selfId: string; // loadOrCreateNodeId(dataDir)
  roles: Role[];
  name: string;
  dataDir: string;
  api: string; // advertised file API URL, e.g. http://127.0.0.2:9000
  cluster: string; // advertised cluster port URL, e.g. http://127.0.0.2:9100
  roots: string[]; // cluster URLs of the roots (may include this process)
  zone?: string;
  weight?: number;
  secret: string;
  /** Cluster settings given by flags: a root records them in the map; every member applies them locally. */
  settings?: Partial<ClusterSettings>;
  /** This member's stores (role node). */
  local?: { chunks: ChunkReplica; meta: MetaReplica };
  /** Usage reported in heartbeats. */
  usage?: () => Promise<{ usedBytes: number; chunks: number; capacityBytes: number }> | { usedBytes: number; chunks: number; capacityBytes: number };
  /** In-memory usage counters read at every heartbeat (`usage` is refreshed only every 2 s), so
   *  `cairn status` shows a write within about a heartbeat instead of up to 4 s later. */
  liveUsage?: () => { usedBytes: number; chunks: number };
  heartbeatMs?: number; // default 1000
  /** This member's repair progress, reported in heartbeats so any root's status shows every member's. */
  repairProgress?: () => RepairProgress | undefined;
  /** Maps to take over when this root starts without any (e.g. a former single-process registry). */
  seed?: Partial<ClusterMaps>;
  /** The node's metrics (internal RPC latency and errors). */
  metrics?: NodeMetrics;
  /** This member's data disk, reported in heartbeats (a full one takes no new chunks, a failed one is down). */
  disk?: DiskMonitor;
}

export interface JoinedCluster extends Membership {
  readonly selfId: string;
  readonly view: MultiClusterView;
  readonly agent: MembershipAgent;
  readonly root?: RootService;
  readonly rpc: RpcClient;
  readonly health: PeerHealth;
}

export async function joinCluster(o: JoinOptions): Promise<JoinedCluster> {
  const rpc = new RpcClient({ secret: o.secret, metrics: o.metrics });
  const root = o.roles.includes('root') ? await RootService.open({ selfId: o.selfId, dataDir: o.dataDir, settings: o.settings, seed: o.seed }) : undefined;

  let usage = { usedBytes: 0, chunks: 0, capacityBytes: 0 };
  const refreshUsage = async () => {
    try {
      if (o.usage) usage = await o.usage();
    } catch (e) {
      log.warn({ err: e }, 'usage unavailable');
    }
  };
  await refreshUsage();
  const usageTimer = setInterval(() => void refreshUsage(), 2000);
  usageTimer.unref();

  // Which members answer: every call's outcome is evidence, told to the roots with each heartbeat.
  const health = new PeerHealth();
  const agent = await MembershipAgent.open({
    selfId: o.selfId,
    dataDir: o.dataDir,
    rpc,
    localRoot: root,
    roots: o.roots,
    heartbeatMs: o.heartbeatMs ?? 1000,
    suspects: () => health.suspects(),
    self: () => ({
      id: o.selfId,
      name: o.name,
      roles: o.roles,
      api: o.api,
      cluster: o.cluster,
      zone: o.zone ?? '',
      weight: o.weight ?? 1,
      capacityBytes: usage.capacityBytes,
      usedBytes: usage.usedBytes,
      chunks: usage.chunks,
      ...(o.liveUsage ? o.liveUsage() : {}),
      ...(o.repairProgress ? { repair: safely(o.repairProgress) } : {}),
      ...(o.disk ? { disk: o.disk.status.state, freeBytes: o.disk.status.freeBytes } : {}),
    }),
  });
  // The roots hear of a full or failed disk at once, not a heartbeat later.
  const unwatchDisk = o.disk?.onChange(() => agent.beatNow());
  const view = new MultiClusterView({ agent, overrides: localOverrides(o.settings) });
  const memberAt = (url: string) => {
    const at = new URL(url).origin;
    return view.members().find((m) => m.cluster && new URL(m.cluster).origin === at);
  };
  rpc.peerNameOf = (url) => memberAt(url)?.name;
  rpc.onPeerOutcome = (url, reached) => {
    const m = memberAt(url);
    if (m) {
      if (reached) health.answered(m.id);
      else health.unreachable(m.id);
    }
  };

  let keysRegistered = true;
  let stopped = false;
  if (root) {
    // Registry changes reach every member before the writer is answered (bounded; failures ignored:
    // a member that misses the push gets the change with its next heartbeat).
    root.broadcast = async (maps) => {
      const others = view.members().filter((m) => m.id !== o.selfId && m.state !== 'down' && m.cluster);
      const answer: MapsAnswer = 'none'; // nothing comes back: a member's news reaches the roots by its heartbeats
      await Promise.allSettled(
        others.map((m) =>
          rpc.json(m.cluster, { method: 'POST', path: '/rpc/v1/maps', json: { maps, answer }, timeoutMs: 1000, peerName: m.name, op: 'maps.broadcast' }),
        ),
      );
    };
    root.start();
  }
  agent.start();
  log.info({ member: o.selfId, name: o.name, roles: o.roles, roots: o.roots }, 'cluster roles started');

  const routes: Router[] = [membershipRoutes({ agent, root }), replicaRoutes(o.local)];
  return {
    selfId: o.selfId,
    view,
    agent,
    root,
    rpc,
    health,
    replicas: new MemberReplicas({ selfId: o.selfId, member: (id) => view.member(id), local: o.local, rpc }),
    rpcRoutes: routes,
    ready: () => keysRegistered && (agent.ready || view.members().some((m) => m.id === o.selfId)),
    /**
     * Register access keys with the roots, retrying in the background until a root answers; ready()
     * waits for it. A key already in the cached map costs nothing, so a restart with every root down
     * is ready at once.
     */
    async registerKeys(records: RegistryRecords) {
      keysRegistered = false;
      void (async () => {
        for (let attempt = 0; !stopped; attempt++) {
          try {
            await writeRecords(view, records);
            keysRegistered = true;
            return;
          } catch (e) {
            if (attempt % 10 === 0) log.warn({ err: (e as Error).message }, 'access keys not registered yet; retrying');
            await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)).unref());
          }
        }
      })();
    },
    clusterHealth: () => writeQuorumVerdict(view.members(), view.buckets()),
    maintenance: (pending) => maintenanceVerdict(o.selfId, view.members(), view.buckets(), pending),
    markDrained: (memberId) => view.markDrained(memberId),
    announce: () => agent.beatNow(),
    leave: () => agent.stop(),
    async stop() {
      stopped = true;
      clearInterval(usageTimer);
      unwatchDisk?.();
      await agent.stop();
      await root?.stop();
      await rpc.close();
    },
  };
}

// Settings that are about this process rather than the whole cluster stay local; cluster-wide ones
// (replicas, chunk size, failure timeout) come from the roots' map so every member agrees.
function localOverrides(s: Partial<ClusterSettings> | undefined): Partial<ClusterSettings> {
  return s?.region !== undefined ? { region: s.region } : {};
}

// A failing progress getter must not stop the heartbeats that keep this member in the cluster.
function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    log.warn({ err: e }, 'repair progress unavailable');
    return undefined;
  }
}
