// The lifecycle worker: carries out buckets' lifecycle rules (expiration, noncurrent version
// expiration, expired delete marker removal, abort of incomplete multipart uploads) in bounded
// steps — one page of one bucket each — under a WorkerRunner.
//
// Exactly once per object, cluster-wide: a bucket's rules are run by one member, the first of the
// bucket's metadata holders in placement order (the same for every member that has the same map).
// While maps disagree two members may both run a bucket; that is still safe, because every action
// is a conditional write on the exact version it was decided for (data/conditional.ts): expiring a
// current version adds a delete marker only if that version is still current; removing a version
// or marker by id is a no-op once it is gone. So a second runner finds nothing left to do.
// A version object lock keeps is skipped (counted as `locked`), never forced.
import type { ClusterView } from '../cluster/types.ts';
import { replicasFor } from '../cluster/placement.ts';
import type { ObjectService, ObjectVersion } from '../data/types.ts';
import { s3VersionId } from '../meta/slots.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import type { Worker, WorkerState } from '../util/background.ts';
import { isS3Error } from '../util/errors.ts';
import { logger } from '../util/log.ts';
import { lifecycleRules } from './lifecycle.ts';
import { byKey, dueForKey } from './lifecycle-scan.ts';
import { dueUploadAbort, type ClockOptions, type LifecycleAction } from './semantics/lifecycle-due.ts';

const log = logger('lifecycle');
const PAGE = 1000;

export interface LifecycleWorkerOptions {
  view: ClusterView;
  objects: ObjectService;
  metrics?: NodeMetrics;
  /** Length of a lifecycle "day" (tests shrink it, as RGW's rgw_lc_debug_interval); default: real days. */
  dayMs?: number;
  now?: () => number;
}

/** Where a pass over one bucket stands: its versions (after a key), then its uploads (after a key and id). */
interface Cursor {
  bucket: string;
  phase: 'versions' | 'uploads';
  after?: string;
  uploadAfter?: { key: string; uploadId: string };
}

export type LifecycleOutcome = 'done' | 'noop' | 'locked' | 'failed';

export class LifecycleWorker implements Worker {
  readonly name = 'lifecycle';
  /** Actions carried out (and found already done) since start, for tests and status. */
  readonly counts: Record<LifecycleOutcome, number> = { done: 0, noop: 0, locked: 0, failed: 0 };
  readonly #o: LifecycleWorkerOptions;
  #queue: string[] = [];
  #cursor: Cursor | undefined;

  constructor(o: LifecycleWorkerOptions) {
    this.#o = o;
  }

  /** Buckets with rules whose runner is this member. */
  #mine(): string[] {
    const { view } = this.#o;
    return view
      .buckets()
      .filter((b) => !b.deleted && b.lifecycle && replicasFor(`bucket:${b.name}`, view.members(), 1)[0]?.id === view.selfId)
      .map((b) => b.name);
  }

  async step(signal: AbortSignal): Promise<WorkerState> {
    // Local metadata reads may resolve without touching the event loop: let requests in between pages.
    await new Promise<void>((r) => setImmediate(r));
    if (!this.#cursor) {
      if (this.#queue.length === 0) {
        this.#queue = this.#mine();
        if (this.#queue.length === 0) return 'idle';
        this.#o.metrics?.lifecyclePasses.inc();
      }
      this.#cursor = { bucket: this.#queue.shift()!, phase: 'versions' };
    }
    const c = this.#cursor;
    const b = this.#o.view.bucket(c.bucket);
    const rules = b?.lifecycle ? lifecycleRules(b.lifecycle) : [];
    if (rules.length === 0) {
      this.#cursor = undefined;
      return this.#queue.length ? 'busy' : 'idle';
    }
    const clock: ClockOptions = this.#o.dayMs !== undefined ? { dayMs: this.#o.dayMs } : {};
    const now = (this.#o.now ?? Date.now)();
    if (c.phase === 'versions') {
      const batch = await this.#o.objects.listVersionBatch(c.bucket, { ...(c.after !== undefined ? { after: c.after } : {}), limit: PAGE });
      this.#o.metrics?.lifecycleVersionsScanned.inc(batch.versions.length);
      for (const versions of byKey(batch.versions)) {
        for (const due of dueForKey(rules, versions, now, clock)) {
          if (signal.aborted) return 'busy';
          await this.#apply(c.bucket, due.version, due.action);
        }
      }
      if (batch.next !== undefined && batch.versions.length > 0) c.after = batch.next;
      else this.#cursor = { bucket: c.bucket, phase: 'uploads' };
      return 'busy';
    }
    const uploads = await this.#o.objects.listUploads(c.bucket, { keyMarker: c.uploadAfter?.key, uploadIdMarker: c.uploadAfter?.uploadId, maxUploads: PAGE });
    for (const u of uploads) {
      if (dueUploadAbort(rules, { key: u.key, initiated: Date.parse(u.initiated) }, now, clock) === undefined) continue;
      await this.#count('abort-upload', () =>
        this.#o.objects.abortUpload(c.bucket, u.key, u.uploadId).then(
          () => 'done' as const,
          (e: unknown) => {
            if (isS3Error(e) && e.code === 'NoSuchUpload') return 'noop' as const; // completed or aborted meanwhile
            throw e;
          },
        ),
      );
    }
    const last = uploads[uploads.length - 1];
    if (uploads.length >= PAGE && last) {
      c.uploadAfter = { key: last.key, uploadId: last.uploadId };
      return 'busy';
    }
    this.#cursor = undefined;
    // The pass ends with the last bucket: the runner sleeps until the next one.
    return this.#queue.length ? 'busy' : 'idle';
  }

  /** One action, conditional on the version it was decided for (see the top of the file). */
  async #apply(bucket: string, v: ObjectVersion, action: LifecycleAction): Promise<void> {
    const objects = this.#o.objects;
    if (action.kind === 'expire-current') {
      const same = (t: ObjectVersion | undefined) => t !== undefined && !t.deleted && t.versionId === v.versionId && t.timestamp === v.timestamp;
      let acted = false;
      await this.#count(action.kind, async () => {
        // Decided again on every attempt of the conditional write: the last decision is what happened.
        await objects.deleteObject(bucket, v.key, { precondition: (t) => ((acted = same(t)), acted ? 'delete' : 'noop') });
        return acted ? 'done' : 'noop';
      });
      return;
    }
    // A noncurrent version or an expired delete marker: removed for good, by id.
    let found = false;
    await this.#count(action.kind, async () => {
      await objects.deleteObject(bucket, v.key, { versionId: s3VersionId(v), precondition: (t) => ((found = t !== undefined), found ? 'delete' : 'noop') });
      return found ? 'done' : 'noop';
    });
  }

  async #count(action: string, run: () => Promise<'done' | 'noop'>): Promise<void> {
    let outcome: LifecycleOutcome;
    try {
      outcome = await run();
    } catch (e) {
      // Object lock keeps a version whatever the rules say; anything else is retried next pass.
      outcome = isS3Error(e) && e.code === 'AccessDenied' ? 'locked' : 'failed';
      if (outcome === 'failed') log.warn({ action, err: String((e as Error)?.message ?? e) }, 'lifecycle action failed; retried on the next pass');
    }
    this.counts[outcome]++;
    this.#o.metrics?.lifecycleActions.inc({ action, result: outcome });
  }
}
