// Replication of one bucket to another S3 store (BucketSettings.replicateTo), by this member: a
// worker over its own outbox (the changes it coordinated) with a persisted cursor, plus the
// backfill of what the bucket held before the rule (run by one member, resumable from its last key).
//
// What is copied is the object as it is *now*, not as the event says: a copy reads the current
// version, puts it to the target, then reads the source again and copies once more if it changed
// meanwhile. So copies are idempotent, an old event can never put back stale bytes, and whichever
// member copies last the target ends with the latest version. A key that no longer exists is
// deleted on the target when the rule says so. A failed copy (target down) is retried with backoff
// and the cursor does not move past it: resumable after an outage or a restart. Objects encrypted
// with a customer key (SSE-C) cannot be read without it: skipped and counted.
import { Readable } from 'node:stream';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as Minio from 'minio';
import type { ReplicationRule } from '../cluster/types.ts';
import type { ObjectService } from '../data/types.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import { isS3Error } from '../util/errors.ts';
import { logger } from '../util/log.ts';
import type { Outbox } from './outbox.ts';
import { decodeKey, type OutboxEvent } from './record.ts';

export const SOURCE_ETAG_META = 'cairn-source-etag';
export const replicationConsumer = (bucket: string, ruleId: string) => `replication:${bucket}:${ruleId}`;

export interface ReplicatorDeps {
  outbox: Outbox<OutboxEvent>;
  objects: ObjectService;
  secret: (rule: ReplicationRule) => string;
  /** Where the backfill keeps its progress (one small file per bucket and rule). */
  dir: string;
  /** Whether this member runs the backfill of a bucket's rule. */
  backfills: (bucket: string) => boolean;
  metrics?: NodeMetrics;
  retry?: { minMs: number; maxMs: number };
}

export type ReplicatorState = 'copying' | 'idle' | 'retrying' | 'stopped';
export interface ReplicatorStatus {
  bucket: string;
  state: ReplicatorState;
  backlog: number;
  oldestPendingAt?: number;
  backfill: 'done' | 'running' | 'elsewhere';
  lastError?: string;
}

type Result = 'copied' | 'deleted' | 'skipped';

export class BucketReplicator {
  readonly bucket: string;
  readonly rule: ReplicationRule;
  private readonly d: ReplicatorDeps;
  private client!: Minio.Client; // made in start(): the S3 client library loads only on a node that replicates
  private readonly consumer: string;
  private readonly stop$ = new AbortController();
  private readonly log;
  private cursor = 0;
  private state: ReplicatorState = 'idle';
  private oldestPendingAt?: number;
  private backfill: ReplicatorStatus['backfill'] = 'elsewhere';
  private lastError?: string;
  private running: Promise<unknown>[] = [];
  private crashed = false;

  constructor(bucket: string, rule: ReplicationRule, d: ReplicatorDeps) {
    this.bucket = bucket;
    this.rule = rule;
    this.d = d;
    this.consumer = replicationConsumer(bucket, rule.id);
    this.log = logger('replication', { bucket, target: `${rule.endpoint}/${rule.bucket}` });
  }

  async start(): Promise<this> {
    const { outbox } = this.d;
    const u = new URL(this.rule.endpoint);
    const { Client } = await import('minio');
    this.client = new Client({
      endPoint: u.hostname,
      port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      useSSL: u.protocol === 'https:',
      pathStyle: true,
      region: this.rule.region,
      accessKey: this.rule.accessKeyId,
      secretKey: this.d.secret(this.rule),
    });
    if (!outbox.consumers().includes(this.consumer)) {
      // A new rule: changes recorded from its creation on are this worker's; older ones the backfill's.
      outbox.commit(this.consumer, await this.firstAtOrAfter(this.rule.createdAt));
    }
    this.cursor = outbox.cursor(this.consumer);
    this.running.push(this.guard(this.follow(), 'following the outbox'));
    if (this.d.backfills(this.bucket)) this.running.push(this.guard(this.runBackfill(), 'backfilling'));
    return this;
  }

  async stop(): Promise<void> {
    this.stop$.abort();
    await Promise.allSettled(this.running);
    this.state = 'stopped';
  }

  /** A worker task that failed outside its retries (the outbox or the disk): logged once, the worker stops; the manager's next check starts it again. */
  private guard(p: Promise<void>, what: string): Promise<void> {
    return p.catch((e) => {
      this.lastError = String((e as Error)?.message ?? e);
      this.crashed = true;
      this.log.error({ err: this.lastError }, `replication stopped while ${what}`);
    });
  }

  get failed(): boolean {
    return this.crashed && !this.stop$.signal.aborted;
  }

  status(): ReplicatorStatus {
    const backlog = Math.max(0, this.d.outbox.end - Math.max(this.cursor, this.d.outbox.first));
    return {
      bucket: this.bucket,
      state: this.state,
      backlog,
      oldestPendingAt: this.oldestPendingAt,
      backfill: this.backfill,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private async firstAtOrAfter(t: number): Promise<number> {
    for (let pos = this.d.outbox.first; ; ) {
      const r = await this.d.outbox.read(pos, 1024);
      const hit = r.entries.find((e) => e.at >= t);
      if (hit) return hit.seq;
      if (r.entries.length === 0) return r.next;
      pos = r.next;
    }
  }

  private wanted(key: string): boolean {
    return key.startsWith(this.rule.prefix ?? '');
  }

  /** The outbox: every change of the bucket this member coordinated, in order. */
  private async follow(): Promise<void> {
    const { outbox } = this.d;
    const signal = this.stop$.signal;
    while (!signal.aborted && !outbox.isClosed) {
      const r = await outbox.read(this.cursor, 128);
      if (r.skipped > 0) {
        // The outbox was full and let changes go before we copied them: copy everything again.
        this.log.warn({ skipped: r.skipped }, 'changes dropped before replication: running a full resync');
        this.running.push(this.guard(this.runBackfill(true), 'resyncing'));
      }
      if (r.entries.length === 0) {
        this.advance(r.next);
        this.state = 'idle';
        await outbox.waitForAppend(this.cursor, { signal });
        continue;
      }
      const keys = [
        ...new Set(
          r.entries
            .filter((e) => e.value.record.s3.bucket.name === this.bucket)
            .map((e) => decodeKey(e.value.record.s3.object.key))
            .filter((k) => this.wanted(k)),
        ),
      ];
      this.oldestPendingAt = r.entries.find((e) => e.value.record.s3.bucket.name === this.bucket)?.at;
      this.state = 'copying';
      for (const key of keys) if (!(await this.withRetry(() => this.copy(key), signal))) return;
      this.oldestPendingAt = undefined;
      this.advance(r.next);
    }
  }

  private advance(next: number): void {
    if (next === this.cursor) return;
    this.cursor = next;
    this.d.outbox.commit(this.consumer, next);
  }

  /** Retried with backoff until it works or the worker stops (false). */
  private async withRetry<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T | undefined> {
    const retry = this.d.retry ?? { minMs: 500, maxMs: 30_000 };
    for (let delay = retry.minMs; !signal.aborted; delay = Math.min(retry.maxMs, delay * 2)) {
      try {
        const v = await fn();
        this.lastError = undefined;
        return v;
      } catch (e) {
        if (signal.aborted) return undefined;
        this.state = 'retrying';
        this.lastError = String((e as Error)?.message ?? e);
        this.d.metrics?.replicationObjects.inc({ bucket: this.bucket, result: 'failed' });
        this.log.warn({ err: this.lastError, retryInMs: delay }, 'copy failed; retrying');
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              r();
            },
            { once: true },
          );
        });
      }
    }
    return undefined;
  }

  /** Make the target's key what the source's is now. */
  async copy(key: string): Promise<Result> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const v = await this.head(key);
      let result: Result;
      if (!v) {
        if (!this.rule.deletes) return this.count('skipped');
        await this.client.removeObject(this.rule.bucket, key);
        result = 'deleted';
      } else if (v.encryption?.kind === 'SSE-C') {
        this.log.warn({ key }, 'object encrypted with a customer key (SSE-C): not replicated');
        return this.count('skipped');
      } else {
        const got = await this.d.objects.getObject(this.bucket, key, { signal: this.stop$.signal });
        const meta: Record<string, string> = { 'Content-Type': got.version.contentType ?? 'application/octet-stream', ...(got.version.headers ?? {}) };
        for (const [k, val] of Object.entries(got.version.userMeta)) meta[`X-Amz-Meta-${k}`] = val;
        meta[`X-Amz-Meta-${SOURCE_ETAG_META}`] = got.version.etag;
        await this.client.putObject(this.rule.bucket, key, got.body instanceof Readable ? got.body : Readable.from(got.body), got.version.size, meta);
        result = 'copied';
        if (got.version.versionId !== v.versionId) continue;
      }
      // Changed while we copied: copy again (the latest version must be the last one put).
      const after = await this.head(key);
      if ((after?.versionId ?? null) === (v?.versionId ?? null)) return this.count(result);
    }
    throw new Error(`key ${key} kept changing while it was copied`);
  }

  private count(r: Result): Result {
    this.d.metrics?.replicationObjects.inc({ bucket: this.bucket, result: r });
    return r;
  }

  private async head(key: string) {
    try {
      return await this.d.objects.headObject(this.bucket, key);
    } catch (e) {
      if (isS3Error(e) && e.code === 'NoSuchKey') return undefined;
      throw e;
    }
  }

  /** Every object the bucket holds, once, resumable: skipping those the target holds already (same source ETag). */
  private async runBackfill(again = false): Promise<void> {
    const file = join(this.d.dir, `${encodeURIComponent(this.bucket)}.${this.rule.id}.backfill.json`);
    let progress: { after?: string; done: boolean } = { done: false };
    if (!again) {
      try {
        progress = JSON.parse(await readFile(file, 'utf8'));
      } catch {
        /* none yet */
      }
    }
    if (progress.done) {
      this.backfill = 'done';
      return;
    }
    this.backfill = 'running';
    const signal = this.stop$.signal;
    while (!signal.aborted) {
      const page = await this.withRetry(
        () => this.d.objects.listObjects(this.bucket, { prefix: this.rule.prefix, maxKeys: 200, ...(progress.after ? { startAfter: progress.after } : {}) }),
        signal,
      );
      if (!page) return;
      for (const o of page.objects) {
        if (signal.aborted) return;
        const there = await this.client.statObject(this.rule.bucket, o.key).catch(() => undefined);
        if (there?.metaData?.[SOURCE_ETAG_META] !== o.etag && (await this.withRetry(() => this.copy(o.key), signal)) === undefined) return;
      }
      progress = { after: page.objects.at(-1)?.key ?? progress.after, done: !page.isTruncated };
      await writeFile(`${file}.tmp`, JSON.stringify(progress));
      await rename(`${file}.tmp`, file);
      if (progress.done) {
        this.backfill = 'done';
        this.log.info({}, 'backfill done');
        return;
      }
    }
  }
}
