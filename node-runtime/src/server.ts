// The composition root of one Cairn process: open the stores, build the cluster view and the
// ObjectService, serve the file API (S3) and the cluster port. Keep it thin: every behaviour lives
// in the layer that owns it; this file only wires them together and knows the start/stop order.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { ChunkStore } from './chunks/store.ts';
import { MetaStore } from './meta/store.ts';
import { StandaloneClusterView } from './cluster/standalone.ts';
import { loadOrCreateNodeId } from './cluster/identity.ts';
import { startClusterRoles, type ClusterRoles } from './cluster/roles.ts';
import type { MultiClusterView } from './cluster/view.ts';
import { LocalChunkReplica, LocalMetaReplica } from './data/local-replica.ts';
import { MemberReplicas } from './data/replica-directory.ts';
import type { ReplicaDirectory } from './data/replicas.ts';
import { adminRouter } from './admin/server.ts';
import { maintenanceVerdict, writeQuorumVerdict } from './cluster/health.ts';
import type { AccessKey, ClusterView, Role } from './cluster/types.ts';
import { ClusterObjectService } from './data/objects.ts';
import type { ObjectService } from './data/types.ts';
import { createS3App } from './s3/app.ts';
import { startSelfHealing, type SelfHealing } from './repair/service.ts';
import { healthRouter } from './observability/health.ts';
import { metricsHandler, setNodeLabel } from './observability/metrics.ts';
import { collectMembership, collectNodeUsage } from './observability/collectors.ts';
import { logger } from './util/log.ts';

const log = logger('server');

export interface NodeOptions {
  dataDir: string;
  roles?: Role[];                 // default ['root', 'node']
  name?: string;                  // default: the node id
  api?: string;                   // HOST:PORT of the file API, default 0.0.0.0:9000 (port 0 = any)
  cluster?: string;               // HOST:PORT of the cluster port, default 0.0.0.0:9100
  advertise?: string;             // host others use to reach this process; default the api host
  roots?: string[];               // cluster-port URLs of roots to join
  zone?: string;
  weight?: number;
  secret?: string;                // cluster secret (internal RPC + admin auth)
  accessKey?: string;             // root S3 key pair; generated and kept in dataDir when absent
  secretKey?: string;
  keysFile?: string;              // extra key pairs: JSON [{accessKeyId, secretAccessKey, buckets?}]
  replicas?: number;              // default R for new buckets
  chunkSize?: number;
  region?: string;
  failureTimeoutMs?: number;      // cluster settings recorded by a root (self-healing)
  gcGraceMs?: number;
  repairBandwidthBytes?: number;
  repairConcurrency?: number;
}

export interface RunningNode {
  id: string;
  name: string;
  roles: Role[];
  dataDir: string;
  endpoint: string;               // file API base URL
  clusterUrl: string;             // cluster port base URL
  region: string;
  accessKey: string;
  secretKey: string;
  view: ClusterView;
  replicas: ReplicaDirectory;
  objects: ObjectService;
  stores: { chunks: ChunkStore; meta: MetaStore };
  clusterApp: Express;            // the cluster port's express app (admin and RPC routes mount here)
  stop(): Promise<void>;
}

export function parseHostPort(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`invalid HOST:PORT ${JSON.stringify(s)}`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  const port = m[3] !== undefined ? Number(m[3]) : defaultPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port in ${JSON.stringify(s)}`);
  return { host, port };
}

async function writeFileDurably(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fd = await open(tmp, 'w', 0o600);
  try { await fd.writeFile(data); await fd.sync(); } finally { await fd.close(); }
  await rename(tmp, path);
}

/** The root key pair: given, or the one kept in `<dataDir>/root-key.json`, or a new one saved there. */
async function rootKey(dataDir: string, given: { accessKey?: string; secretKey?: string }): Promise<AccessKey> {
  if (given.accessKey || given.secretKey) {
    if (!given.accessKey || !given.secretKey) throw new Error('--access-key and --secret-key must be given together');
    return { accessKeyId: given.accessKey, secretAccessKey: given.secretKey, name: 'root' };
  }
  const path = join(dataDir, 'root-key.json');
  try {
    const k = JSON.parse(await readFile(path, 'utf8')) as AccessKey;
    if (typeof k.accessKeyId !== 'string' || typeof k.secretAccessKey !== 'string') throw new Error(`${path} is not a key pair`);
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, name: 'root' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const k: AccessKey = { accessKeyId: 'CAIRN' + randomBytes(8).toString('hex').toUpperCase(), secretAccessKey: randomBytes(30).toString('base64url'), name: 'root' };
  await writeFileDurably(path, JSON.stringify(k, null, 2) + '\n');
  return k;
}

/** Extra key pairs from a keys file: JSON [{accessKeyId, secretAccessKey, buckets?, name?}]. */
export async function loadKeysFile(path: string): Promise<AccessKey[]> {
  let data: unknown;
  try { data = JSON.parse(await readFile(path, 'utf8')); } catch (e) { throw new Error(`keys file ${path}: ${(e as Error).message}`); }
  if (!Array.isArray(data)) throw new Error(`keys file ${path}: expected a JSON array of {accessKeyId, secretAccessKey, buckets?}`);
  return data.map((k, i) => {
    const ok = k && typeof k.accessKeyId === 'string' && /^[A-Za-z0-9._-]{3,128}$/.test(k.accessKeyId)
      && typeof k.secretAccessKey === 'string' && k.secretAccessKey.length >= 8
      && (k.buckets === undefined || (Array.isArray(k.buckets) && k.buckets.every((b: unknown) => typeof b === 'string')));
    if (!ok) throw new Error(`keys file ${path}: entry ${i} needs accessKeyId (3-128 of [A-Za-z0-9._-]), secretAccessKey (8+ chars) and optional buckets (string array)`);
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, buckets: k.buckets, name: typeof k.name === 'string' ? k.name : undefined };
  });
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer(handler);
    srv.once('error', reject);
    srv.listen(port, host, () => resolve(srv));
    // Large uploads may take longer than Node's default 5 minute request limit.
    srv.requestTimeout = 0;
    srv.keepAliveTimeout = 65_000;
    srv.on('clientError', (err: NodeJS.ErrnoException, socket: import('node:net').Socket) => {
      // A client that half-closes its side in the middle of a body: the request in flight sees the
      // short body and answers IncompleteBody itself, so leave the socket to it (Node's default
      // handler would answer a bare 400 and cut it).
      if (err.code === 'HPE_INVALID_EOF_STATE' && socket.writable) {
        socket.setTimeout(30_000, () => socket.destroy());
        return;
      }
      if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      socket.destroy();
    });
  });
}

function close(srv: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => srv.closeAllConnections(), graceMs);
    srv.close(() => { clearTimeout(force); resolve(); });
    srv.closeIdleConnections();
  });
}

/** Below this much free disk a node stops reporting ready (a chunk and its temp copy must fit). */
const MIN_FREE_BYTES = 128 * 1024 * 1024;

const urlHost = (h: string) => (h.includes(':') ? `[${h}]` : h);

/** Live object versions in the metadata partitions this member holds (every replica counts). */
async function storedObjects(meta: MetaStore): Promise<number> {
  let n = 0;
  for (const b of await meta.bucketsWithData()) n += (await meta.bucketUsage(b)).objects;
  return n;
}

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const roles = opts.roles ?? ['root', 'node'];
  const apiAddr = parseHostPort(opts.api ?? '0.0.0.0:9000', 9000);
  const clusterAddr = parseHostPort(opts.cluster ?? '0.0.0.0:9100', 9100);
  await mkdir(opts.dataDir, { recursive: true });
  const id = await loadOrCreateNodeId(opts.dataDir);
  const name = opts.name ?? id;
  setNodeLabel(name);

  // 1. Stores.
  const chunks = await ChunkStore.open(opts.dataDir);
  const meta = MetaStore.open(opts.dataDir);
  const cleanups: (() => Promise<void>)[] = [() => meta.close()];
  const servers: Server[] = [];
  let ready = false;
  try {
    const root = await rootKey(opts.dataDir, opts);
    const extraKeys = opts.keysFile ? await loadKeysFile(opts.keysFile) : [];

    // 2. Listen first (port 0 resolves to the real port), answer 503 until ready.
    const clusterApp = express();
    clusterApp.disable('x-powered-by');
    // No peer or admin client sends If-None-Match; an ETag would SHA-1 every RPC answer for nothing.
    clusterApp.disable('etag');
    const s3Holder: { app?: Express } = {};
    // The file API port hands each request straight to the S3 app once it exists (a plain listener,
    // not an express app of its own: one router per request, not two — it showed in small-GET profiles).
    const apiHandler = (req: IncomingMessage, res: ServerResponse) => {
      if (s3Holder.app) { s3Holder.app(req, res); return; }
      res.writeHead(503, { 'retry-after': '1' }).end();
    };
    const apiServer = await listen(apiHandler, apiAddr.host, apiAddr.port);
    servers.push(apiServer);
    const clusterServer = await listen(clusterApp, clusterAddr.host, clusterAddr.port);
    servers.push(clusterServer);
    const advertise = opts.advertise ?? (['0.0.0.0', '::', ''].includes(apiAddr.host) ? '127.0.0.1' : apiAddr.host);
    const endpoint = `http://${urlHost(advertise)}:${(apiServer.address() as AddressInfo).port}`;
    const clusterUrl = `http://${urlHost(advertise)}:${(clusterServer.address() as AddressInfo).port}`;

    // 3. Cluster view. A process joins a multi-member cluster (cluster/roles.ts) when it is given
    //    roots or is not both root and node; `--role root,node` without --roots stays a
    //    single-process cluster. The rest of this function only needs a ClusterView.
    let cluster: ClusterRoles | undefined;
    let view: StandaloneClusterView | MultiClusterView;
    let replicas: ReplicaDirectory;
    let healing: SelfHealing | undefined;
    const settings = {
      defaultReplicas: opts.replicas, chunkSize: opts.chunkSize, region: opts.region, failureTimeoutMs: opts.failureTimeoutMs,
      gcGraceMs: opts.gcGraceMs, repairBandwidthBytes: opts.repairBandwidthBytes, repairConcurrency: opts.repairConcurrency,
    };
    if (opts.roots?.length || !(roles.includes('root') && roles.includes('node'))) {
      if (!opts.secret) throw new Error('a cluster secret is required to form a cluster (--secret or CAIRN_CLUSTER_SECRET)');
      cluster = await startClusterRoles({
        selfId: id, roles, name, dataDir: opts.dataDir, api: endpoint, cluster: clusterUrl, roots: opts.roots ?? [],
        zone: opts.zone, weight: opts.weight, secret: opts.secret, settings,
        repairProgress: () => healing?.repair?.snapshot(),
        // A data dir that ran as a single-process cluster keeps its buckets and keys (same LWW maps).
        seed: { buckets: meta.getKV('registry.buckets') ?? {}, keys: meta.getKV('registry.keys') ?? {} },
        local: roles.includes('node') ? { chunks: new LocalChunkReplica(id, chunks), meta: new LocalMetaReplica(id, meta) } : undefined,
        // A root-only process stores nothing: it reports no capacity so status sums only data members.
        usage: async () => (roles.includes('node') ? { usedBytes: chunks.usedBytes(), chunks: chunks.chunkCount(), capacityBytes: await chunks.capacityBytes() } : { usedBytes: 0, chunks: 0, capacityBytes: 0 }),
        liveUsage: roles.includes('node') ? () => ({ usedBytes: chunks.usedBytes(), chunks: chunks.chunkCount() }) : undefined,
      });
      cleanups.push(() => cluster!.stop());
      view = cluster.view;
      replicas = cluster.replicas;
      cluster.ensureKeys([root, ...extraKeys]);
    } else {
      view = await StandaloneClusterView.open({
        self: { id, name, roles, api: endpoint, cluster: clusterUrl, zone: opts.zone ?? '', weight: opts.weight ?? 1, capacityBytes: await chunks.capacityBytes() },
        meta, usedBytes: () => chunks.usedBytes(), settings,
      });
      const single = view;
      replicas = new MemberReplicas({ selfId: id, member: (m) => single.member(m), local: { chunks: new LocalChunkReplica(id, chunks), meta: new LocalMetaReplica(id, meta) } });
      for (const k of [root, ...extraKeys]) await view.putAccessKey(k);
    }
    const objects = new ClusterObjectService({ view, replicas });
    // Self-healing: repair, rebalancing, drain, scrub and GC on data members (repair/service.ts).
    const multi = cluster?.view;
    healing = startSelfHealing({
      view, replicas, stores: roles.includes('node') ? { chunks, meta } : undefined, secret: opts.secret,
      markDrained: multi ? (memberId) => multi.markDrained(memberId) : undefined,
      announce: cluster ? () => cluster.agent.beatNow() : undefined,
    });
    const heal = healing;
    cleanups.push(() => heal.stop());

    // 4. Cluster port: metrics, internal RPC and the admin API (both behind the cluster secret), health.
    clusterApp.get('/metrics', metricsHandler);
    // State gauges set at scrape time: this node's storage (data members), and the cluster map of a
    // single-process cluster (it is its own root; multi-member roots register theirs in cluster/roles.ts).
    const unregister: (() => void)[] = [];
    if (roles.includes('node')) {
      unregister.push(collectNodeUsage(async () => ({
        capacityBytes: await chunks.capacityBytes(), usedBytes: chunks.usedBytes(), chunks: chunks.chunkCount(), objects: await storedObjects(meta),
      })));
    }
    if (!cluster) {
      unregister.push(collectMembership({ members: () => view.members(), writeQuorumAvailable: () => writeQuorumVerdict(view.members(), view.buckets()).ok, bucketCount: () => view.buckets().length }));
    }
    cleanups.push(async () => { for (const u of unregister) u(); });
    clusterApp.use(healing.router);
    if (cluster) {
      clusterApp.use('/rpc/v1', cluster.rpcRouter);
      clusterApp.use('/admin/v1', cluster.adminRouter(objects));
    } else if (opts.secret) {
      const single = view as StandaloneClusterView;
      const refuse = (code: string, message: string) => async () => { throw Object.assign(new Error(message), { code, status: 409 }); };
      clusterApp.use('/admin/v1', adminRouter(opts.secret, {
        view: single, replicas, objects, clusterId: () => id, putAccessKey: (k) => single.putAccessKey(k), removeAccessKey: (k) => single.removeAccessKey(k),
        setMemberState: refuse('DrainRefused', 'a single-process cluster has no other member to move data to'),
        forgetMember: refuse('InvalidMemberState', 'a single-process cluster cannot forget its only member'),
        putSettings: refuse('NotSupported', 'a single-process cluster takes its settings from flags'),
        repair: (memberId) => heal.progressOf(memberId),
      }));
    }
    clusterApp.use(healthRouter({
      joined: () => {
        const ok = ready && (cluster?.ready() ?? true);
        return { ok, reason: ok ? 'ok' : ready ? 'not registered with a root yet' : 'starting' };
      },
      storesWritable: async () => {
        const free = await chunks.freeBytes();
        return { ok: free >= MIN_FREE_BYTES, reason: free >= MIN_FREE_BYTES ? 'ok' : `only ${free} bytes free on the data disk` };
      },
      clusterHealth: () => (cluster ? writeQuorumVerdict(view.members(), view.buckets()) : true),
      maintenance: () => (cluster ? maintenanceVerdict(id, view.members(), view.buckets(), healing?.progressOf(id)) : { ok: false, reason: 'a single-member cluster cannot lose its only replica' }),
    }));

    // 5. File API.
    s3Holder.app = createS3App({
      objects,
      region: view.settings().region,
      credentials: (accessKeyId) => {
        const k = view.accessKey(accessKeyId);
        return k ? { secretAccessKey: k.secretAccessKey, buckets: k.buckets } : undefined;
      },
      isPublicRead: (bucket) => view.bucket(bucket)?.access === 'public-read',
    });
    ready = true;
    log.info({ id, name, endpoint, cluster: clusterUrl, dataDir: opts.dataDir }, 'node started');

    let stopping: Promise<void> | undefined;
    return {
      id, name, roles, dataDir: opts.dataDir, endpoint, clusterUrl, region: view.settings().region,
      accessKey: root.accessKeyId, secretKey: root.secretAccessKey, view, replicas, objects, stores: { chunks, meta }, clusterApp,
      stop: () => (stopping ??= (async () => {
        ready = false;
        // Heartbeats stop first so the roots see a clean silence, not a member that half answers.
        await cluster?.agent.stop();
        await Promise.all(servers.map((s) => close(s, 5_000)));
        for (const c of cleanups.reverse()) await c();
        log.info({ id, name }, 'node stopped');
      })()),
    };
  } catch (e) {
    await Promise.all(servers.map((s) => close(s, 0)));
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw e;
  }
}
