// Self-healing of one process, wired in one place: on a data member the repair worker (re-
// replication, rebalancing, metadata partitions, GC, drain) and the scrub worker, each under a
// WorkerRunner, with progress in metrics and on `GET /rpc/v1/repair` (details, for people and
// tests). The admin status gets each member's progress from its heartbeats (joined-cluster.ts
// `repairProgress`), so any root shows every member's.
import express, { type Request, type Response, type Router } from 'express';
import type { ClusterView } from '../cluster/types.ts';
import type { ChunkStore } from '../chunks/store.ts';
import type { MemoryBudget } from '../chunks/memory.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import type { MetaStore } from '../meta/store.ts';
import { requireClusterSecret } from '../rpc/auth.ts';
import { WorkerRunner, type WorkerStatus } from '../util/background.ts';
import { collectRepairProgress } from './collectors.ts';
import { logger } from '../util/log.ts';
import { RepairWorker, type RepairSnapshot } from '../repair/worker.ts';
import { ScrubWorker, type ScrubStatus } from '../repair/scrub.ts';

const _log = logger('repair');

export interface SelfHealingOptions {
  view: ClusterView;
  replicas: ReplicaDirectory;
  /** This member's stores and its chunk buffer budget; absent on a root-only process (it only serves the status cache). */
  stores?: { chunks: ChunkStore; meta: MetaStore; memory: MemoryBudget; diskUsable?: () => boolean };
  /** The node's metrics (repair, GC and scrub progress). */
  metrics?: NodeMetrics;
  /** Cluster secret for the `/rpc/v1/repair` routes; without one no routes are served. */
  secret?: string;
  /** Record this member as drained through the roots (multi-member clusters only). */
  markDrained?: (memberId: string) => Promise<void>;
  /** Tell the roots this member's repair progress now (a heartbeat), when it gains or clears under-replicated chunks. */
  announce?: () => void;
  /** Timings (node/config.ts): repair safety-net period (default 30 s), scrub pause and rate, upload expiry. */
  repairIntervalMs?: number;
  /** Period of the full pass that trusts no digest (default 6 h). */
  repairFullIntervalMs?: number;
  scrubIntervalMs?: number;
  scrubBytesPerSec?: number;
  gcGraceMs?: number;
  uploadExpiryMs?: number;
}

/** What `GET /rpc/v1/repair` answers. */
export interface MemberRepairReport {
  repair: RepairSnapshot;
  scrub: ScrubStatus;
  workers: WorkerStatus[];
}

export interface SelfHealing {
  repair?: RepairWorker;
  scrub?: ScrubWorker;
  /** Mount on the cluster port (it carries its own path `/rpc/v1/repair` and the secret check). */
  router: Router;
  /** This member's progress (undefined for other members or on a member without data). */
  progressOf(memberId: string): RepairSnapshot | undefined;
  stop(): Promise<void>;
}

export function startSelfHealing(o: SelfHealingOptions): SelfHealing {
  const runners: WorkerRunner[] = [];
  const unsubscribe: (() => void)[] = [];
  let repair: RepairWorker | undefined;
  const stop = async () => {
    for (const u of unsubscribe) u();
    await Promise.all(runners.map((r) => r.stop()));
  };
  let scrub: ScrubWorker | undefined;
  if (o.stores) {
    const grace = o.gcGraceMs; // default: the cluster setting, read at every pass
    repair = new RepairWorker({
      view: o.view,
      replicas: o.replicas,
      chunks: o.stores.chunks,
      meta: o.stores.meta,
      memory: o.stores.memory,
      metrics: o.metrics,
      gcGraceMs: grace !== undefined ? () => grace : undefined,
      uploadExpiryMs: o.uploadExpiryMs,
      markDrained: o.markDrained ? () => o.markDrained!(o.view.selfId) : undefined,
      announce: o.announce,
      diskUsable: o.stores.diskUsable,
      fullPassIntervalMs: o.repairFullIntervalMs,
    });
    const repairRunner = new WorkerRunner(repair, { idleMs: o.repairIntervalMs ?? 30_000 }).start();
    runners.push(repairRunner);
    const r = repair;
    unsubscribe.push(
      o.view.onChange(() => {
        r.requestPass();
        repairRunner.poke();
      }),
    );
    scrub = new ScrubWorker({
      view: o.view,
      replicas: o.replicas,
      chunks: o.stores.chunks,
      metrics: o.metrics,
      intervalMs: o.scrubIntervalMs,
      bytesPerSec: o.scrubBytesPerSec,
      diskUsable: o.stores.diskUsable,
    });
    runners.push(new WorkerRunner(scrub, { idleMs: Math.min(60_000, o.scrubIntervalMs ?? 60_000) }).start());
    if (o.metrics) unsubscribe.push(collectRepairProgress(o.metrics, () => r.snapshot()));
  }

  const router = express.Router();
  if (!o.secret) return { repair, scrub, router, progressOf: (id) => (id === o.view.selfId ? repair?.snapshot() : undefined), stop };
  router.get('/rpc/v1/repair', requireClusterSecret(o.secret), (_req: Request, res: Response) => {
    if (!repair || !scrub) {
      res.status(404).json({ error: { code: 'NotADataMember', message: 'this member stores no data' } });
      return;
    }
    const out: MemberRepairReport = { repair: repair.snapshot(), scrub: scrub.status, workers: runners.map((r) => r.status) };
    res.json(out);
  });
  router.post('/rpc/v1/repair/scrub', requireClusterSecret(o.secret), (_req: Request, res: Response) => {
    if (!scrub) {
      res.status(404).json({ error: { code: 'NotADataMember', message: 'this member stores no data' } });
      return;
    }
    scrub.scrubNow();
    runners[1]?.poke();
    res.status(202).json({});
  });

  return { repair, scrub, router, progressOf: (id) => (id === o.view.selfId ? repair?.snapshot() : undefined), stop };
}
