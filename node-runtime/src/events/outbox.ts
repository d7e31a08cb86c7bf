// The node's durable event outbox: an append-only log of segment files with per-consumer cursors, bounded in size.
//
// Every entry gets the next sequence number; `append` resolves once the entry is on disk (appends
// that arrive while a write is under way share the next write and its one fdatasync). Readers see
// durable entries only, so a sequence number a consumer or client saw is never reused after a
// crash. Consumers (delivery workers) hold persisted cursors (cursors.ts); change-feed clients hold
// opaque cursor strings (`epoch.seq`) and read at any position still retained.
//
// Space: a segment is deleted once every consumer has passed it and it is older than `retainMs`
// (the change feed's window). When the outbox reaches `maxBytes` anyway (a target down for long),
// the OLDEST segment is dropped, whoever has not read it: new events keep being recorded, the write
// path never blocks on a target, and the loss is explicit: counted in
// cairn_events_outbox_dropped_total, logged, and seen by every reader as `skipped` entries (a
// delivery worker counts them per target; the change feed sends a reset).
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeMetrics } from '../observability/metrics.ts';
import { logger } from '../util/log.ts';
import { CursorStore } from './cursors.ts';
import type { OutboxEvent } from './record.ts';
import { encodeRecord, HEADER_BYTES, INDEX_EVERY, readSegment, recoverSegments, segmentFile, type Segment } from './segment.ts';

export interface OutboxOptions {
  dir: string;
  segmentBytes?: number; // a segment is closed past this size (default 4 MiB)
  maxBytes?: number; // the bound on all segments; at least 2 segments (default 256 MiB)
  retainMs?: number; // entries every consumer passed stay this long for the change feed (default 24 h)
  maxEntryBytes?: number; // the largest entry accepted (default 256 KiB)
  metrics?: NodeMetrics; // cairn_events_outbox_* (gauges set at scrape time)
  now?: () => number;
}

export interface OutboxEntry<T> {
  seq: number;
  at: number;
  value: T;
}
/** `skipped`: entries between `from` and the first retained one, gone before this reader got them. */
export interface ReadResult<T> {
  entries: OutboxEntry<T>[];
  next: number;
  skipped: number;
}
export type ParsedCursor = { seq: number } | { error: 'malformed' | 'foreign' };

interface Pending {
  seq: number;
  at: number;
  rec: Buffer;
  resolve: (seq: number) => void;
  reject: (e: unknown) => void;
}

const log = logger('outbox');
const end = (s: Segment) => s.base + s.count;

export class Outbox<T = OutboxEvent> {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly maxBytes: number;
  private readonly retainMs: number;
  private readonly maxEntryBytes: number;
  private readonly now: () => number;
  private readonly segments: Segment[];
  private readonly cursors: CursorStore;
  private active: FileHandle;
  private nextSeq: number;
  private durableEnd: number;
  private pending: Pending[] = [];
  private flushing?: Promise<void>;
  private broken?: Error;
  private closed = false;
  private deletions: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly metrics?: NodeMetrics;
  private readonly unregister: () => void;

  private constructor(opts: Required<Omit<OutboxOptions, 'metrics'>>, segments: Segment[], cursors: CursorStore, active: FileHandle, metrics?: NodeMetrics) {
    this.dir = opts.dir;
    this.segmentBytes = opts.segmentBytes;
    this.maxBytes = opts.maxBytes;
    this.retainMs = opts.retainMs;
    this.maxEntryBytes = opts.maxEntryBytes;
    this.now = opts.now;
    this.segments = segments;
    this.cursors = cursors;
    this.active = active;
    this.nextSeq = this.durableEnd = end(segments.at(-1)!);
    this.timer = setInterval(() => void this.collect(), Math.min(this.retainMs, 60_000)).unref();
    this.metrics = metrics;
    this.unregister =
      metrics?.registerCollector(() => {
        metrics.eventsOutboxBytes.set(this.bytes);
        metrics.eventsOutboxLimitBytes.set(this.maxBytes);
        metrics.eventsOutboxEntries.set(this.end - this.first);
      }) ?? (() => {});
  }

  static async open<T = OutboxEvent>(options: OutboxOptions): Promise<Outbox<T>> {
    const { metrics, ...given } = options;
    const segmentBytes = given.segmentBytes ?? 4 << 20;
    const opts = {
      segmentBytes,
      maxBytes: 256 << 20,
      retainMs: 86_400_000,
      maxEntryBytes: Math.min(256 << 10, segmentBytes - HEADER_BYTES),
      now: Date.now,
      ...given,
    };
    if (opts.maxBytes < 2 * opts.segmentBytes) throw new RangeError('outbox: maxBytes must hold at least two segments');
    if (opts.maxEntryBytes + HEADER_BYTES > opts.segmentBytes) throw new RangeError('outbox: an entry must fit in a segment');
    await mkdir(opts.dir, { recursive: true });
    let outbox: Outbox<T> | undefined;
    const cursors = await CursorStore.open(opts.dir, () => void outbox?.collect()); // saved cursors may free segments
    // A lost directory of segments must not send the sequence back under cursors that survived.
    const segments = await recoverSegments(opts.dir, opts.maxEntryBytes, Math.max(0, ...cursors.names().map((n) => cursors.get(n)!)));
    const active = await open(join(opts.dir, segmentFile(segments.at(-1)!.base)), 'r+');
    outbox = new Outbox<T>(opts, segments, cursors, active, metrics);
    for (const n of cursors.names()) {
      // Only lost data (a corrupt tail) puts a cursor past the end; it would skip the next appends.
      if (cursors.get(n)! > outbox.end) {
        log.error({ consumer: n, cursor: cursors.get(n), end: outbox.end }, 'outbox: cursor past the end; moved back');
        cursors.set(n, outbox.end);
      }
    }
    outbox.dropOverLimit();
    await outbox.collect();
    return outbox;
  }

  /** The first retained entry's sequence number. */
  get first(): number {
    return this.segments[0].base;
  }
  /** One past the last durable entry: the sequence number the next append gets once durable. */
  get end(): number {
    return this.durableEnd;
  }
  /** How long entries every consumer passed are kept (the change feed's window). */
  get retentionMs(): number {
    return this.retainMs;
  }
  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }
  get isClosed(): boolean {
    return this.closed;
  }

  /** Write an event; resolves with its sequence number once it is on disk. */
  append(value: T): Promise<number> {
    if (this.closed || this.broken) {
      this.metrics?.eventsOutboxAppendErrors.inc();
      return Promise.reject(this.broken ?? new Error('outbox is closed'));
    }
    const payload = Buffer.from(JSON.stringify(value));
    if (payload.length > this.maxEntryBytes) {
      this.metrics?.eventsOutboxAppendErrors.inc();
      return Promise.reject(new RangeError(`outbox entry of ${payload.length} bytes is over the ${this.maxEntryBytes}-byte limit`));
    }
    const seq = this.nextSeq++,
      at = this.now();
    return new Promise((resolve, reject) => {
      this.pending.push({ seq, at, rec: encodeRecord(seq, at, payload), resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Up to `max` durable entries from `from` on (fewer at a segment's end: read again from `next`). */
  async read(from: number, max = 256): Promise<ReadResult<T>> {
    for (let attempt = 0; ; attempt++) {
      const first = this.first,
        last = this.durableEnd;
      let start = Math.max(from, first);
      let i = this.segmentOf(start);
      // A gap between segments (a closed segment's corrupt tail): skip to the next one.
      if (start >= end(this.segments[i]) && i + 1 < this.segments.length) start = this.segments[++i].base;
      const skipped = start - from;
      if (start >= last || max <= 0) return { entries: [], next: start, skipped };
      const seg = this.segments[i];
      const slot = Math.floor((start - seg.base) / INDEX_EVERY);
      try {
        const records = await readSegment(
          join(this.dir, segmentFile(seg.base)),
          seg.index[slot],
          seg.base + slot * INDEX_EVERY,
          start,
          Math.min(max, end(seg) - start, last - start),
          seg.bytes,
          this.maxEntryBytes,
        );
        const entries = records.map((r) => ({ seq: r.seq, at: r.at, value: JSON.parse(r.payload.toString('utf8')) as T }));
        return { entries, next: start + entries.length, skipped };
      } catch (e) {
        // The segment was deleted while we read it: the next attempt starts at the new first entry.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
  }

  /** Resolves when the entry at `from` is durable, the signal aborts, the timeout passes or the outbox closes. */
  waitForAppend(from: number, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.durableEnd > from || this.closed || opts.signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = opts.timeoutMs === undefined ? undefined : setTimeout(done, opts.timeoutMs);
      this.waiters.add(done);
      opts.signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** A consumer's cursor; a new consumer starts at the first retained entry or at the end. */
  cursor(consumer: string, start: 'oldest' | 'end' = 'oldest'): number {
    let c = this.cursors.get(consumer);
    if (c === undefined) this.cursors.set(consumer, (c = start === 'oldest' ? this.first : this.durableEnd));
    return c;
  }

  /** Move a consumer past what its target acknowledged (never backwards); reaches disk shortly (flush() to wait). */
  commit(consumer: string, next: number): void {
    const c = this.cursors.get(consumer);
    if (c === undefined || next > c) this.cursors.set(consumer, Math.min(next, this.durableEnd));
  }

  /** Forget a consumer (its target was removed): it no longer holds segments. */
  removeConsumer(consumer: string): void {
    this.cursors.delete(consumer);
  }
  consumers(): string[] {
    return this.cursors.names();
  }
  flush(): Promise<void> {
    return this.cursors.flush();
  }

  /** An opaque position a change-feed client can hold: `<epoch>.<seq in base 36>`. */
  encodeCursor(seq: number): string {
    return `${this.cursors.epoch}.${seq.toString(36)}`;
  }

  parseCursor(cursor: string): ParsedCursor {
    const m = /^([0-9a-f]{12})\.([0-9a-z]{1,11})$/.exec(cursor);
    if (!m) return { error: 'malformed' };
    if (m[1] !== this.cursors.epoch) return { error: 'foreign' };
    return { seq: parseInt(m[2], 36) };
  }

  /** Delete segments every consumer passed that are older than the retention window. */
  collect(): Promise<void> {
    return this.removing(() => {
      const horizon = this.now() - this.retainMs;
      const doomed: Segment[] = [];
      while (this.segments.length > 1) {
        const s = this.segments[0];
        if (s.lastAt > horizon || this.cursors.names().some((n) => this.cursors.durable(n)! < end(s))) break;
        doomed.push(this.segments.shift()!);
      }
      return doomed;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.unregister();
    await this.flushing;
    for (const w of [...this.waiters]) w();
    await this.cursors.flush();
    await this.deletions;
    await this.active.close();
  }

  // The index of the last segment whose base is at or before seq.
  private segmentOf(seq: number): number {
    let lo = 0,
      hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].base <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.write(batch);
        this.metrics?.eventsOutboxAppended.inc(batch.length);
        for (const p of batch) p.resolve(p.seq);
      } catch (e) {
        // The file's state is unknown after a failed write: refuse further appends until reopened.
        this.broken = new Error('outbox write failed; reopen the outbox', { cause: e });
        log.error({ err: String(e), lost: batch.length + this.pending.length }, 'outbox: write failed; events lost, outbox closed for appends');
        this.metrics?.eventsOutboxAppendErrors.inc(batch.length + this.pending.length);
        for (const p of [...batch, ...this.pending.splice(0)]) p.reject(this.broken);
      }
      for (const w of [...this.waiters]) w();
      this.dropOverLimit();
    }
    this.flushing = undefined;
  }

  // Appends the batch in order, closing the active segment whenever the next record would overflow it.
  private async write(batch: Pending[]): Promise<void> {
    let i = 0;
    while (i < batch.length) {
      let seg = this.segments.at(-1)!;
      if (seg.bytes > 0 && seg.bytes + batch[i].rec.length > this.segmentBytes) seg = await this.rotate(batch[i].seq);
      let j = i,
        size = 0;
      while (j < batch.length && (j === i || seg.bytes + size + batch[j].rec.length <= this.segmentBytes)) size += batch[j++].rec.length;
      const buf = Buffer.concat(
        batch.slice(i, j).map((p) => p.rec),
        size,
      );
      for (let done = 0; done < buf.length; ) done += (await this.active.write(buf, done, buf.length - done, seg.bytes + done)).bytesWritten;
      await this.active.datasync();
      for (const p of batch.slice(i, j)) {
        if (seg.count % INDEX_EVERY === 0) seg.index.push(seg.bytes);
        seg.bytes += p.rec.length;
        seg.count++;
        seg.lastAt = p.at;
      }
      this.durableEnd = end(seg);
      i = j;
    }
  }

  private async rotate(base: number): Promise<Segment> {
    const fh = await open(join(this.dir, segmentFile(base)), 'w+');
    const d = await open(this.dir, 'r'); // the new file's name is durable once the directory is synced
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    await this.active.close();
    this.active = fh;
    const seg: Segment = { base, count: 0, bytes: 0, lastAt: 0, index: [] };
    this.segments.push(seg);
    return seg;
  }

  // The bound: past maxBytes the oldest closed segments go, read or not; what consumers had not read is counted.
  private dropOverLimit(): void {
    const doomed: Segment[] = [];
    let total = this.bytes;
    while (total > this.maxBytes && this.segments.length > 1) {
      const s = this.segments.shift()!;
      total -= s.bytes;
      doomed.push(s);
      const behind = this.cursors
        .names()
        .map((n) => [n, this.cursors.get(n)!] as const)
        .filter(([, c]) => c < end(s));
      if (behind.length === 0) continue;
      const lost = end(s) - Math.max(s.base, Math.min(...behind.map(([, c]) => c)));
      this.metrics?.eventsOutboxDropped.inc(lost);
      log.warn(
        { segment: segmentFile(s.base), dropped: lost, consumers: behind.map(([n]) => n), maxBytes: this.maxBytes },
        'outbox full: oldest undelivered events dropped',
      );
    }
    void this.removing(() => doomed);
  }

  // Segment files are deleted one batch after the other, so a caller of collect() sees its own deletions done.
  private removing(pick: () => Segment[]): Promise<void> {
    this.deletions = this.deletions.then(async () => {
      for (const s of pick()) {
        await unlink(join(this.dir, segmentFile(s.base))).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') log.error({ segment: segmentFile(s.base), err: String(e) }, 'outbox: a released segment could not be deleted');
        });
      }
    });
    return this.deletions;
  }
}
