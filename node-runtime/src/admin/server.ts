// The admin API (`/admin/v1` on the cluster port, routes in admin/types.ts): status for the operator
// and `cairn status`, bucket and key management, drain/undrain/forget of members. Thin over the
// cluster view (registry writes go through the roots) and the ObjectService (bucket create/delete
// with the same checks as the file API).
import { s3VersionId } from '../meta/slots.ts';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { defaultSettings, type BucketSettings, type ClusterControl, type ClusterSettings, type Member, type MemberState } from '../cluster/types.ts';
import type { ObjectService } from '../data/types.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import type { BucketRequest, BucketStatus, ClusterStatus, MemberStatus, RepairProgress, ReplicationProgress } from './types.ts';
import { AdminFailure, userRoutes } from './users.ts';
import { bucketChanges, notificationList } from './buckets.ts';
import { replicationRule, replicationStatus } from './replication.ts';
import type { DeclaredTargets } from '../events/notification-config.ts';
import { requireClusterSecret } from '../rpc/auth.ts';
import { holdsData } from '../cluster/placement.ts';
import { writeQuorumVerdict } from '../cluster/health.ts';
import { drainProblem } from './drain.ts';
import { bucketConvergence } from './convergence.ts';
import { logger } from '../util/log.ts';
import { bucketUsage, usageByBucket, userUsage } from './usage.ts';

const log = logger('admin');

/** What the admin API works on: the cluster (with its registry writes), the replicas for bucket usage, the ObjectService. */
export interface AdminBackend {
  view: ClusterControl;
  replicas: ReplicaDirectory;
  objects: ObjectService;
  /** Per-member repair progress when a repair worker reports it. */
  repair?(memberId: string): RepairProgress | undefined;
  /** Seal a secret key for the registry (under the cluster master key). */
  seal(accessKeyId: string, secretAccessKey: string): string;
  /** Open a secret sealed by `seal` (a replication target's, to tell the same target given again). */
  openSealed?(accessKeyId: string, sealed: string): string;
  /** How far the members got with a bucket's replication. */
  replicationProgress?(bucket: string, ruleId: string): Promise<ReplicationProgress>;
  /** The notification targets declared on the cluster (bucket notification rules are checked against them). */
  notificationTargets?: DeclaredTargets;
}

export const idleRepair = (): RepairProgress => ({
  underReplicatedChunks: 0,
  misplacedChunks: 0,
  bytesRemaining: 0,
  bytesMoved: 0,
  rateBytesPerSec: 0,
  etaSeconds: null,
});

export function adminRouter(secret: string, b: AdminBackend): Router {
  const r = express.Router();
  r.use(requireClusterSecret(secret));
  r.use(express.json({ limit: '1mb' }));

  const handle = (fn: (req: Request, res: Response) => Promise<unknown>) => async (req: Request, res: Response) => {
    try {
      const out = await fn(req, res);
      if (!res.headersSent) out === undefined ? res.status(204).end() : res.json(out);
    } catch (e) {
      const err = e as { code?: string; status?: number; message?: string };
      const status = typeof err.status === 'number' && err.status >= 400 ? err.status : 500;
      if (status >= 500) log.error({ err: e, path: req.path }, 'admin call failed');
      res.status(status).json({ error: { code: err.code ?? 'InternalError', message: err.message ?? String(e) } });
    }
  };

  // Repair progress: what the member reported in its last heartbeat, else the local worker's, else idle.
  const memberStatus = (m: Member & { repair?: RepairProgress }): MemberStatus => ({
    id: m.id,
    name: m.name,
    roles: m.roles,
    state: m.state,
    zone: m.zone,
    weight: m.weight,
    api: m.api,
    cluster: m.cluster,
    capacityBytes: m.capacityBytes,
    usedBytes: m.usedBytes,
    chunks: m.chunks ?? 0,
    heartbeatAgeMs: Math.max(0, Date.now() - m.lastHeartbeat),
    repair: m.repair ?? b.repair?.(m.id) ?? idleRepair(),
    ...(m.disk ? { disk: m.disk } : {}),
    ...(m.freeBytes !== undefined ? { freeBytes: m.freeBytes } : {}),
    ...(m.stateSince ? { stateChangedAt: new Date(m.stateSince).toISOString() } : {}),
  });

  const bucketStatus = async (s: BucketSettings): Promise<BucketStatus> => {
    // Usage is best effort: the largest count any reachable metadata replica reports, in bounded time (usage.ts).
    const members = b.view.members();
    const { objects, bytes } = await bucketUsage(b.view, b.replicas, s);
    const replication = bucketConvergence(
      s,
      members.map((m: Member & { repair?: RepairProgress }) => ({ ...m, repair: m.repair ?? b.repair?.(m.id) })),
    );
    return {
      name: s.name,
      owner: s.owner,
      replicas: s.replicas,
      access: s.access,
      ...(s.claim ? { claim: s.claim } : {}),
      ...(s.shares?.length ? { shares: s.shares } : {}),
      ...(s.encryption ? { encryption: s.encryption } : {}),
      quotaBytes: s.quotaBytes,
      quotaObjects: s.quotaObjects,
      objects,
      bytes,
      createdAt: s.createdAt,
      replication,
      ...(s.notifications ? { notifications: notificationList(s.notifications) } : {}),
      ...(s.replicateTo
        ? {
            replicateTo: {
              ...replicationStatus(s.replicateTo),
              ...(b.replicationProgress ? { progress: await b.replicationProgress(s.name, s.replicateTo.id) } : {}),
            },
          }
        : {}),
    };
  };

  const findMember = (idOrName: string): Member => {
    const ms = b.view.members();
    // A name can outlive an id (a pod whose volume was replaced): prefer the member that is not down.
    const named = ms.filter((x) => x.name === idOrName);
    const m = ms.find((x) => x.id === idOrName) ?? named.find((x) => x.state !== 'down') ?? named[0];
    if (!m) throw new AdminFailure('NoSuchMember', 404, `no member with id or name ${idOrName}`);
    return m;
  };

  r.get(
    '/status',
    handle(async () => {
      const members = b.view.members();
      const statuses = members.map(memberStatus);
      const buckets = await Promise.all(b.view.buckets().map(bucketStatus));
      const byName = new Map(buckets.map((x) => [x.name, x]));
      const users = b.view
        .users()
        .filter((u) => u.quota)
        .map((u) => userUsage(u, b.view.buckets(), byName));
      const counts: Record<MemberState, number> = { joining: 0, active: 0, draining: 0, drained: 0, down: 0 };
      for (const m of members) counts[m.state]++;
      const repair = statuses.reduce((acc, s) => sumRepair(acc, s.repair), idleRepair());
      const data = members.filter(holdsData);
      const self = members.find((m) => m.id === b.view.selfId);
      const endpoint = (self && holdsData(self) ? self : (data.find((m) => m.state === 'active') ?? self))?.api ?? '';
      const out: ClusterStatus = {
        clusterId: b.view.clusterId(),
        endpoint,
        region: b.view.settings().region,
        members: statuses,
        buckets,
        repair,
        counts,
        capacityBytes: data.reduce((a, m) => a + m.capacityBytes, 0),
        usedBytes: data.reduce((a, m) => a + m.usedBytes, 0),
        writeQuorumAvailable: writeQuorumVerdict(members, b.view.buckets()).ok,
        users,
      };
      return out;
    }),
  );

  r.get(
    '/buckets',
    handle(async () => Promise.all(b.view.buckets().map(bucketStatus))),
  );

  r.put(
    '/buckets/:name',
    handle(async (req) => {
      const name = String(req.params.name);
      const body = (req.body ?? {}) as BucketRequest;
      if (body.name !== undefined && body.name !== name) throw new AdminFailure('InvalidArgument', 400, `body name ${body.name} differs from the path ${name}`);
      const existing = b.view.bucket(name);
      const change = bucketChanges(body, existing, (id) => b.view.user(id), b.notificationTargets);
      const replicateTo =
        body.replicateTo === undefined
          ? existing?.replicateTo
          : replicationRule(body.replicateTo, existing?.replicateTo, name, b.seal, (r) => b.openSealed?.(r.accessKeyId, r.sealedSecret) ?? '');
      if (!existing) await b.objects.createBucket(name, { owner: change.owner, replicas: body.replicas, access: body.access });
      const cur = b.view.bucket(name)!;
      const next: BucketSettings = change.apply(cur);
      if (replicateTo) next.replicateTo = replicateTo;
      else delete next.replicateTo;
      if (JSON.stringify(next) !== JSON.stringify(cur)) await b.view.putBucket(next);
      return bucketStatus(next);
    }),
  );

  r.delete(
    '/buckets/:name',
    handle(async (req) => {
      const name = String(req.params.name);
      if (req.query.purge === 'true') await purge(b.objects, name);
      await b.objects.deleteBucket(name);
    }),
  );

  userRoutes(r, handle, { view: b.view, seal: b.seal, usage: () => usageByBucket(b.view, b.replicas) });

  r.post(
    '/members/:id/drain',
    handle(async (req) => {
      const m = findMember(String(req.params.id));
      if (m.state === 'draining' || m.state === 'drained') return memberStatus(m);
      const problem = drainProblem(m, b.view.members(), b.view.buckets(), b.view.settings().defaultReplicas);
      if (problem) throw new AdminFailure('DrainRefused', 409, problem);
      await b.view.setMemberState(m.id, 'draining');
      return memberStatus({ ...m, state: 'draining' });
    }),
  );

  r.post(
    '/members/:id/undrain',
    handle(async (req) => {
      const m = findMember(String(req.params.id));
      if (m.state === 'active') return memberStatus(m);
      if (m.state !== 'draining' && m.state !== 'drained')
        throw new AdminFailure('InvalidMemberState', 409, `${m.name} is ${m.state}, not draining or drained`);
      await b.view.setMemberState(m.id, 'active');
      return memberStatus({ ...m, state: 'active' });
    }),
  );

  r.delete(
    '/members/:id',
    handle(async (req) => {
      const m = findMember(String(req.params.id));
      if (m.state !== 'drained' && m.state !== 'down')
        throw new AdminFailure('InvalidMemberState', 409, `${m.name} is ${m.state}; only a drained or down member can be forgotten`);
      await b.view.forgetMember(m.id);
    }),
  );

  r.get(
    '/settings',
    handle(async () => b.view.settings()),
  );

  r.put(
    '/settings',
    handle(async (req) => {
      const changes = settingsProblem(req.body);
      if (typeof changes === 'string') throw new AdminFailure('InvalidArgument', 400, changes);
      await b.view.putSettings(changes);
      return { ...b.view.settings(), ...changes };
    }),
  );

  // Malformed JSON and other body errors: the same JSON error shape as every other answer.
  r.use((e: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const err = e as { status?: number; message?: string };
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: { code: status === 500 ? 'InternalError' : 'InvalidRequest', message: err.message ?? String(e) } });
  });

  return r;
}

// Which settings may change and what values are sane; an unknown name or a bad value is a 400.
const settingRules: Record<keyof ClusterSettings, (v: unknown) => boolean> = {
  chunkSize: (v) => Number.isInteger(v) && (v as number) >= 4096 && (v as number) <= 64 * 1024 * 1024,
  inlineMax: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1024 * 1024,
  defaultReplicas: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 16,
  failureTimeoutMs: (v) => Number.isInteger(v) && (v as number) >= 1000,
  repairBandwidthBytes: (v) => Number.isInteger(v) && (v as number) >= 0,
  repairConcurrency: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 256,
  gcGraceMs: (v) => Number.isInteger(v) && (v as number) >= 0,
  region: (v) => typeof v === 'string' && /^[a-z0-9-]{1,64}$/.test(v),
};

export function settingsProblem(body: unknown): Partial<ClusterSettings> | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object of settings';
  for (const [k, v] of Object.entries(body)) {
    if (!(k in defaultSettings)) return `unknown setting ${k}; known: ${Object.keys(defaultSettings).join(', ')}`;
    if (!settingRules[k as keyof ClusterSettings](v)) return `invalid value for ${k}: ${JSON.stringify(v)}`;
  }
  return body as Partial<ClusterSettings>;
}

async function purge(objects: ObjectService, bucket: string): Promise<void> {
  // Bounded: each page removes what it lists (every version and delete marker, by id), so the loop
  // ends when a page comes back empty. A version object lock keeps stops the purge (AccessDenied).
  for (let page = 0; page < 1_000_000; page++) {
    const res = await objects.listVersionBatch(bucket, { limit: 1000 });
    if (res.versions.length === 0) return;
    await Promise.all(res.versions.map((v) => objects.deleteObject(bucket, v.key, { versionId: s3VersionId(v) })));
  }
}

function sumRepair(a: RepairProgress, b: RepairProgress): RepairProgress {
  const rate = a.rateBytesPerSec + b.rateBytesPerSec;
  const remaining = a.bytesRemaining + b.bytesRemaining;
  return {
    underReplicatedChunks: a.underReplicatedChunks + b.underReplicatedChunks,
    misplacedChunks: a.misplacedChunks + b.misplacedChunks,
    bytesRemaining: remaining,
    bytesMoved: a.bytesMoved + b.bytesMoved,
    rateBytesPerSec: rate,
    etaSeconds: remaining > 0 && rate > 0 ? Math.ceil(remaining / rate) : null,
  };
}
