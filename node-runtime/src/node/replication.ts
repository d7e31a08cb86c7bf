// Replication wiring: one BucketReplicator (events/replication.ts) per bucket with a replicateTo
// rule, started and stopped as the bucket registry changes (checked every second), with its gauges
// set at scrape time. A rule removed or replaced lets its outbox cursor go, so the outbox does not
// keep events for it. The backfill of a rule runs on one member: the first active one in the
// rendezvous order of the bucket (any member would do; one avoids copying everything N times).
import { mkdir } from 'node:fs/promises';
import type { Member, ReplicationRule, BucketSettings } from '../cluster/types.ts';
import { rankAll } from '../cluster/placement.ts';
import type { ObjectService } from '../data/types.ts';
import type { Outbox } from '../events/outbox.ts';
import type { OutboxEvent } from '../events/record.ts';
import { BucketReplicator } from '../events/replication.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import { logger } from '../util/log.ts';
import type { ReplicationProgress } from '../admin/types.ts';

const log = logger('replication');
const CHECK_MS = 1_000;

export interface ReplicationWiring {
  stop(): Promise<void>;
  workers(): BucketReplicator[];
}

export async function startReplication(o: {
  selfId: string;
  dir: string;
  outbox: Outbox<OutboxEvent>;
  objects: ObjectService;
  metrics: NodeMetrics;
  view: { buckets(): BucketSettings[]; members(): Member[] };
  secret: (rule: ReplicationRule) => string;
  retry?: { minMs: number; maxMs: number };
}): Promise<ReplicationWiring> {
  await mkdir(o.dir, { recursive: true });
  const workers = new Map<string, BucketReplicator>();
  let stopped = false;
  const backfills = (bucket: string) =>
    rankAll(
      `replication:${bucket}`,
      o.view.members().filter((m) => m.state === 'active'),
    )[0]?.id === o.selfId;

  const sync = async () => {
    const rules = new Map(
      o.view
        .buckets()
        .filter((b) => b.replicateTo && !b.deleted)
        .map((b) => [b.name, b.replicateTo!]),
    );
    for (const [bucket, w] of workers) {
      const rule = rules.get(bucket);
      if (rule?.id === w.rule.id && rule.deletes === w.rule.deletes && !w.failed) continue;
      workers.delete(bucket);
      await w.stop();
      if (rule?.id !== w.rule.id) o.outbox.removeConsumer(`replication:${bucket}:${w.rule.id}`);
    }
    for (const [bucket, rule] of rules) {
      if (workers.has(bucket) || stopped) continue;
      try {
        workers.set(
          bucket,
          await new BucketReplicator(bucket, rule, {
            outbox: o.outbox,
            objects: o.objects,
            secret: o.secret,
            dir: o.dir,
            backfills,
            metrics: o.metrics,
            retry: o.retry,
          }).start(),
        );
        log.info({ bucket, target: `${rule.endpoint}/${rule.bucket}` }, 'replicating');
      } catch (e) {
        log.error({ bucket, err: String((e as Error)?.message ?? e) }, 'replication could not start');
      }
    }
    // Cursors of rules that are gone (removed while this member was down, too).
    for (const c of o.outbox.consumers()) {
      const m = /^replication:(.+):([0-9a-f]+)$/.exec(c);
      if (m && rules.get(m[1])?.id !== m[2]) o.outbox.removeConsumer(c);
    }
  };
  let running = sync();
  const timer = setInterval(() => {
    running = running.then(sync).catch((e) => log.error({ err: String(e) }, 'replication sync failed'));
  }, CHECK_MS);
  const unregister = o.metrics.registerCollector(() => {
    const now = Date.now();
    o.metrics.replicationBacklog.reset();
    o.metrics.replicationLag.reset();
    o.metrics.replicationBackfillRunning.reset();
    for (const w of workers.values()) {
      const s = w.status();
      o.metrics.replicationBacklog.set({ bucket: s.bucket }, s.backlog);
      o.metrics.replicationLag.set({ bucket: s.bucket }, s.oldestPendingAt === undefined ? 0 : Math.max(0, (now - s.oldestPendingAt) / 1000));
      o.metrics.replicationBackfillRunning.set({ bucket: s.bucket }, s.backfill === 'running' ? 1 : 0);
    }
  });
  return {
    workers: () => [...workers.values()],
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => {});
      unregister();
      await Promise.all([...workers.values()].map((w) => w.stop()));
      workers.clear();
    },
  };
}

export const REPLICATION_PROGRESS_PATH = '/rpc/v1/replication';
export interface MemberReplication {
  ruleId: string;
  backlog: number;
  oldestPendingAt?: number;
  backfill: 'done' | 'running' | 'elsewhere';
}

/** This member's part of a bucket's replication (served behind the cluster secret; undefined: no worker). */
export function memberReplication(w: ReplicationWiring, bucket: string): MemberReplication | undefined {
  const worker = w.workers().find((x) => x.bucket === bucket);
  if (!worker) return undefined;
  const s = worker.status();
  return {
    ruleId: worker.rule.id,
    backlog: s.backlog,
    ...(s.oldestPendingAt !== undefined ? { oldestPendingAt: s.oldestPendingAt } : {}),
    backfill: s.backfill,
  };
}

/** The members' parts summed up (pure): backlog summed, lag the largest, backfill done only once the member running it says so. */
export function replicationProgress(parts: (MemberReplication | undefined)[], ruleId: string, asked: number, now: number): ReplicationProgress {
  const mine = parts.filter((p): p is MemberReplication => p !== undefined && p.ruleId === ruleId);
  const oldest = Math.min(...mine.map((p) => p.oldestPendingAt ?? Infinity));
  return {
    backlog: mine.reduce((a, p) => a + p.backlog, 0),
    lagSeconds: Number.isFinite(oldest) ? Math.max(0, Math.round((now - oldest) / 1000)) : 0,
    backfill: mine.some((p) => p.backfill === 'running') ? 'running' : mine.some((p) => p.backfill === 'done') ? 'done' : 'unknown',
    membersAnswered: mine.length,
    membersAsked: asked,
  };
}
