// Self-healing of one process, wired in one place: on a data member the repair worker (re-
// replication, rebalancing, metadata partitions, GC, drain) and the scrub worker, each under a
// WorkerRunner, with progress on `/rpc/v1/repair` and in metrics; on any member (roots answer the
// admin API) a cache of every data member's progress, polled over the cluster port, for
// `GET /admin/v1/status`.
import express, { type Request, type Response, type Router } from 'express';
import type { ClusterView, MemberState } from '../cluster/types.ts';
import { holdsData } from '../cluster/placement.ts';
import type { ChunkStore } from '../chunks/store.ts';
import type { MetaStore } from '../meta/store.ts';
import type { RpcClient } from '../rpc/client.ts';
import { requireClusterSecret } from '../rpc/auth.ts';
import { WorkerRunner } from '../util/background.ts';
import { collectRepairProgress } from '../observability/collectors.ts';
import { logger } from '../util/log.ts';
import { RepairWorker, type RepairSnapshot } from './worker.ts';
import { ScrubWorker, type ScrubStatus } from './scrub.ts';

const log = logger('repair');

export interface SelfHealingOptions {
  view: ClusterView;
  /** This member's stores; absent on a root-only process (it only serves the status cache). */
  stores?: { chunks: ChunkStore; meta: MetaStore };
  rpc?: RpcClient;
  secret: string;
  setMemberState?: (memberId: string, state: MemberState) => Promise<void>;
  /** Defaults from env: CAIRN_REPAIR_INTERVAL_MS, CAIRN_SCRUB_INTERVAL_MS, CAIRN_SCRUB_BYTES_PER_SEC, CAIRN_GC_GRACE_MS, CAIRN_UPLOAD_EXPIRY_MS. */
  repairIntervalMs?: number;
  scrubIntervalMs?: number;
  scrubBytesPerSec?: number;
  gcGraceMs?: number;
  uploadExpiryMs?: number;
}

/** What `GET /rpc/v1/repair` answers. */
export interface MemberRepairReport { repair: RepairSnapshot; scrub: ScrubStatus; worker: string }

export interface SelfHealing {
  repair?: RepairWorker;
  scrub?: ScrubWorker;
  /** Mount on the cluster port (it carries its own path `/rpc/v1/repair` and the secret check). */
  router: Router;
  /** A data member's last known progress, for the admin status (undefined when unknown). */
  progressOf(memberId: string): RepairSnapshot | undefined;
  stop(): Promise<void>;
}

const envMs = (name: string) => { const n = Number(process.env[name]); return Number.isFinite(n) && n > 0 ? n : undefined; };

export function startSelfHealing(o: SelfHealingOptions): SelfHealing {
  const runners: WorkerRunner[] = [];
  const unsubscribe: (() => void)[] = [];
  let repair: RepairWorker | undefined;
  let scrub: ScrubWorker | undefined;
  if (o.stores) {
    const grace = o.gcGraceMs ?? envMs('CAIRN_GC_GRACE_MS');
    repair = new RepairWorker({
      view: o.view, chunks: o.stores.chunks, meta: o.stores.meta,
      gcGraceMs: grace !== undefined ? () => grace : undefined,
      uploadExpiryMs: o.uploadExpiryMs ?? envMs('CAIRN_UPLOAD_EXPIRY_MS'),
      markDrained: o.setMemberState ? () => o.setMemberState!(o.view.selfId, 'drained') : undefined,
    });
    const repairRunner = new WorkerRunner(repair, { idleMs: o.repairIntervalMs ?? envMs('CAIRN_REPAIR_INTERVAL_MS') ?? 30_000 }).start();
    runners.push(repairRunner);
    const r = repair;
    unsubscribe.push(o.view.onChange(() => { r.requestPass(); repairRunner.poke(); }));
    scrub = new ScrubWorker({
      view: o.view, chunks: o.stores.chunks,
      intervalMs: o.scrubIntervalMs ?? envMs('CAIRN_SCRUB_INTERVAL_MS'), bytesPerSec: o.scrubBytesPerSec ?? envMs('CAIRN_SCRUB_BYTES_PER_SEC'),
    });
    runners.push(new WorkerRunner(scrub, { idleMs: Math.min(60_000, o.scrubIntervalMs ?? envMs('CAIRN_SCRUB_INTERVAL_MS') ?? 60_000) }).start());
    unsubscribe.push(collectRepairProgress(() => r.snapshot()));
  }

  // Progress of the other data members, polled (roots and nodes alike answer the admin API).
  const cache = new Map<string, RepairSnapshot>();
  let polling = false;
  const poll = async () => {
    if (polling || !o.rpc) return;
    polling = true;
    try {
      const members = o.view.members().filter((m) => holdsData(m) && m.id !== o.view.selfId && m.state !== 'down' && m.cluster);
      await Promise.all(members.map(async (m) => {
        try {
          const r = await o.rpc!.json<MemberRepairReport>(m.cluster, { method: 'GET', path: '/rpc/v1/repair', timeoutMs: 2000 });
          if (r?.repair) cache.set(m.id, r.repair);
        } catch { cache.delete(m.id); }
      }));
      const known = new Set(o.view.members().map((m) => m.id));
      for (const id of cache.keys()) if (!known.has(id)) cache.delete(id);
    } finally { polling = false; }
  };
  const pollTimer = setInterval(() => void poll().catch((e) => log.debug({ err: e }, 'repair progress poll failed')), 1000);
  pollTimer.unref();

  const router = express.Router();
  router.get('/rpc/v1/repair', requireClusterSecret(o.secret), (_req: Request, res: Response) => {
    if (!repair || !scrub) { res.status(404).json({ error: { code: 'NotADataMember', message: 'this member stores no data' } }); return; }
    const runner = runners[0]!;
    const out: MemberRepairReport = { repair: repair.snapshot(), scrub: scrub.status, worker: runner.status.state };
    res.json(out);
  });
  router.post('/rpc/v1/repair/scrub', requireClusterSecret(o.secret), (_req: Request, res: Response) => {
    if (!scrub) { res.status(404).json({ error: { code: 'NotADataMember', message: 'this member stores no data' } }); return; }
    scrub.scrubNow();
    runners[1]?.poke();
    res.status(202).json({});
  });

  return {
    repair, scrub, router,
    progressOf(memberId) {
      if (memberId === o.view.selfId) return repair?.snapshot();
      return cache.get(memberId);
    },
    async stop() {
      clearInterval(pollTimer);
      for (const u of unsubscribe) u();
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}
