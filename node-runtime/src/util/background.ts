// Background workers (repair, scrub, GC, drain) with explicit states, as in Garage's
// util/background: a worker's `step()` does one bounded unit of work and says what happened; the
// runner sleeps when Idle, backs off after errors (1 s → 60 s), and stops cleanly.
import { logger } from './log.ts';

export type WorkerState = 'busy' | 'throttled' | 'idle' | 'done';

export interface Worker {
  readonly name: string;
  /** One bounded unit of work. */
  step(signal: AbortSignal): Promise<WorkerState>;
  /** After 'throttled': how long to wait before the next step (default 100 ms); a poke cuts it short. */
  throttleMs?(): number;
}

export interface WorkerStatus {
  name: string;
  state: WorkerState | 'error' | 'stopped';
  errors: number;
  lastError?: string;
}

export class WorkerRunner {
  readonly status: WorkerStatus;
  private readonly controller = new AbortController();
  private wake?: () => void;
  private loop?: Promise<void>;
  private readonly idleMs: number;

  private readonly worker: Worker;

  constructor(worker: Worker, opts: { idleMs?: number } = {}) {
    this.worker = worker;
    this.status = { name: worker.name, state: 'idle', errors: 0 };
    this.idleMs = opts.idleMs ?? 5_000;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Cut an idle or backoff sleep short (e.g. the cluster map changed). */
  poke(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    this.wake?.();
    await this.loop;
    this.status.state = 'stopped';
  }

  // A stop that lands while a step runs finds no sleep to cut short: the sleep after that step
  // must not begin (it was a full idle period — a minute for the scrub — added to every stop).
  private sleep(ms: number): Promise<void> {
    if (this.controller.signal.aborted) return Promise.resolve();
    return new Promise((res) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        res();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const log = logger('worker', { worker: this.worker.name });
    let backoff = 1_000;
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        const state = await this.worker.step(signal);
        this.status.state = state;
        backoff = 1_000;
        if (state === 'done') return;
        if (state === 'idle') await this.sleep(this.idleMs);
        else if (state === 'throttled') await this.sleep(this.worker.throttleMs?.() ?? 100);
      } catch (e) {
        if (signal.aborted) return;
        this.status.state = 'error';
        this.status.errors++;
        this.status.lastError = String((e as Error)?.message ?? e);
        log.warn({ err: this.status.lastError, backoffMs: backoff }, 'worker step failed; backing off');
        await this.sleep(backoff);
        backoff = Math.min(60_000, backoff * 2);
      }
    }
  }
}
