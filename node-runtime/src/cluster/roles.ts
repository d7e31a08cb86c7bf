// The cluster side of one `cairn server` process: its identity, the root role (when given), the
// membership agent, the multi-member ClusterView and the cluster-port routers. server.ts builds the
// stores and the file API; this puts the process into the cluster.
import type { Router } from 'express';
import type { ChunkReplica, MetaReplica } from '../data/replicas.ts';
import { MemberReplicas } from '../data/replica-directory.ts';
import { replicaRoutes } from '../data/replica-routes.ts';
import { membershipRoutes } from './routes.ts';
import type { ObjectService } from '../data/types.ts';
import type { AccessKey, ClusterSettings, Role } from './types.ts';
import type { ClusterMaps } from './maps.ts';
import type { RepairProgress } from '../admin/types.ts';
import { RootService } from './root.ts';
import { MembershipAgent } from './agent.ts';
import { MultiClusterView } from './view.ts';
import { RpcClient } from '../rpc/client.ts';
import { rpcRouter } from '../rpc/router.ts';
import { adminRouter } from '../admin/server.ts';
import { logger } from '../util/log.ts';
import { collectMembership } from '../observability/collectors.ts';
import { writeQuorumVerdict } from './health.ts';

const log = logger('cluster');

export interface ClusterRolesOptions {
  selfId: string;                 // loadOrCreateNodeId(dataDir)
  roles: Role[];
  name: string;
  dataDir: string;
  api: string;                    // advertised file API URL, e.g. http://127.0.0.2:9000
  cluster: string;                // advertised cluster port URL, e.g. http://127.0.0.2:9100
  roots: string[];                // cluster URLs of the roots (may include this process)
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
  heartbeatMs?: number;           // default env CAIRN_HEARTBEAT_MS or 1000
  /** This member's repair progress, reported in heartbeats so any root's status shows every member's. */
  repairProgress?: () => RepairProgress | undefined;
  /** Maps to take over when this root starts without any (e.g. a former single-process registry). */
  seed?: Partial<ClusterMaps>;
}

export interface ClusterRoles {
  readonly selfId: string;
  readonly view: MultiClusterView;
  readonly agent: MembershipAgent;
  readonly root?: RootService;
  readonly rpc: RpcClient;
  readonly replicas: MemberReplicas;
  /** Mount at `/rpc/v1` on the cluster port. */
  readonly rpcRouter: Router;
  /** Mount at `/admin/v1` on the cluster port (needs the ObjectService for bucket create/delete). */
  adminRouter(objects: ObjectService): Router;
  /** Joined (a root answered) or serving from a cached map that knows this member, and the keys given to ensureKeys are registered. */
  ready(): boolean;
  /**
   * Register access keys (the root key, a keys file) with the roots, retrying in the background
   * until a root answers; ready() waits for it. A key already in the cached map costs nothing, so a
   * restart with every root down is ready at once.
   */
  ensureKeys(keys: AccessKey[]): void;
  stop(): Promise<void>;
}

export async function startClusterRoles(o: ClusterRolesOptions): Promise<ClusterRoles> {
  const rpc = new RpcClient({ secret: o.secret });
  const isRoot = o.roles.includes('root');
  // The failure timeout is a cluster setting; env CAIRN_FAILURE_TIMEOUT_MS sets it on a root (tests use seconds).
  const envTimeout = Number(process.env.CAIRN_FAILURE_TIMEOUT_MS);
  if (o.settings?.failureTimeoutMs === undefined && envTimeout > 0) o = { ...o, settings: { ...o.settings, failureTimeoutMs: envTimeout } };
  const root = isRoot ? await RootService.open({ selfId: o.selfId, dataDir: o.dataDir, settings: o.settings, seed: o.seed }) : undefined;

  let usage = { usedBytes: 0, chunks: 0, capacityBytes: 0 };
  const refreshUsage = async () => {
    try { if (o.usage) usage = await o.usage(); } catch (e) { log.warn({ err: e }, 'usage unavailable'); }
  };
  await refreshUsage();
  const usageTimer = setInterval(() => void refreshUsage(), 2000);
  usageTimer.unref();

  const agent = await MembershipAgent.open({
    selfId: o.selfId, dataDir: o.dataDir, rpc, localRoot: root, roots: o.roots,
    heartbeatMs: o.heartbeatMs ?? (Number(process.env.CAIRN_HEARTBEAT_MS) || 1000),
    self: () => ({
      id: o.selfId, name: o.name, roles: o.roles, api: o.api, cluster: o.cluster, zone: o.zone ?? '', weight: o.weight ?? 1,
      capacityBytes: usage.capacityBytes, usedBytes: usage.usedBytes, chunks: usage.chunks,
      ...(o.liveUsage ? o.liveUsage() : {}),
      ...(o.repairProgress ? { repair: safely(o.repairProgress) } : {}),
    }),
  });
  const view = new MultiClusterView({ agent, overrides: localOverrides(o.settings) });
  const replicas = new MemberReplicas({ selfId: o.selfId, member: (id) => view.member(id), local: o.local, rpc });
  rpc.peerNameOf = (url) => { const at = new URL(url).origin; return view.members().find((m) => m.cluster && new URL(m.cluster).origin === at)?.name; };

  let keysRegistered = true;
  const unregister: (() => void)[] = [];
  let stopped = false;
  if (root) {
    // Registry changes reach every member before the writer is answered (bounded; failures ignored:
    // a member that misses the push gets the change with its next heartbeat).
    root.broadcast = async (maps) => {
      const others = view.members().filter((m) => m.id !== o.selfId && m.state !== 'down' && m.cluster);
      await Promise.allSettled(others.map((m) => rpc.json(m.cluster, { method: 'POST', path: '/rpc/v1/maps', json: { maps }, timeoutMs: 1000, peerName: m.name, op: 'maps.broadcast' })));
    };
    root.start();
    const quorum = () => writeQuorumVerdict(view.members(), view.buckets()).ok;
    unregister.push(collectMembership({ members: () => view.members(), writeQuorumAvailable: quorum, bucketCount: () => view.buckets().length }));
  }
  agent.start();
  log.info({ member: o.selfId, name: o.name, roles: o.roles, roots: o.roots }, 'cluster roles started');

  return {
    selfId: o.selfId, view, agent, root, rpc, replicas,
    rpcRouter: rpcRouter(o.secret, [membershipRoutes({ agent, root }), replicaRoutes(o.local)]),
    adminRouter: (objects) => adminRouter(o.secret, {
      view, replicas, objects, clusterId: () => view.clusterId(),
      putAccessKey: (k) => view.putAccessKey(k), removeAccessKey: (id) => view.removeAccessKey(id),
      setMemberState: (id, s) => view.setMemberState(id, s), forgetMember: (id) => view.forgetMember(id),
      putSettings: (c) => view.putSettings(c),
    }),
    ready: () => keysRegistered && (agent.ready || view.members().some((m) => m.id === o.selfId)),
    ensureKeys(keys) {
      keysRegistered = false;
      void (async () => {
        for (let attempt = 0; !stopped; attempt++) {
          try {
            for (const k of keys) await view.putAccessKey(k);
            keysRegistered = true;
            return;
          } catch (e) {
            if (attempt % 10 === 0) log.warn({ err: (e as Error).message }, 'access keys not registered yet; retrying');
            await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)).unref());
          }
        }
      })();
    },
    async stop() {
      stopped = true;
      clearInterval(usageTimer);
      for (const u of unregister) u();
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
  try { return fn(); } catch (e) { log.warn({ err: e }, 'repair progress unavailable'); return undefined; }
}
