// The repair worker of one data member: one step is a full, resumable pass (a restart just scans
// again) over what this member stores:
//   1. metadata partitions: push entries to desired holders that lack them, drop a misplaced
//      copy once they all have it (partitions.ts);
//   2. the reference index: which chunks live versions and uploads point at (refs.ts);
//   3. chunks: copy the endangered ones first to desired holders that lack them, drop surplus
//      local copies once every desired holder confirmed (chunks.ts), throttled by the cluster's
//      repairBandwidthBytes and repairConcurrency (read at every copy, so changes apply at once);
//   4. garbage: a chunk no live version or upload references, older than the grace period, is
//      deleted — only when the index is complete (every data member answered); tombstones older
//      than the grace period go once every member has seen them (tombstones.ts);
//   5. drain: a draining member whose every item has a full set of R desired holders elsewhere
//      reports itself `drained`.
// A pass runs on every cluster map change (the view pokes it) and periodically as a safety net.
//
// Incremental (incremental.ts): a pass first asks every data member for its partition digests (one
// call each). A partition push is left out for a holder whose digest equals this member's, and the
// chunk phase (steps 2–4) is left out when placement, every member's digests, the local chunk set and
// the members' chunk counts are as the last pass saw them and that pass left nothing to do. Every
// `fullPassIntervalMs` (default 6 h) a pass trusts no digest and walks everything.
import { stat } from 'node:fs/promises';
import type { ClusterView } from '../cluster/types.ts';
import type { ChunkStore } from '../chunks/store.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import type { MetaStore } from '../meta/store.ts';
import type { BucketRepair, RepairProgress as RepairStatus } from '../cluster/types.ts';
import type { Worker, WorkerState } from '../util/background.ts';
import { TokenBucket } from '../util/throttle.ts';
import type { MemoryBudget } from '../chunks/memory.ts';
import { isChunkError } from '../chunks/errors.ts';
import { sha256Off } from '../chunks/hasher.ts';
import type { ChunkBuffer } from '../chunks/buffer.ts';
import { logger } from '../util/log.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import { RepairProgress } from './progress.ts';
import { followUpDelay } from './cadence.ts';
import { DEFAULT_FULL_PASS_MS, digestsFingerprint, holderInSync, passScope, placementFingerprint, type PassInputs, type SettledPass } from './incremental.ts';
import type { PartitionDigest } from '../meta/digest.ts';
import { holdsData } from '../cluster/placement.ts';
import { buildReferenceIndex, ReferenceCache } from './refs.ts';
import { repairPartitions } from './partitions.ts';
import { collectTombstones } from './tombstones.ts';
import { chunkTask, confirmHolders, membersToAsk, type ChunkTask, type LocalChunk } from './chunks.ts';

const log = logger('repair');

export interface RepairWorkerOptions {
  view: ClusterView;
  replicas: ReplicaDirectory;
  chunks: ChunkStore;
  /** The node's chunk buffer budget: a copy holds a grant of it like an upload's chunk. */
  memory: MemoryBudget;
  meta: MetaStore;
  /** Record this member as drained (through the roots). */
  markDrained?: () => Promise<void>;
  /** Grace before an unreferenced chunk is deleted; default the cluster's gcGraceMs. */
  gcGraceMs?: () => number;
  /** Age after which an unfinished multipart upload is abandoned (default 7 days). */
  uploadExpiryMs?: number;
  now?: () => number;
  /**
   * Called when this member starts or stops having under-replicated chunks: the roots should hear
   * it at once (a heartbeat now), not up to a heartbeat period later — operators and the bench
   * watch the count to know when redundancy is back.
   */
  announce?: () => void;
  /** Where repair and GC progress is counted (the node's metrics). */
  metrics?: NodeMetrics;
  /** False while the data disk has failed: this member is down, the others rebuild its copies. */
  diskUsable?: () => boolean;
  /** Period of the full pass that trusts no digest (default 6 h). */
  fullPassIntervalMs?: number;
}

/** What the last pass did and cost: how much it walked is what incremental repair saves. */
export interface PassReport {
  kind: 'full' | 'incremental';
  /** Whether the chunk phase (reference index, chunk plan, garbage) ran. */
  chunks: boolean;
  reason: string;
  /** Entries read: partition records pushed from here, records of the reference index, local chunks planned. */
  visited: number;
  /** Partition pushes left out because the holder's digest matched. */
  skippedPushes: number;
  cpuMicros: number;
  ms: number;
}

/** What the admin API and metrics show, plus when the last complete pass started. */
export interface RepairSnapshot extends RepairStatus {
  queueLength: number;
  lastPassAt: number; // ms since epoch when the last complete pass started; 0 = none yet
  passes: number;
  indexComplete: boolean;
  buckets: Record<string, BucketRepair>;
  lastPass?: PassReport;
  /** Passes that walked everything (the first, then one every fullPassIntervalMs). */
  fullPasses: number;
}

export class RepairWorker implements Worker {
  readonly name = 'repair';
  readonly #o: RepairWorkerOptions;
  readonly #progress = new RepairProgress();
  readonly #bucket = new TokenBucket(0);
  #again = false;
  #under = 0;
  #misplaced = 0;
  #remaining = 0;
  #queue = 0;
  #lastPassAt = 0;
  #passes = 0;
  #indexComplete = false;
  #lastFullAt = 0;
  #fullPasses = 0;
  #settled: SettledPass | undefined;
  #lastPass: PassReport | undefined;
  /** Delay before a follow-up pass while copies or drops wait on other holders (≤ 0: none due; followUpDelay). */
  #followUpMs = 0;
  #progressed = false;
  /** Each bucket's references as last indexed, reused while its digests stay (refs.ts). */
  readonly #refs = new ReferenceCache();
  /** Per bucket, as the current pass planned it (and counted down as its work is done). */
  #buckets = new Map<string, Required<BucketRepair>>();

  constructor(o: RepairWorkerOptions) {
    this.#o = o;
  }

  /** Ask for another pass (the map changed); a pass already running is followed by a new one. */
  requestPass(): void {
    this.#again = true;
  }

  snapshot(): RepairSnapshot {
    return {
      underReplicatedChunks: this.#under,
      misplacedChunks: this.#misplaced,
      bytesRemaining: this.#remaining,
      bytesMoved: this.#progress.bytesMoved,
      rateBytesPerSec: this.#progress.rateBytesPerSec(),
      etaSeconds: this.#remaining > 0 ? this.#progress.etaSeconds(this.#remaining) : null,
      queueLength: this.#queue,
      lastPassAt: this.#lastPassAt,
      passes: this.#passes,
      indexComplete: this.#indexComplete,
      fullPasses: this.#fullPasses,
      ...(this.#lastPass ? { lastPass: this.#lastPass } : {}),
      // Every bucket, so a reader can tell "planned with this R, nothing to do here" from "not planned yet".
      buckets: Object.fromEntries(
        [...this.#buckets].map(([b, x]) => [b, { r: x.r, ...(x.under ? { under: x.under } : {}), ...(x.surplus ? { surplus: x.surplus } : {}) }]),
      ),
    };
  }

  async step(signal: AbortSignal): Promise<WorkerState> {
    this.#again = false;
    if (this.#o.diskUsable?.() === false) return 'idle';
    const now = this.#o.now ?? Date.now;
    const started = now();
    this.#progressed = false;
    await this.pass(signal);
    this.#lastPassAt = started;
    this.#passes++;
    if (this.#again) return 'busy';
    this.#followUpMs = followUpDelay(this.#followUpMs, { progressed: this.#progressed, waiting: this.#under + this.#misplaced });
    return this.#followUpMs > 0 ? 'throttled' : 'idle';
  }

  throttleMs(): number {
    return this.#followUpMs;
  }

  async pass(signal: AbortSignal): Promise<void> {
    const { view, replicas, chunks, meta } = this.#o;
    const now = this.#o.now ?? Date.now;
    const grace = this.#o.gcGraceMs?.() ?? view.settings().gcGraceMs;
    const started = now();
    const cpu0 = process.cpuUsage();

    // Digests first (one call per member), then what the pass may leave out.
    const members = view.members();
    const digests = await this.#digests(members);
    const inputs: PassInputs = {
      placement: `${placementFingerprint(members, view.buckets())}|grace=${grace}`,
      digests: digestsFingerprint(digests),
      localChunks: chunks.changeCount(),
    };
    const scope = passScope({
      now: started,
      inputs,
      last: this.#settled,
      lastFullAt: this.#lastFullAt,
      fullEveryMs: this.#o.fullPassIntervalMs ?? DEFAULT_FULL_PASS_MS,
      draining: view.member(view.selfId)?.state === 'draining',
    });
    const full = scope.kind === 'full';
    if (full) {
      this.#lastFullAt = started;
      this.#fullPasses++;
    }
    const mine = digests.get(view.selfId) ?? {};
    const partitions = await repairPartitions({ view, replicas }, meta, {
      signal,
      uploadExpiryMs: this.#o.uploadExpiryMs,
      now: now(),
      inSync: full ? undefined : (b, m) => holderInSync(mine, digests.get(m), b),
    });
    const report = (chunkPhase: boolean, visited: number) => {
      const c = process.cpuUsage(cpu0);
      this.#lastPass = {
        kind: scope.kind,
        chunks: chunkPhase,
        reason: scope.reason,
        visited: partitions.visited + visited,
        skippedPushes: partitions.skipped,
        cpuMicros: c.user + c.system,
        ms: now() - started,
      };
      this.#o.metrics?.repairEntriesVisited.inc({ kind: scope.kind }, partitions.visited + visited);
      this.#o.metrics?.repairPasses.inc({ kind: scope.kind, chunks: String(chunkPhase) });
    };
    if (partitions.pushed) this.#o.metrics?.repairItems.inc({ kind: 'meta', result: 'ok' }, partitions.pushed);
    if (partitions.expiredUploads) this.#o.metrics?.gcRemovals.inc({ kind: 'upload' }, partitions.expiredUploads);
    const tombstones = await collectTombstones({ view, replicas }, meta, { graceMs: grace, now: now(), signal });
    if (tombstones) this.#o.metrics?.gcRemovals.inc({ kind: 'version' }, tombstones);
    if (scope.kind === 'incremental' && !scope.chunks) {
      // Nothing the chunk phase reads changed since a pass that left nothing to do.
      report(false, 0);
      return;
    }

    // Local chunks with their age, listed before the index is built: a chunk written (or re-put)
    // after this point is younger than the grace period and never collected in this pass.
    const local: { id: string; mtime: number }[] = [];
    for await (const id of chunks.ids()) {
      const st = await stat(chunks.path(id)).catch(() => undefined);
      if (st) local.push({ id, mtime: st.mtimeMs });
    }
    const only = new Set(local.map((c) => c.id));
    const index = await buildReferenceIndex({ view, replicas }, { signal, only, digests, cache: this.#refs, everyMember: full });
    this.#indexComplete = index.complete;
    if (!index.complete) log.debug({ errors: index.errors.slice(0, 3) }, 'reference index incomplete: no garbage collection this pass');

    // Plan the referenced chunks.
    const referenced: LocalChunk[] = [];
    const garbage: { id: string; mtime: number }[] = [];
    let dueAt = Number.POSITIVE_INFINITY; // when the first unreferenced chunk kept now becomes collectable
    for (const c of local) {
      const refs = index.get(c.id);
      if (refs) referenced.push({ id: c.id, ...refs });
      else if (index.complete && now() - c.mtime > grace) garbage.push(c);
      else dueAt = Math.min(dueAt, c.mtime + grace + 1);
    }
    const asks = new Map<string, string[]>();
    for (const c of referenced) {
      for (const m of membersToAsk(view.selfId, c, members)) {
        let l = asks.get(m);
        if (!l) asks.set(m, (l = []));
        l.push(c.id);
      }
    }
    const holders = await confirmHolders(replicas, asks);
    const tasks = referenced.map((c) => chunkTask(view.selfId, c, holders.get(c.id) ?? new Set(), members));
    const work = tasks
      .filter((t) => (t.acts && t.copyTo.length > 0) || t.dropLocal)
      .sort((a, b) => a.plan.liveReplicas - b.plan.liveReplicas || b.copyTo.length - a.copyTo.length);
    this.#setUnder(tasks.filter((t) => t.acts && t.plan.underReplicated).length);
    this.#misplaced = tasks.filter((t) => !t.plan.desired.includes(view.selfId)).length;
    this.#remaining = work.reduce((n, t) => n + (t.acts ? t.plan.size * t.copyTo.length : 0), 0);
    this.#queue = work.length;
    this.#buckets = bucketRepairs(tasks, index.bucketReplicas, partitions, view.selfId);

    const planned = now();
    let allPlaced = index.complete && partitions.unconfirmed === 0;
    const placedNow = new Set<string>();
    await runLimited(
      work,
      () => Math.max(1, view.settings().repairConcurrency),
      async (t) => {
        signal.throwIfAborted();
        const ok = await this.#execute(t, signal);
        this.#queue--;
        if (t.acts && t.plan.underReplicated && ok) {
          this.#setUnder(this.#under - 1);
          for (const b of t.buckets) {
            const x = this.#buckets.get(b);
            if (x) x.under = Math.max(0, x.under - 1);
          }
        }
        if (ok && t.plan.desired.length >= t.r) placedNow.add(t.plan.id);
      },
    );
    if (work.length > 0) {
      log.info({ chunks: local.length, tasks: work.length, planMs: planned - started, workMs: now() - planned, under: this.#under }, 'repair pass worked');
    }
    // Drained needs every local chunk on a full set of R desired holders other than this member.
    for (const t of tasks) if (!t.fullyPlaced && !placedNow.has(t.plan.id)) allPlaced = false;

    // Garbage: re-checked just before deletion so a chunk re-put meanwhile is kept.
    for (const g of garbage) {
      signal.throwIfAborted();
      const st = await stat(chunks.path(g.id)).catch(() => undefined);
      if (!st || st.mtimeMs !== g.mtime) continue;
      await chunks.delete(g.id);
      this.#o.metrics?.gcRemovals.inc({ kind: 'chunk' });
      this.#o.metrics?.gcBytesRemoved.inc(st.size);
      log.debug({ chunk: g.id, bytes: st.size }, 'unreferenced chunk collected');
    }

    // Settled: this pass found nothing to do, so the next may skip the chunk phase while its inputs stay.
    const settled =
      work.length === 0 &&
      garbage.length === 0 &&
      index.complete &&
      partitions.unconfirmed === 0 &&
      partitions.pushed === 0 &&
      partitions.surplus.size === 0 &&
      partitions.expiredUploads === 0 &&
      tombstones === 0 &&
      this.#under === 0 &&
      this.#misplaced === 0;
    this.#settled = { inputs, settled, dueAt };
    report(true, index.visited + local.length);

    const self = view.member(view.selfId);
    if (self?.state === 'draining' && allPlaced && this.#o.markDrained) {
      log.info({ member: view.selfId, chunks: referenced.length, partitions: partitions.partitions }, 'every item has R replicas elsewhere: drained');
      await this.#o.markDrained();
    }
  }

  /** Every data member's partition digests (undefined for one that did not answer or is down). */
  async #digests(members: ReturnType<ClusterView['members']>): Promise<Map<string, Record<string, PartitionDigest> | undefined>> {
    const out = new Map<string, Record<string, PartitionDigest> | undefined>();
    const asked = members.filter((m) => holdsData(m) && m.state !== 'drained');
    await Promise.all(
      asked.map(async (m) => {
        if (m.id === this.#o.view.selfId) return out.set(m.id, this.#o.meta.partitionDigests());
        if (m.state === 'down') return out.set(m.id, undefined);
        out.set(
          m.id,
          await this.#o.replicas
            .meta(m.id)
            .partitionDigests()
            .catch(() => undefined),
        );
      }),
    );
    if (!out.has(this.#o.view.selfId)) out.set(this.#o.view.selfId, this.#o.meta.partitionDigests());
    return out;
  }

  #setUnder(n: number): void {
    const changed = (this.#under === 0) !== (n === 0);
    this.#under = n;
    if (changed) this.#o.announce?.();
  }

  /** Copy to the missing desired holders (when acting), then drop the local copy if surplus. */
  async #execute(t: ChunkTask, signal: AbortSignal): Promise<boolean> {
    const { view, replicas, chunks } = this.#o;
    let ok = true;
    if (t.acts && t.copyTo.length > 0) {
      let data: ChunkBuffer;
      // The copy's buffer counts against the node's chunk memory like an upload's (chunks/memory.ts):
      // repair concurrency cannot take a node past it. The buffer holds the grant until every copy of it is done.
      const grant = await this.#o.memory.take(t.plan.size, signal);
      // Read as it is on disk: every receiver hashes what it stores (ChunkStore.put refuses bytes
      // that do not hash to the id), so hashing here too only doubled the CPU a copy costs. A copy
      // refused for its hash sends this member to check its own copy (#refused).
      try {
        data = (await chunks.getUnverified(t.plan.id)).holdUnder(grant);
      } catch (e) {
        grant.release();
        // Corrupt or vanished here: scrub replaces it; another holder may act meanwhile.
        log.warn({ chunk: t.plan.id, err: (e as Error).message }, 'cannot read local chunk for repair');
        this.#o.metrics?.repairItems.inc({ kind: 'chunk', result: 'error' });
        return false;
      }
      try {
        for (const to of t.copyTo) {
          this.#bucket.setRate(view.settings().repairBandwidthBytes);
          await this.#bucket.take(data.length, signal);
          try {
            await replicas.chunks(to).putChunk(t.plan.id, data, data.length, signal);
            this.#progressed = true;
            this.#progress.moved(data.length);
            this.#remaining = Math.max(0, this.#remaining - data.length);
            this.#o.metrics?.repairBytesMoved.inc(data.length);
            this.#o.metrics?.repairItems.inc({ kind: 'chunk', result: 'ok' });
          } catch (e) {
            if (signal.aborted) throw e;
            ok = false;
            this.#o.metrics?.repairItems.inc({ kind: 'chunk', result: 'error' });
            if (isChunkError(e, 'ChunkHashMismatch')) {
              await this.#refused(t.plan.id, data);
              break;
            }
            log.warn({ chunk: t.plan.id, member: to, err: (e as Error).message }, 'chunk copy failed');
          }
        }
      } finally {
        // Every copy finished: nothing holds it. After a failure, leave it to the GC.
        if (ok && !signal.aborted) data.release();
        else data.discard();
      }
      // The copies just made confirm the holders that lacked it: the local copy may now be surplus.
      if (ok && t.plan.desired.length >= t.r && !t.plan.desired.includes(view.selfId)) t = { ...t, dropLocal: true, fullyPlaced: true };
    }
    if (t.dropLocal && ok) {
      await chunks.delete(t.plan.id);
      this.#progressed = true;
      this.#misplaced = Math.max(0, this.#misplaced - 1);
      log.debug({ chunk: t.plan.id }, 'surplus local copy dropped');
      for (const b of t.buckets) {
        const x = this.#buckets.get(b);
        if (x) x.surplus = Math.max(0, x.surplus - 1);
      }
    }
    return ok;
  }

  /** A receiver refused our bytes: the local copy is corrupt (scrub replaces it from a good replica;
   *  another holder may act meanwhile), unless the bytes read from disk hash right (damaged in transit). */
  async #refused(id: string, data: ChunkBuffer): Promise<void> {
    if ((await sha256Off(data.bytes)) === id) log.warn({ chunk: id }, 'chunk copy refused by its receiver, but the local copy verifies; retried next pass');
    else log.error({ chunk: id }, 'local chunk is corrupt; not copied (scrub replaces it)');
  }
}

/**
 * Pure: for every bucket of the registry, what this pass found — the bucket's R as the index saw it, the chunks this
 * member repairs that are below their R (and the metadata partition when a desired holder could not
 * be brought up to date), and the copies held here that placement wants elsewhere (a lowered R, a
 * move), partition included until dropped. A chunk shared by buckets counts for each.
 */
export function bucketRepairs(
  tasks: ChunkTask[],
  bucketR: Map<string, number>,
  partitions: { pending: Set<string>; surplus: Set<string> },
  selfId: string,
): Map<string, Required<BucketRepair>> {
  const out = new Map<string, Required<BucketRepair>>();
  for (const [b, r] of bucketR) out.set(b, { r, under: 0, surplus: 0 });
  const entry = (b: string) => {
    let x = out.get(b);
    if (!x) out.set(b, (x = { r: 0, under: 0, surplus: 0 }));
    return x;
  };
  for (const t of tasks) {
    for (const b of t.buckets) {
      const x = entry(b);
      if (t.acts && t.plan.underReplicated) x.under++;
      if (!t.plan.desired.includes(selfId)) x.surplus++;
    }
  }
  for (const b of partitions.pending) if (bucketR.has(b)) entry(b).under++;
  for (const b of partitions.surplus) if (bucketR.has(b)) entry(b).surplus++;
  return out;
}

/** Run `op` over items with a concurrency limit read before each start. */
async function runLimited<T>(items: T[], limit: () => number, op: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const running = new Set<Promise<void>>();
  let failure: unknown;
  while (next < items.length && failure === undefined) {
    while (running.size < limit() && next < items.length) {
      const p = op(items[next++]!)
        .catch((e) => {
          failure ??= e;
        })
        .finally(() => running.delete(p));
      running.add(p);
    }
    await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
}
