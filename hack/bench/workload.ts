// Workload loops of the load generator: a fixed number of concurrent workers, each issuing one
// operation after the other, until the operation count or the time limit is reached. Bodies come
// from one random pool: every object starts at a random offset, so no two objects share a 4 MiB
// chunk (a content-addressed store would otherwise dedupe them and look faster than it is).
import { randomFillSync, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Body } from './client.ts';
import { percentile } from './stats.ts';

export type Op = 'put' | 'get' | 'head' | 'list' | 'mix';

export interface RunJob {
  op: Op;
  group: string; // key prefix; GET/HEAD read keys PUT earlier in the same group
  size: number; // object size in bytes (PUT/GET/mix)
  concurrency: number;
  maxOps: number;
  maxMs: number;
  getShare?: number; // mix: fraction of GETs (0.7)
  pageSize?: number; // list: keys per page (1000)
  hardMs?: number; // in-flight operations are aborted then (default hardLimitMs)
}

export interface RunResult {
  ops: number;
  bytes: number; // body bytes moved (sent or received)
  ms: number; // wall time from the first request to the last answer
  errors: number;
  cut?: number; // operations aborted at the hard deadline (their partial bytes count)
  firstError?: string;
  p50Ms?: number;
  p99Ms?: number;
  keys?: number; // list: keys returned
}

const MiB = 1024 * 1024;
const SEGMENT = 64 * MiB;
const SLACK = 32 * MiB;

/** Object bodies cut from a random pool (no copy: subarrays). */
export class BodySource {
  #pool: Buffer | undefined;

  get pool(): Buffer {
    if (!this.#pool) {
      this.#pool = Buffer.allocUnsafe(SEGMENT + SLACK);
      randomFillSync(this.#pool);
    }
    return this.#pool;
  }

  /** A body of `size` random bytes; large ones stream, reporting each piece once the client took it. */
  body(size: number, progress?: (n: number) => void): Body {
    if (size <= MiB) {
      const off = randomInt(0, this.pool.length - size + 1);
      return this.pool.subarray(off, off + size);
    }
    return this.#stream(size, progress);
  }

  async *#stream(size: number, progress?: (n: number) => void): AsyncGenerator<Buffer> {
    const pool = this.pool;
    for (let left = size; left > 0; ) {
      const seg = Math.min(SEGMENT, left);
      const base = randomInt(0, SLACK);
      for (let at = 0; at < seg; at += MiB) {
        const piece = pool.subarray(base + at, base + Math.min(at + MiB, seg));
        yield piece;
        progress?.(piece.length); // resumed: the client wants the next piece, this one is written
      }
      left -= seg;
    }
  }
}

/** When a run aborts what is still in flight. */
export function hardLimitMs(job: Pick<RunJob, 'maxMs' | 'hardMs'>): number {
  return job.hardMs ?? Math.max(3 * job.maxMs, job.maxMs + 10_000);
}

/** What an operation gets: a signal that fires at the run's hard deadline, and a progress
 *  callback for body bytes moved so far (counted only if the operation is cut off). */
export interface OpContext {
  signal: AbortSignal;
  progress(bytes: number): void;
}

/**
 * Run `op(i)` on `concurrency` workers until `maxOps` were issued or `maxMs` passed (no new
 * operation starts after that). Operations still running at the hard deadline (`hardMs`, default
 * max(3 × maxMs, maxMs + 10 s)) are aborted: they count as cut, not as done or failed, and the
 * bytes they had moved count toward the throughput, so a slow server still yields a figure within
 * the time bound. Stops early once errors clearly dominate (a broken target fails fast).
 */
export async function runLoop(
  job: Pick<RunJob, 'concurrency' | 'maxOps' | 'maxMs' | 'hardMs'>,
  op: (i: number, ctx: OpContext) => Promise<number>,
): Promise<RunResult> {
  if (!(job.concurrency >= 1 && job.maxOps >= 1 && job.maxMs > 0)) throw new RangeError(`bad run bounds ${JSON.stringify(job)}`);
  const started = performance.now();
  const deadline = started + job.maxMs;
  const hardMs = hardLimitMs(job);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('run time limit')), hardMs);
  const latencies: number[] = [];
  let issued = 0,
    ops = 0,
    bytes = 0,
    errors = 0,
    cut = 0,
    last = started;
  let firstError: string | undefined;
  const worker = async () => {
    while (issued < job.maxOps && performance.now() < deadline && errors <= Math.max(10, ops) && !abort.signal.aborted) {
      const i = issued++;
      const t0 = performance.now();
      let partial = 0;
      try {
        const moved = await op(i, {
          signal: abort.signal,
          progress: (n) => {
            partial += n;
          },
        });
        bytes += moved; // not `bytes += await …`: that reads `bytes` before the await
        ops++;
        last = performance.now();
        latencies.push(last - t0);
      } catch (e) {
        if (abort.signal.aborted) {
          cut++;
          bytes += partial;
          last = started + hardMs;
        } else {
          errors++;
          firstError ??= e instanceof Error ? e.message : String(e);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: job.concurrency }, worker));
  } finally {
    clearTimeout(timer);
  }
  return {
    ops,
    bytes,
    ms: Math.max(0.001, last - started),
    errors,
    cut: cut || undefined,
    firstError,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
