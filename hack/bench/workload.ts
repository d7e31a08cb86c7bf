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
  group: string;          // key prefix; GET/HEAD read keys PUT earlier in the same group
  size: number;           // object size in bytes (PUT/GET/mix)
  concurrency: number;
  maxOps: number;
  maxMs: number;
  getShare?: number;      // mix: fraction of GETs (0.7)
  pageSize?: number;      // list: keys per page (1000)
}

export interface RunResult {
  ops: number;
  bytes: number;          // body bytes moved (sent or received)
  ms: number;             // wall time from the first request to the last answer
  errors: number;
  firstError?: string;
  p50Ms?: number;
  p99Ms?: number;
  keys?: number;          // list: keys returned
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

  body(size: number): Body {
    if (size <= MiB) {
      const off = randomInt(0, this.pool.length - size + 1);
      return this.pool.subarray(off, off + size);
    }
    return this.#stream(size);
  }

  async *#stream(size: number): AsyncGenerator<Buffer> {
    const pool = this.pool;
    for (let left = size; left > 0;) {
      const seg = Math.min(SEGMENT, left);
      const base = randomInt(0, SLACK);
      for (let at = 0; at < seg; at += MiB) yield pool.subarray(base + at, base + Math.min(at + MiB, seg));
      left -= seg;
    }
  }
}

/**
 * Run `op(i)` on `concurrency` workers until `maxOps` were issued or `maxMs` passed. `op` returns
 * the body bytes it moved. Stops early once errors clearly dominate (a broken target should fail
 * fast, not for the whole time limit).
 */
export async function runLoop(job: Pick<RunJob, 'concurrency' | 'maxOps' | 'maxMs'>, op: (i: number) => Promise<number>): Promise<RunResult> {
  if (!(job.concurrency >= 1 && job.maxOps >= 1 && job.maxMs > 0)) throw new RangeError(`bad run bounds ${JSON.stringify(job)}`);
  const started = performance.now();
  const deadline = started + job.maxMs;
  const latencies: number[] = [];
  let issued = 0, ops = 0, bytes = 0, errors = 0, last = started;
  let firstError: string | undefined;
  const worker = async () => {
    while (issued < job.maxOps && performance.now() < deadline && errors <= Math.max(10, ops)) {
      const i = issued++;
      const t0 = performance.now();
      try {
        const moved = await op(i);   // not `bytes += await …`: that reads `bytes` before the await
        bytes += moved;
        ops++;
        last = performance.now();
        latencies.push(last - t0);
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return { ops, bytes, ms: Math.max(0.001, last - started), errors, firstError, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}
