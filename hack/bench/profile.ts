// What the bench runs, and how long each piece may take: the full profile (~10 minutes for all
// targets on a 2-core machine) and --quick (~2 minutes). Every loop is bounded by a count and a
// time; pure data, so the plan can be read (and tested) without running anything.
import type { Op, RunJob } from './workload.ts';

const KiB = 1024,
  MiB = 1024 * KiB,
  GiB = 1024 * MiB;

export type Unit = 'obj/s' | 'MB/s' | 'pages/s' | 'MiB' | 'files/s' | 's';

export interface WorkloadDef {
  id: string;
  label: string;
  unit: Unit;
  op: Op;
  group: string;
  size: number;
  concurrency: number;
  maxOps: number;
  maxMs: number;
  hardMs?: number; // in-flight operations are aborted then (see workload.ts hardLimitMs)
  s3Only?: boolean; // LIST has no nginx counterpart
  populate?: number; // objects that must exist in the group before the runs (untimed)
  getShare?: number;
}

export interface Profile {
  name: 'full' | 'quick';
  runs: number;
  concurrency: number;
  workloads: WorkloadDef[];
  rssBytes: number; // one object of this size is PUT then GET while RSS is sampled
  rssSmallBytes: number; // ... and first one of this size, for "the same as for 16 MiB ones"
  redundancyBytes: number; // written to the cluster before a node is killed
  redundancyMaxMs: number;
  seqWriteBytes: number;
  smallFilesMs: number;
  hashBytes: number;
  budgetMs: number; // whole bench, shared out among the targets still to run
}

export function makeProfile(name: 'full' | 'quick', concurrency = 32): Profile {
  const quick = name === 'quick';
  const smallMs = quick ? 700 : 3000;
  const smallOps = quick ? 20_000 : 200_000;
  const bigMs = quick ? 3000 : 8000;
  const bigHardMs = quick ? 6000 : 20_000; // in-flight 64 MiB transfers are cut here (partial bytes count)
  const w = (d: Omit<WorkloadDef, 'concurrency' | 'maxMs' | 'maxOps'> & Partial<WorkloadDef>): WorkloadDef => ({
    concurrency,
    maxMs: smallMs,
    maxOps: smallOps,
    ...d,
  });
  return {
    name,
    runs: 3,
    concurrency,
    workloads: [
      w({ id: 'put-4k', label: 'PUT 4 KiB', unit: 'obj/s', op: 'put', group: 'small', size: 4 * KiB }),
      w({ id: 'get-4k', label: 'GET 4 KiB', unit: 'obj/s', op: 'get', group: 'small', size: 4 * KiB, populate: 2000 }),
      w({ id: 'head-4k', label: 'HEAD 4 KiB', unit: 'obj/s', op: 'head', group: 'small', size: 4 * KiB, populate: 2000 }),
      w({
        id: 'list-1000',
        label: 'LIST pages of 1000',
        unit: 'pages/s',
        op: 'list',
        group: 'small',
        size: 4 * KiB,
        concurrency: 4,
        maxOps: 10_000,
        s3Only: true,
        populate: 3000,
      }),
      w({
        id: 'put-64m-1',
        label: 'PUT 64 MiB, 1 stream',
        unit: 'MB/s',
        op: 'put',
        group: 'big',
        size: 64 * MiB,
        concurrency: 1,
        maxOps: quick ? 2 : 4,
        maxMs: bigMs,
        hardMs: bigHardMs,
      }),
      w({
        id: 'put-64m-8',
        label: 'PUT 64 MiB, 8 streams',
        unit: 'MB/s',
        op: 'put',
        group: 'big',
        size: 64 * MiB,
        concurrency: 8,
        maxOps: 8,
        maxMs: bigMs,
        hardMs: bigHardMs,
      }),
      w({
        id: 'get-64m-1',
        label: 'GET 64 MiB, 1 stream',
        unit: 'MB/s',
        op: 'get',
        group: 'big',
        size: 64 * MiB,
        concurrency: 1,
        maxOps: quick ? 2 : 4,
        maxMs: bigMs,
        hardMs: bigHardMs,
        populate: 8,
      }),
      w({
        id: 'get-64m-8',
        label: 'GET 64 MiB, 8 streams',
        unit: 'MB/s',
        op: 'get',
        group: 'big',
        size: 64 * MiB,
        concurrency: 8,
        maxOps: 8,
        maxMs: bigMs,
        hardMs: bigHardMs,
        populate: 8,
      }),
      w({
        id: 'mix-1m',
        label: '70/30 GET/PUT 1 MiB',
        unit: 'MB/s',
        op: 'mix',
        group: 'mid',
        size: MiB,
        concurrency: 8,
        maxOps: quick ? 2000 : 20_000,
        getShare: 0.7,
        populate: 32,
      }),
    ],
    rssBytes: quick ? 256 * MiB : GiB,
    rssSmallBytes: 16 * MiB,
    redundancyBytes: quick ? 384 * MiB : 1.5 * GiB, // R=2 over 3 nodes: each holds ~2/3 of it
    redundancyMaxMs: quick ? 60_000 : 180_000,
    seqWriteBytes: quick ? 256 * MiB : 512 * MiB,
    smallFilesMs: quick ? 700 : 2000,
    hashBytes: quick ? 256 * MiB : 512 * MiB,
    budgetMs: quick ? 6 * 60_000 : 20 * 60_000,
  };
}

/** The figure of one run in the workload's unit. */
export function figure(unit: Unit, r: { ops: number; bytes: number; ms: number }): number {
  const s = r.ms / 1000;
  if (unit === 'MB/s') return r.bytes / s / 1e6;
  return r.ops / s;
}

/** The load generator's job for one run of a workload. */
export function jobOf(w: WorkloadDef): RunJob {
  return { op: w.op, group: w.group, size: w.size, concurrency: w.concurrency, maxOps: w.maxOps, maxMs: w.maxMs, hardMs: w.hardMs, getShare: w.getShare };
}
