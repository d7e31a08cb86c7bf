// The composition root of one Cairn process: open the stores, take this process's place in the
// cluster (membership.ts: a cluster of one or a member of many), build the ObjectService and self-
// healing over it, and serve the file API (S3) and the cluster port. Keep it thin: every behaviour
// lives in the layer that owns it; this folder only wires them and knows the start/stop order.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { ChunkStore } from '../chunks/store.ts';
import { BufferMemory } from '../chunks/memory.ts';
import { DiskMonitor } from '../chunks/disk.ts';
import { MetaStore } from '../meta/store.ts';
import { loadOrCreateNodeId } from '../cluster/identity.ts';
import { writeQuorumVerdict } from '../cluster/health.ts';
import type { ClusterControl, Role } from '../cluster/types.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import { ClusterObjectService } from '../data/objects.ts';
import type { ObjectService } from '../data/types.ts';
import { rpcRouter } from '../rpc/router.ts';
import { secretMatches } from '../rpc/auth.ts';
import { adminRouter } from '../admin/server.ts';
import { createS3App } from '../s3/app.ts';
import { healthRouter } from '../observability/health.ts';
import { NodeMetrics } from '../observability/metrics.ts';
import { logger } from '../util/log.ts';
import { createAdminClient } from '../admin/client.ts';
import { keyForPerson } from '../console/oidc.ts';
import { startConsole } from '../console/server.ts';
import { hkdfSync } from 'node:crypto';
import { collectMembership, collectNodeUsage, collectQuotas } from './collectors.ts';
import { usageByBucket, userUsage } from '../admin/usage.ts';
import { readZoneFile, VolumeCapacity } from './facts.ts';
import { DEFAULT_BUFFER_MEMORY_MIB, withEnvironment, type NodeOptions } from './config.ts';
import { loadKeysFile, masterKey as loadMasterKey, rootKey, startupRecords } from './keys.ts';
import { directoryOf } from './directory.ts';
import { openSecret, sealSecret, type KeyRecord } from '../access/users.ts';
import { close, listen, parseHostPort, urlHost } from './listen.ts';
import { Admission } from './admission.ts';
import { giveBack, RestWatch } from './at-rest.ts';
import { openMembership } from './membership.ts';
import { startSelfHealing, type SelfHealing } from './self-healing.ts';
import { LifecycleWorker } from '../s3/lifecycle-worker.ts';
import { WorkerRunner } from '../util/background.ts';
import { startEvents, type NodeEvents } from './events.ts';
import { wireChangeFeed } from './change-feed.ts';
import { requireClusterSecret } from '../rpc/auth.ts';
import { memberReplication, REPLICATION_PROGRESS_PATH, replicationProgress, startReplication, type MemberReplication } from './replication.ts';

export type { NodeOptions };

const log = logger('server');

export interface RunningNode {
  id: string;
  name: string;
  roles: Role[];
  dataDir: string;
  endpoint: string; // file API base URL
  clusterUrl: string; // cluster port base URL
  region: string;
  accessKey: string;
  secretKey: string;
  view: ClusterControl;
  replicas: ReplicaDirectory;
  objects: ObjectService;
  stores: { chunks: ChunkStore; meta: MetaStore };
  /** This node's metrics (its own registry, labelled with its name) and buffer memory. */
  metrics: NodeMetrics;
  memory: BufferMemory;
  clusterApp: Express; // the cluster port's express app (admin and RPC routes mount here)
  consoleUrl?: string; // the web console, when this node serves one
  admission: Admission; // the file API's limits past capacity
  events: NodeEvents; // the event outbox and the delivery workers of this member
  stop(): Promise<void>;
}

/** Live object versions in the metadata partitions this member holds (every replica counts). */
async function storedObjects(meta: MetaStore): Promise<number> {
  let n = 0;
  for (const b of await meta.bucketsWithData()) n += (await meta.bucketUsage(b)).objects;
  return n;
}

export async function startNode(given: NodeOptions): Promise<RunningNode> {
  const opts = withEnvironment(given);
  const roles = opts.roles ?? ['root', 'node'];
  const holdsData = roles.includes('node');
  const apiAddr = parseHostPort(opts.api ?? '0.0.0.0:9000', 9000);
  const clusterAddr = parseHostPort(opts.cluster ?? '0.0.0.0:9100', 9100);
  await mkdir(opts.dataDir, { recursive: true });
  const id = await loadOrCreateNodeId(opts.dataDir);
  const name = opts.name ?? id;
  // What belongs to this node alone, even with others in the same process (tests).
  const metrics = new NodeMetrics(name);
  const memory = new BufferMemory(opts.bufferMemoryBytes ?? DEFAULT_BUFFER_MEMORY_MIB * 1024 * 1024);

  // 1. Stores.
  const chunks = await ChunkStore.open(opts.dataDir, { directIo: opts.directIo });
  const meta = MetaStore.open(opts.dataDir);
  const volume = new VolumeCapacity(chunks, opts.volumeSizeFile);
  const cleanups: (() => Promise<void>)[] = [() => meta.close()];
  // The data disk, watched while the node runs: full takes no new chunks, failed takes the node out.
  // Its size is the volume's (node/facts.ts): the smaller of the file system and the volume's given size.
  const disk = new DiskMonitor({ dir: opts.dataDir, reserveBytes: opts.diskReserveBytes, volume: () => volume.limits() });
  cleanups.push(async () => disk.stop());
  const servers: Server[] = [];
  let ready = false;
  try {
    await disk.start();
    const root = await rootKey(opts.dataDir, opts);
    const zone = opts.zone ?? (opts.zoneFile !== undefined ? await readZoneFile(opts.zoneFile) : undefined);
    const extraKeys = opts.keysFile ? await loadKeysFile(opts.keysFile) : [];
    const master = await loadMasterKey(opts.dataDir, opts);
    // Every member records the mutations it coordinates (roots answer file requests too).
    const events = await startEvents({
      dir: join(opts.dataDir, 'events'),
      node: name,
      metrics,
      targetsFile: opts.notificationTargets,
      retainMs: opts.eventsRetainMs,
      maxBytes: opts.eventsMaxBytes,
      retryMaxMs: opts.eventsRetryMaxMs,
    });
    cleanups.push(() => events.stop());

    // 2. Listen first (port 0 resolves to the real port), answer 503 until ready.
    const clusterApp = express();
    clusterApp.disable('x-powered-by');
    // No peer or admin client sends If-None-Match; an ETag would SHA-1 every RPC answer for nothing.
    clusterApp.disable('etag');
    const s3Holder: { app?: Express } = {};
    // The file API port hands each request straight to the S3 app once it exists (a plain listener,
    // not an express app of its own: one router per request, not two — it showed in small-GET profiles).
    // Past its capacity the node refuses early with 503 SlowDown (admission.ts).
    const admission = new Admission({ limits: opts.admission, memory: memory.chunks, metrics });
    // At rest (no file request and no peer's data call for a while) the node gives back the memory
    // its bursts left behind (at-rest.ts).
    const rest = new RestWatch({
      restAfterMs: opts.restAfterMs,
      onRest: () => {
        const t0 = performance.now();
        const given = giveBack([meta.mappedFile]);
        log.debug({ ...given, ms: Math.round(performance.now() - t0) }, 'at rest: memory given back');
      },
    });
    cleanups.push(async () => rest.stop());
    const busy = (res: ServerResponse) => res.once('close', rest.begin());
    const apiHandler = admission.wrap((req: IncomingMessage, res: ServerResponse) => {
      busy(res);
      if (s3Holder.app) {
        s3Holder.app(req, res);
        return;
      }
      res.writeHead(503, { 'retry-after': '1' }).end();
    });
    const apiServer = await listen(apiHandler, apiAddr.host, apiAddr.port, opts.timeouts, { deferContinue: true });
    admission.watch(apiServer);
    servers.push(apiServer);
    const clusterServer = await listen(clusterApp, clusterAddr.host, clusterAddr.port, opts.timeouts);
    servers.push(clusterServer);
    const advertise = opts.advertise ?? (['0.0.0.0', '::', ''].includes(apiAddr.host) ? '127.0.0.1' : apiAddr.host);
    const endpoint = `http://${urlHost(advertise)}:${(apiServer.address() as AddressInfo).port}`;
    const clusterUrl = `http://${urlHost(advertise)}:${(clusterServer.address() as AddressInfo).port}`;

    // 3. This process's place in the cluster; the rest of this function is the same for every size.
    let healing: SelfHealing | undefined;
    const membership = await openMembership({
      selfId: id,
      roles,
      name,
      dataDir: opts.dataDir,
      api: endpoint,
      cluster: clusterUrl,
      roots: opts.roots ?? [],
      zone,
      weight: opts.weight,
      secret: opts.secret,
      heartbeatMs: opts.heartbeatMs,
      stores: { chunks, meta, memory: memory.chunks },
      disk: holdsData ? disk : undefined,
      metrics,
      capacityBytes: () => volume.capacityBytes(),
      settings: {
        defaultReplicas: opts.replicas,
        chunkSize: opts.chunkSize,
        region: opts.region,
        failureTimeoutMs: opts.failureTimeoutMs,
        gcGraceMs: opts.gcGraceMs,
        repairBandwidthBytes: opts.repairBandwidthBytes,
        repairConcurrency: opts.repairConcurrency,
      },
      repairProgress: () => healing?.repair?.snapshot(),
    });
    cleanups.push(() => membership.stop());
    await membership.registerKeys((current) => startupRecords(master, [root], extraKeys, current));
    const { view, replicas } = membership;
    const directory = directoryOf(view, master);
    const objects = new ClusterObjectService(
      { view, replicas, memory, health: membership.health },
      {
        masterKey: master,
        metrics,
        userQuota: (user) => view.user(user)?.quota,
        onMutation: events.recorder(() => view.settings().region),
      },
    );
    // Replication to other S3 stores: what this member coordinated, and backfills (node/replication.ts).
    const replication = await startReplication({
      selfId: id,
      dir: join(opts.dataDir, 'events', 'replication'),
      outbox: events.outbox,
      objects,
      metrics,
      view,
      secret: (rule) => openSecret(master, { accessKeyId: rule.accessKeyId, sealedSecret: rule.sealedSecret } as KeyRecord),
      ...(opts.eventsRetryMaxMs ? { retry: { minMs: Math.min(500, opts.eventsRetryMaxMs), maxMs: opts.eventsRetryMaxMs } } : {}),
    });
    cleanups.push(() => replication.stop());
    if (opts.secret) {
      clusterApp.get(`${REPLICATION_PROGRESS_PATH}/:bucket`, requireClusterSecret(opts.secret), (req, res) => {
        res.json(memberReplication(replication, String(req.params.bucket)) ?? null);
      });
    }
    const replicationOf = async (bucket: string, ruleId: string) => {
      const members = view.members().filter((m) => m.state !== 'down');
      const parts = await Promise.all(
        members.map(async (m) => {
          if (m.id === id) return memberReplication(replication, bucket);
          const res = await fetch(`${m.cluster}${REPLICATION_PROGRESS_PATH}/${encodeURIComponent(bucket)}`, {
            headers: { authorization: `Bearer ${opts.secret}` },
            signal: AbortSignal.timeout(1500),
          }).catch(() => undefined);
          return res?.ok ? (((await res.json().catch(() => null)) as MemberReplication | null) ?? undefined) : undefined;
        }),
      );
      return replicationProgress(parts, ruleId, members.length, Date.now());
    };
    // Self-healing: repair, rebalancing, drain, scrub and GC on data members (self-healing.ts).
    const heal = (healing = startSelfHealing({
      view,
      replicas,
      stores: holdsData ? { chunks, meta, memory: memory.chunks, diskUsable: () => disk.status.state !== 'failed' } : undefined,
      secret: opts.secret,
      metrics,
      markDrained: (memberId) => membership.markDrained(memberId),
      announce: () => membership.announce(),
      repairIntervalMs: opts.repairIntervalMs,
      repairFullIntervalMs: opts.repairFullIntervalMs,
      scrubIntervalMs: opts.scrubIntervalMs,
      scrubBytesPerSec: opts.scrubBytesPerSec,
      uploadExpiryMs: opts.uploadExpiryMs,
    }));
    cleanups.push(() => heal.stop());
    // Lifecycle rules, on data members (each runs the buckets whose first metadata holder it is).
    if (holdsData) {
      const lifecycle = new WorkerRunner(new LifecycleWorker({ view, objects, metrics, dayMs: opts.lifecycleDayMs }), {
        idleMs: opts.lifecycleIntervalMs ?? 3_600_000,
      }).start();
      cleanups.push(() => lifecycle.stop());
    }

    // 4. Cluster port: metrics, internal RPC and the admin API (both behind the cluster secret), health.
    clusterApp.get('/metrics', metrics.handler);
    // State gauges set at scrape time: this node's storage (data members), and the cluster map on
    // roots (a cluster of one is its own root).
    const unregister: (() => void)[] = [];
    if (holdsData) {
      unregister.push(
        collectNodeUsage(metrics, async () => ({
          capacityBytes: await volume.capacityBytes(),
          usedBytes: chunks.usedBytes(),
          chunks: chunks.chunkCount(),
          objects: await storedObjects(meta),
          disk: disk.status,
        })),
      );
    }
    if (roles.includes('root')) {
      unregister.push(
        collectMembership(metrics, {
          members: () => view.members(),
          writeQuorumAvailable: () => writeQuorumVerdict(view.members(), view.buckets()).ok,
          bucketCount: () => view.buckets().length,
        }),
      );
      unregister.push(
        collectQuotas(metrics, async () => {
          const usage = await usageByBucket(view, replicas, 1500); // within the collectors' 2 s
          return {
            buckets: view.buckets().map((b) => ({ bucket: b.name, ...usage.get(b.name)!, quotaBytes: b.quotaBytes, quotaObjects: b.quotaObjects })),
            users: view
              .users()
              .filter((u) => u.quota)
              .map((u) => {
                const x = userUsage(u, view.buckets(), usage);
                return { user: u.id, bytes: x.bytes, objects: x.objects, buckets: x.buckets, quota: u.quota! };
              }),
          };
        }),
      );
    }
    cleanups.push(async () => {
      for (const u of unregister) u();
    });
    clusterApp.use(heal.router);
    const feed = wireChangeFeed({ selfId: id, view, outbox: events.outbox, secret: opts.secret, clusterApp });
    cleanups.push(async () => feed.stop());
    if (opts.secret && membership.rpcRoutes.length) {
      // A peer's data calls keep this node busy; membership traffic (heartbeats, gossip) does not.
      clusterApp.use(['/rpc/v1/chunks', '/rpc/v1/meta'], (_req, res, next) => {
        busy(res);
        next();
      });
      clusterApp.use('/rpc/v1', rpcRouter(opts.secret, membership.rpcRoutes));
    }
    if (opts.secret) {
      clusterApp.use(
        '/admin/v1',
        adminRouter(opts.secret, {
          view,
          replicas,
          objects,
          repair: (memberId) => heal.progressOf(memberId),
          seal: (id, secretKey) => sealSecret(master, id, secretKey),
          replicationProgress: replicationOf,
          openSealed: (id, sealed) => openSecret(master, { accessKeyId: id, sealedSecret: sealed } as KeyRecord),
          notificationTargets: { targets: events.declared, region: view.settings().region },
        }),
      );
    }
    clusterApp.use(
      healthRouter({
        joined: () => {
          const ok = ready && membership.ready();
          return { ok, reason: ok ? 'ok' : ready ? 'not registered with a root yet' : 'starting' };
        },
        // A full disk still serves reads and coordinates requests: ready. A failed one holds nothing usable.
        storesWritable: async () => {
          const d = await disk.check();
          return { ok: d.state !== 'failed', reason: d.reason };
        },
        clusterHealth: () => membership.clusterHealth(),
        maintenance: () => membership.maintenance(heal.progressOf(id)),
        // Probes come without the secret: they get the verdict, not which buckets it is about.
        authorized: (req) => !!opts.secret && secretMatches(req.headers.authorization, opts.secret),
      }),
    );

    // 5. File API.
    s3Holder.app = createS3App({
      objects,
      region: view.settings().region,
      principal: (accessKeyId) => directory().principal(accessKeyId),
      users: () => directory(),
      bucket: (name) => view.bucket(name),
      putBucket: (settings) => view.putBucket(settings),
      masterKey: master,
      metrics,
      notificationTargets: { targets: events.declared, region: view.settings().region },
      changeFeed: feed.changeFeed,
    });
    // 6. The web console (its own port): every action it takes is an S3 request signed as the user.
    let consoleUrl: string | undefined;
    if (opts.console !== 'off' && opts.secret) {
      // Beside the file API: port 9001, or any free port when the file API took any (tests run many nodes).
      const at = parseHostPort(opts.console ?? `${apiAddr.host}:${apiAddr.port === 0 ? 0 : 9001}`, 9001);
      // The console asks this node's own admin API (cluster status, ending a key's sessions everywhere).
      const admin = createAdminClient({ url: clusterUrl, secret: opts.secret });
      const running = await startConsole({
        host: at.host,
        port: at.port,
        s3Endpoint: endpoint,
        region: view.settings().region,
        directory: { principal: (k) => directory().principal(k), displayName: (u) => directory().displayName(u) },
        isAdmin: (userId) => directory().user(userId)?.superuser === true,
        clusterStatus: () => admin.status(),
        endSessions: async (accessKeyId, notBefore) => {
          await admin.endSessions!(accessKeyId, notBefore);
        },
        // The same on every member (all derive it from the cluster secret): a session works on any node.
        sessionKey: Buffer.from(hkdfSync('sha256', Buffer.from(opts.secret, 'utf8'), Buffer.alloc(0), 'cairn/console-session', 32)),
        log: logger('console'),
        ...(opts.consoleOidc ? { oidc: { ...opts.consoleOidc, keyFor: (claims) => keyForPerson(directory(), claims) } } : {}),
      });
      consoleUrl = running.url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, `//${urlHost(advertise)}`);
      cleanups.push(() => running.close());
    }
    ready = true;
    log.info({ id, name, endpoint, cluster: clusterUrl, console: consoleUrl, dataDir: opts.dataDir }, 'node started');

    let stopping: Promise<void> | undefined;
    return {
      id,
      name,
      roles,
      dataDir: opts.dataDir,
      endpoint,
      clusterUrl,
      region: view.settings().region,
      accessKey: root.accessKeyId,
      secretKey: root.secretAccessKey,
      view,
      replicas,
      objects,
      stores: { chunks, meta },
      metrics,
      memory,
      clusterApp,
      consoleUrl,
      admission,
      events,
      stop: () =>
        (stopping ??= (async () => {
          ready = false;
          // Heartbeats stop first so the roots see a clean silence, not a member that half answers.
          await membership.leave();
          feed.stop(); // change feed streams end now: the servers' grace is for requests that finish
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
