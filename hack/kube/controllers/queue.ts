// The controller-runtime reconcile contract in small: the queue holds keys, not events (many events
// for one key coalesce into one reconcile); one reconcile per key at a time; a failed reconcile is
// retried with per-key backoff; a periodic resync of every key is the safety net for missed events.
import { logger } from '../../../node-runtime/src/util/log.ts';
import { backoffMs } from './reflector.ts';

export type Reconcile = (key: string) => Promise<{ requeueAfterMs?: number } | void>;

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly reconcile: Reconcile;
  private readonly log;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(name: string, reconcile: Reconcile) {
    this.reconcile = reconcile;
    this.log = logger('controller', { controller: name });
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) { this.dirty.add(key); return; }
    if (this.pending.has(key)) return;
    this.pending.add(key);
    queueMicrotask(() => this.process(key));
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const prev = this.timers.get(key);
    if (prev) clearTimeout(prev);
    const t = setTimeout(() => { this.timers.delete(key); this.add(key); }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    return this.running.size === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  private async process(key: string): Promise<void> {
    this.pending.delete(key);
    if (this.stopped) return;
    this.running.add(key);
    try {
      const res = await this.reconcile(key);
      this.failures.delete(key);
      if (res?.requeueAfterMs) this.addAfter(key, res.requeueAfterMs);
    } catch (e) {
      const n = this.failures.get(key) ?? 0;
      this.failures.set(key, n + 1);
      const wait = backoffMs(n, 200, 30_000);
      this.log.debug({ key, err: String((e as Error)?.message ?? e), waitMs: wait }, 'reconcile failed; retrying');
      this.addAfter(key, wait);
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      if (this.stopped && this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}

/**
 * The start and stop every controller here shares: once its caches hold their first lists, enqueue
 * every object now and again every `resyncMs` (the safety net for missed events). Reconciles ask
 * `synced()` first: a plan from a half-filled cache would see objects as missing.
 */
export function resyncLoop(o: { caches: { waitSynced(): Promise<void> }[]; enqueueAll: () => void; resyncMs: number; stop: () => Promise<unknown> }) {
  let synced = false;
  let timer: NodeJS.Timeout | undefined;
  return {
    synced: () => synced,
    async start(): Promise<void> {
      await Promise.all(o.caches.map((c) => c.waitSynced()));
      synced = true;
      o.enqueueAll();
      timer = setInterval(o.enqueueAll, o.resyncMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await o.stop();
    },
  };
}
