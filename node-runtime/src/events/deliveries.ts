// Delivery workers: one per target, sending the outbox's events for it in order, at least once, retrying with capped, jittered backoff.
//
// A worker reads the outbox from its cursor (consumer `target:<name>`), sends the events routed to
// its target in outbox order, and moves the cursor only past what the target acknowledged. A send
// that fails is retried, the same events again, until it succeeds: nothing behind it goes first,
// so the events of one key arrive in the order this node recorded them (across nodes, the
// records' sequencers order them). A clean stop() leaves the cursors on disk: after a restart
// nothing is sent twice. A crash may re-send the last events sent (at least once).
//
// States, as Garage's background workers show theirs: busy (sending), idle (caught up, waiting
// for an append), retrying (the target failed; waiting out the backoff), stopped.
import type { NodeMetrics } from '../observability/metrics.ts';
import { logger } from '../util/log.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';
import { eventMessage, type OutboxEvent } from './record.ts';
import type { Target } from './targets.ts';

export type DeliveryState = 'busy' | 'idle' | 'retrying' | 'stopped';
const STATES: readonly DeliveryState[] = ['busy', 'idle', 'retrying', 'stopped'];

/** The outbox consumer a target's worker reads as. When a target is removed for good, `outbox.removeConsumer(targetConsumer(name))` lets its backlog go. */
export const targetConsumer = (target: string) => `target:${target}`;

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

/** The wait before retry number `attempt` (0-based): doubling from baseMs, capped at maxMs, the upper half jittered. */
export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

export interface DeliveryOptions {
  outbox: Outbox<OutboxEvent>;
  targets: readonly Target[]; // owned from now on: stop() closes them
  metrics: NodeMetrics; // cairn_events_* per target (gauges set at scrape time)
  retry?: Partial<RetryPolicy>; // default 500 ms doubling to 60 s
  readBatch?: number; // outbox entries read at a time (default 256)
  now?: () => number;
  random?: () => number;
}

export interface DeliveryStatus {
  target: string;
  state: DeliveryState;
  cursor: number; // the next outbox entry this worker looks at
  backlog: number; // outbox entries it has not passed (events for other targets included)
  oldestUndeliveredAt?: number; // append time of the event it is sending, when it is sending one
  failures: number; // consecutive failed attempts
  lastError?: string;
}

interface Metrics {
  delivered: NodeMetrics['eventsDelivered'];
  failures: NodeMetrics['eventsDeliveryFailures'];
  dropped: NodeMetrics['eventsDropped'];
}

/** The per-target gauges, read from the workers at scrape time; returns the counters and the unregister function. */
function metrics(m: NodeMetrics, workers: readonly DeliveryWorker[], now: () => number): Metrics & { unregister: () => void } {
  const unregister = m.registerCollector(() => {
    for (const w of workers) {
      const s = w.status(),
        target = w.target.name;
      m.eventsBacklog.set({ target }, s.backlog);
      m.eventsOldestUndeliveredAge.set({ target }, s.oldestUndeliveredAt === undefined ? 0 : Math.max(0, (now() - s.oldestUndeliveredAt) / 1000));
      for (const state of STATES) m.eventsDeliveryState.set({ target, state }, s.state === state ? 1 : 0);
    }
  });
  return { delivered: m.eventsDelivered, failures: m.eventsDeliveryFailures, dropped: m.eventsDropped, unregister };
}

class DeliveryWorker {
  readonly target: Target;
  private readonly consumer: string;
  private readonly opts: DeliveryOptions & { retry: RetryPolicy; readBatch: number; now: () => number; random: () => number };
  private readonly log;
  private state: DeliveryState = 'idle';
  private cursor: number;
  private sendingAt?: number;
  private failures = 0;
  private lastError?: string;
  private readonly m: Metrics;

  constructor(target: Target, opts: DeliveryWorker['opts'], m: Metrics) {
    this.target = target;
    this.opts = opts;
    this.m = m;
    this.consumer = targetConsumer(target.name);
    this.cursor = opts.outbox.cursor(this.consumer);
    this.log = logger('events', { target: target.name });
  }

  status(): DeliveryStatus {
    const backlog = Math.max(0, this.opts.outbox.end - Math.max(this.cursor, this.opts.outbox.first));
    return {
      target: this.target.name,
      state: this.state,
      cursor: this.cursor,
      backlog,
      oldestUndeliveredAt: this.sendingAt,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  /** `signal` stops the loop between sends; `sendSignal` abandons a send under way (stop()'s grace ran out). */
  async run(signal: AbortSignal, sendSignal: AbortSignal): Promise<void> {
    const { outbox } = this.opts;
    while (!signal.aborted && !outbox.isClosed) {
      let read;
      try {
        read = await outbox.read(this.cursor, this.opts.readBatch);
      } catch (e) {
        if (!(await this.failed(e, 'reading the outbox', signal))) break;
        continue;
      }
      if (read.skipped > 0) {
        this.m.dropped.inc({ target: this.target.name }, read.skipped);
        this.log.warn({ skipped: read.skipped, from: this.cursor }, 'events dropped before delivery (the outbox was full)');
      }
      if (read.entries.length === 0) {
        this.advance(read.next);
        this.state = 'idle';
        await outbox.waitForAppend(this.cursor, { signal });
        continue;
      }
      this.state = 'busy';
      const mine = read.entries.filter((e) => Array.isArray(e.value?.routes) && e.value.routes.some((r) => r.target === this.target.name));
      for (let i = 0; i < mine.length && !signal.aborted; i += this.target.maxBatch) {
        const chunk = mine.slice(i, i + this.target.maxBatch);
        if (!(await this.deliver(chunk, signal, sendSignal))) break;
        this.advance(chunk.at(-1)!.seq + 1);
      }
      if (!signal.aborted) this.advance(read.next);
    }
    this.sendingAt = undefined;
    this.state = 'stopped';
  }

  private advance(next: number): void {
    this.cursor = next;
    this.opts.outbox.commit(this.consumer, next);
  }

  // Sends until the target acknowledges; false when stopped first. A send under way when stop() is
  // called finishes (its acknowledgement is recorded), so a clean restart sends nothing twice.
  private async deliver(chunk: OutboxEntry<OutboxEvent>[], signal: AbortSignal, sendSignal: AbortSignal): Promise<boolean> {
    this.sendingAt = chunk[0].at;
    const messages = chunk.map((e) => eventMessage(e.value.record, e.value.routes.find((r) => r.target === this.target.name)!.configurationId));
    for (;;) {
      try {
        await this.target.send(messages, sendSignal);
      } catch (e) {
        if (signal.aborted || !(await this.failed(e, 'sending', signal))) return false;
        continue;
      }
      this.m.delivered.inc({ target: this.target.name }, chunk.length);
      if (this.failures > 0) this.log.info({ attempts: this.failures + 1, eventAgeMs: this.opts.now() - chunk[0].at }, 'target acknowledged again');
      this.failures = 0;
      this.state = 'busy';
      this.sendingAt = undefined;
      return true;
    }
  }

  // Counts and logs a failure (the first, then every tenth) and waits out the backoff; false when stopped meanwhile.
  private async failed(e: unknown, doing: string, signal: AbortSignal): Promise<boolean> {
    this.m.failures.inc({ target: this.target.name });
    this.lastError = String((e as Error)?.message ?? e);
    const delay = retryDelay(this.failures, this.opts.retry, this.opts.random);
    if (this.failures % 10 === 0)
      this.log.warn({ err: this.lastError, attempt: this.failures + 1, retryInMs: Math.round(delay) }, `event delivery failed while ${doing}; retrying`);
    this.failures++;
    this.state = 'retrying';
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, delay);
      signal.addEventListener('abort', done, { once: true });
    });
    return !signal.aborted;
  }
}

/** The delivery workers of one node: start() once the outbox is open, stop() before closing it. */
export class Deliveries {
  private readonly workers: DeliveryWorker[];
  private readonly controller = new AbortController();
  private readonly sends = new AbortController();
  private readonly outbox: Outbox<OutboxEvent>;
  private loops?: Promise<void>[];
  private readonly unregister: () => void;

  constructor(options: DeliveryOptions) {
    const opts = {
      ...options,
      readBatch: options.readBatch ?? 256,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
      retry: { baseMs: 500, maxMs: 60_000, ...options.retry },
    };
    this.outbox = options.outbox;
    this.workers = [];
    const m = metrics(options.metrics, this.workers, opts.now); // its gauges read the workers at scrape time
    this.unregister = m.unregister;
    for (const t of options.targets) this.workers.push(new DeliveryWorker(t, opts, m));
  }

  start(): this {
    this.loops ??= this.workers.map((w) => w.run(this.controller.signal, this.sends.signal));
    return this;
  }

  status(): DeliveryStatus[] {
    return this.workers.map((w) => w.status());
  }

  /**
   * Stops every worker, closes the targets and saves the cursors. Sends under way may finish within
   * `graceMs`; past it they are abandoned (and sent again after a restart).
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.controller.abort();
    const grace = setTimeout(() => this.sends.abort(), graceMs);
    await Promise.all(this.loops ?? []);
    clearTimeout(grace);
    await Promise.all(this.workers.map((w) => w.target.close()));
    this.unregister();
    await this.outbox.flush();
  }
}
