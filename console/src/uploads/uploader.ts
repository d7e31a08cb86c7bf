// The upload queue: files go to S3 as presigned PUTs of the signed-in user — one PUT for a small
// file, a multipart upload for a big one (parts of the size the server chose, each its own
// presigned UploadPart URL). A few files at a time, a few requests at a time across all of them;
// per-file and total progress; pause keeps the finished parts, resume sends only the rest; cancel
// aborts the multipart upload; a failed part is retried, a failed file says why and can be retried.
// No DOM here: the transport (XHR) and the API are passed in, so the queue is tested in Node.
import type { UploadPlan } from '../../../node-runtime/src/console/api.ts';
import { PART_URL_BATCH } from '../../../node-runtime/src/console/api.ts';
import { Semaphore, type Blobish, type Transport, type UploadApi, TransferError } from './transport.ts';

export type UploadState = 'queued' | 'uploading' | 'paused' | 'done' | 'failed' | 'cancelled';

export interface UploadItem {
  id: number;
  bucket: string;
  key: string;
  size: number;
  loaded: number;
  state: UploadState;
  error?: string;
}

export interface UploadTotals {
  files: number;
  done: number;
  failed: number;
  paused: number;
  active: number;
  size: number;
  loaded: number;
}

interface Part {
  n: number;
  start: number;
  end: number;
  etag?: string;
  loaded: number;
  url?: string;
  urlAt?: number;
}

interface Job {
  item: UploadItem;
  file: Blobish;
  contentType?: string;
  plan?: UploadPlan;
  parts: Part[];
  run?: { ctrl: AbortController };
}

export interface UploaderOptions {
  maxFiles?: number; // files in progress at once
  maxRequests?: number; // PUTs in flight across all files
  partRetries?: number;
  retryDelayMs?: (attempt: number) => number;
  now?: () => number;
  onChange?: () => void;
  onFileDone?: (item: UploadItem) => void;
}

const URL_MAX_AGE_MS = 45 * 60_000; // part URLs live an hour; refresh well before

export class Uploader {
  private readonly jobs: Job[] = [];
  private readonly api: UploadApi;
  private readonly transport: Transport;
  private readonly opts: Required<Omit<UploaderOptions, 'onChange' | 'onFileDone'>> & Pick<UploaderOptions, 'onChange' | 'onFileDone'>;
  private readonly requests: Semaphore;
  private nextId = 1;

  constructor(api: UploadApi, transport: Transport, opts: UploaderOptions = {}) {
    this.api = api;
    this.transport = transport;
    this.opts = { maxFiles: 3, maxRequests: 4, partRetries: 3, retryDelayMs: (a) => 500 * 2 ** a, now: Date.now, ...opts };
    this.requests = new Semaphore(this.opts.maxRequests);
  }

  add(bucket: string, files: { key: string; file: Blobish }[]): UploadItem[] {
    const items = files.map(({ key, file }) => {
      const item: UploadItem = { id: this.nextId++, bucket, key, size: file.size, loaded: 0, state: 'queued' };
      this.jobs.push({ item, file, contentType: file.type || undefined, parts: [] });
      return item;
    });
    this.changed();
    this.pump();
    return items;
  }

  items(): UploadItem[] {
    return this.jobs.map((j) => ({ ...j.item }));
  }

  totals(): UploadTotals {
    const t: UploadTotals = { files: 0, done: 0, failed: 0, paused: 0, active: 0, size: 0, loaded: 0 };
    for (const { item } of this.jobs) {
      if (item.state === 'cancelled') continue;
      t.files++;
      t.size += item.size;
      t.loaded += item.loaded;
      if (item.state === 'done') t.done++;
      else if (item.state === 'failed') t.failed++;
      else if (item.state === 'paused') t.paused++;
      else if (item.state === 'uploading' || item.state === 'queued') t.active++;
    }
    return t;
  }

  pause(id: number): void {
    const job = this.find(id);
    if (!job || (job.item.state !== 'uploading' && job.item.state !== 'queued')) return;
    this.stop(job, 'paused');
  }

  resume(id: number): void {
    const job = this.find(id);
    if (!job || (job.item.state !== 'paused' && job.item.state !== 'failed')) return;
    job.item.state = 'queued';
    job.item.error = undefined;
    this.changed();
    this.pump();
  }

  cancel(id: number): void {
    const job = this.find(id);
    if (!job || job.item.state === 'done' || job.item.state === 'cancelled') return;
    this.stop(job, 'cancelled');
    const plan = job.plan;
    if (plan?.kind === 'multipart') {
      // Best effort: an upload left behind is removed by the bucket's own cleanup of stale uploads.
      this.api.abort(job.item.bucket, job.item.key, plan.uploadId).catch(() => {});
    }
  }

  /** Forget finished and cancelled files (the panel's "clear"). */
  clearFinished(): void {
    for (let i = this.jobs.length - 1; i >= 0; i--) {
      if (this.jobs[i].item.state === 'done' || this.jobs[i].item.state === 'cancelled') this.jobs.splice(i, 1);
    }
    this.changed();
  }

  private find(id: number): Job | undefined {
    return this.jobs.find((j) => j.item.id === id);
  }

  private stop(job: Job, state: 'paused' | 'cancelled'): void {
    job.run?.ctrl.abort();
    job.run = undefined;
    job.item.state = state;
    // Only finished parts count: the ones in flight start over.
    for (const p of job.parts) if (!p.etag) p.loaded = 0;
    job.item.loaded = job.parts.reduce((s, p) => s + (p.etag ? p.end - p.start : 0), 0);
    this.changed();
    this.pump();
  }

  private changed(): void {
    this.opts.onChange?.();
  }

  private pump(): void {
    let running = this.jobs.filter((j) => j.run).length;
    for (const job of this.jobs) {
      if (running >= this.opts.maxFiles) break;
      if (job.item.state !== 'queued' || job.run) continue;
      running++;
      void this.start(job);
    }
  }

  private async start(job: Job): Promise<void> {
    const run = { ctrl: new AbortController() };
    job.run = run;
    job.item.state = 'uploading';
    this.changed();
    try {
      if (!job.plan) job.plan = await this.api.start(job.item.bucket, job.item.key, job.item.size, job.contentType);
      if (run.ctrl.signal.aborted) return;
      if (job.plan.kind === 'single') {
        const url = job.plan.url;
        await this.put(job, url, job.file, run.ctrl.signal, (loaded) => {
          job.item.loaded = loaded;
        });
      } else {
        await this.sendParts(job, job.plan, run.ctrl.signal);
        if (run.ctrl.signal.aborted) return;
        await this.api.complete(
          job.item.bucket,
          job.item.key,
          job.plan.uploadId,
          job.parts.map((p) => ({ partNumber: p.n, etag: p.etag! })),
        );
      }
      if (run.ctrl.signal.aborted) return;
      job.item.loaded = job.item.size;
      job.item.state = 'done';
      this.opts.onFileDone?.({ ...job.item });
    } catch (e) {
      if (run.ctrl.signal.aborted) return; // paused or cancelled: not a failure
      // TransferError from a PUT, ApiError from the console API: both carry S3's code and reason.
      const err = e as { code?: string; message?: string };
      // The upload is gone (aborted elsewhere, or expired): the retry starts it again.
      if (err.code === 'NoSuchUpload') {
        job.plan = undefined;
        job.parts = [];
      }
      job.item.state = 'failed';
      job.item.error = err.message ?? String(e);
    } finally {
      if (job.run === run) job.run = undefined;
      this.changed();
      this.pump();
    }
  }

  private async sendParts(job: Job, plan: Extract<UploadPlan, { kind: 'multipart' }>, signal: AbortSignal): Promise<void> {
    if (job.parts.length === 0) {
      for (let n = 1; n <= plan.partCount; n++) {
        const start = (n - 1) * plan.partSize;
        job.parts.push({ n, start, end: Math.min(job.item.size, start + plan.partSize), loaded: 0 });
      }
    }
    const pending = job.parts.filter((p) => !p.etag);
    let next = 0;
    const progress = () => {
      job.item.loaded = job.parts.reduce((s, p) => s + (p.etag ? p.end - p.start : p.loaded), 0);
    };
    const worker = async () => {
      while (next < pending.length && !signal.aborted) {
        const part = pending[next++];
        await this.ensureUrls(job, plan.uploadId, part, signal);
        const { etag } = await this.put(
          job,
          part.url!,
          job.file.slice(part.start, part.end),
          signal,
          (loaded) => {
            part.loaded = loaded;
            progress();
          },
          part,
        );
        part.etag = etag;
        progress();
      }
    };
    // Each file keeps up to maxRequests parts going; the shared semaphore keeps the total bounded.
    await Promise.all(Array.from({ length: Math.min(this.opts.maxRequests, pending.length) }, worker));
  }

  /** URLs for this part and the next ones without, in one call (or fresh ones when they grow old). */
  private async ensureUrls(job: Job, uploadId: string, part: Part, signal: AbortSignal): Promise<void> {
    const now = this.opts.now();
    if (part.url && now - (part.urlAt ?? 0) < URL_MAX_AGE_MS) return;
    const wanted = job.parts.filter((p) => p.n >= part.n && !p.etag && (!p.url || now - (p.urlAt ?? 0) >= URL_MAX_AGE_MS)).slice(0, PART_URL_BATCH);
    const urls = await this.api.partUrls(
      job.item.bucket,
      job.item.key,
      uploadId,
      wanted.map((p) => p.n),
    );
    if (signal.aborted) return;
    wanted.forEach((p, i) => {
      p.url = urls[i];
      p.urlAt = now;
    });
  }

  /** One PUT with retries for what retrying can fix (network, 5xx, an expired URL). */
  private async put(job: Job, url: string, body: Blobish, signal: AbortSignal, onProgress: (loaded: number) => void, part?: Part): Promise<{ etag: string }> {
    for (let attempt = 0; ; attempt++) {
      await this.requests.acquire(signal);
      let err: TransferError;
      try {
        return await this.transport.put(
          url,
          body,
          job.plan?.kind === 'single' ? job.contentType : undefined,
          (loaded) => {
            onProgress(loaded);
            this.changed();
          },
          signal,
        );
      } catch (e) {
        if (signal.aborted) throw e;
        err = e instanceof TransferError ? e : new TransferError(0, 'NetworkError', String(e));
      } finally {
        this.requests.release();
      }
      onProgress(0);
      const expired = part !== undefined && err.status === 403 && attempt === 0;
      if (!(err.status === 0 || err.status >= 500 || expired) || attempt >= this.opts.partRetries) throw err;
      if (expired) {
        part.url = undefined;
        await this.ensureUrls(job, (job.plan as { uploadId: string }).uploadId, part, signal);
        url = part.url ?? url;
      } else {
        await delay(this.opts.retryDelayMs(attempt), signal);
      }
    }
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });
}
