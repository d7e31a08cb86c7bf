// A level-triggered work queue of object keys (controller-runtime's contract): adding a key that is
// already queued coalesces; a key is reconciled by one worker at a time (re-added while running, it
// runs again after); failures back off per key; a result may ask to come back after a delay;
// a TerminalError is not retried (the next change to the object will bring it back).
import { backoffDelay, type BackoffOptions } from './backoff.ts';

export class TerminalError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}
export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal';

export interface WorkQueueOptions {
  backoff?: BackoffOptions;
  random?: () => number;
  /** Called after every reconcile, for metrics and logs. */
  onDone?: (key: string, outcome: ReconcileOutcome, ms: number, err?: unknown) => void;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: (() => void)[] = [];
  private stopped = false;
  private readonly opts: WorkQueueOptions;

  constructor(opts: WorkQueueOptions = {}) {
    this.opts = opts;
  }

  /** Queue a key now (coalesces with a queued copy). */
  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.ready.push(key);
    this.waiters.shift()?.();
  }

  /** Queue a key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Queue a key after its per-key backoff and count the failure. */
  addRateLimited(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = backoffDelay(n, this.opts.backoff, this.opts.random);
    this.addAfter(key, delay);
    return delay;
  }

  /** Forget a key's failure history (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting to run now (the workqueue depth metric). */
  depth(): number {
    return this.ready.length;
  }

  /** Run `reconcile` on `workers` concurrent workers until stop(). */
  async run(workers: number, reconcile: (key: string) => Promise<ReconcileResult | void>): Promise<void> {
    await Promise.all(Array.from({ length: Math.max(1, workers) }, () => this.worker(reconcile)));
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w();
  }

  private async next(): Promise<string | undefined> {
    while (!this.stopped && this.ready.length === 0) await new Promise<void>((r) => this.waiters.push(r));
    if (this.stopped) return undefined;
    const key = this.ready.shift()!;
    this.queued.delete(key);
    return key;
  }

  private async worker(reconcile: (key: string) => Promise<ReconcileResult | void>): Promise<void> {
    for (let key = await this.next(); key !== undefined; key = await this.next()) {
      this.running.add(key);
      const started = performance.now();
      let outcome: ReconcileOutcome;
      let error: unknown;
      try {
        const res = await reconcile(key);
        this.forget(key);
        if (res?.requeueAfterMs !== undefined) {
          outcome = 'requeue';
          this.addAfter(key, res.requeueAfterMs);
        } else outcome = 'success';
      } catch (e) {
        error = e;
        if (e instanceof TerminalError) {
          outcome = 'terminal';
          this.forget(key);
        } else {
          outcome = 'error';
          this.addRateLimited(key);
        }
      } finally {
        this.running.delete(key);
      }
      this.opts.onDone?.(key, outcome, (performance.now() - started) / 1000, error);
      if (this.dirty.delete(key)) this.add(key);
    }
  }
}
