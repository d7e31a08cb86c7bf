// `npm run bench [-- --quick] [--targets nginx,s3rver,cairn,cluster]`: the side-by-side benchmark
// of issue 8. Measures the machine's raw limits, then starts each target in turn on loopback
// (nginx, s3rver, one Cairn node, 1 root + 3 Cairn nodes with R=2), drives the same workloads
// through one load generator process, prints one table and writes JSON (and the table in
// Markdown) to ${CAIRN_HOME:-.cairn}/bench/<timestamp>.json. Never in CI.
import { Command } from 'commander';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { loopbackAddress } from '../testing/net.ts';
import { formatHotSpots, hotSpots, type CpuProfile, type HotSpot } from './cpuprofile.ts';
import { LoadGenerator } from './driver.ts';
import { currentRssMiB, largestRss, peakMiB, sampleMemory } from './memory.ts';
import { figure, jobOf, makeProfile, type Profile, type WorkloadDef } from './profile.ts';
import { diskNewChunkFiles, diskSequentialWrite, diskSmallFiles, hashThroughput } from './raw.ts';
import { timeToRedundancy } from './redundancy.ts';
import { summarise } from './stats.ts';
import {
  GOAL_HEADERS,
  HEADERS,
  RATIO_GOAL_HEADERS,
  buildRows,
  goalRows,
  formatMarkdown,
  formatTable,
  isCairn,
  notes,
  ratioGoalRows,
  type Measurement,
} from './table.ts';
import { startCairn } from './targets/cairn.ts';
import { startNginx } from './targets/nginx.ts';
import { startS3rver } from './targets/s3rver.ts';
import type { RunningTarget } from './targets/types.ts';

const ALL_TARGETS = ['nginx', 's3rver', 'cairn', 'cluster'] as const;
type TargetId = (typeof ALL_TARGETS)[number];

const program = new Command('bench')
  .description('Side-by-side benchmark: Cairn vs nginx, s3rver and the raw machine limits')
  .option('--quick', 'short profile (~2 minutes)')
  .option('--targets <list>', `comma-separated subset of ${ALL_TARGETS.join(',')}`, ALL_TARGETS.join(','))
  .option('--nodes <n>', 'storage nodes of the cluster target', '3')
  .option('--replicas <n>', 'replication factor of the cluster target', '2')
  .option('--concurrency <n>', 'connections for small-object workloads', '32')
  .option('--nginx-workers <n>', 'nginx worker processes', '1')
  .option('--no-harness', 'spawn cairn directly even if hack/testing/cairn.ts exists')
  .option('--cpu-prof', 'write V8 CPU profiles of the Cairn processes next to the JSON')
  .option('--no-redundancy', 'skip the time-to-full-redundancy run')
  .parse();

const o = program.opts<{
  quick?: boolean;
  targets: string;
  nodes: string;
  replicas: string;
  concurrency: string;
  nginxWorkers: string;
  harness: boolean;
  cpuProf?: boolean;
  redundancy: boolean;
}>();

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${v}`);
    process.exit(2);
  }
  return n;
}

const targets = o.targets
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as TargetId[];
for (const t of targets)
  if (!ALL_TARGETS.includes(t)) {
    console.error(`unknown target ${t}; choose from ${ALL_TARGETS.join(', ')}`);
    process.exit(2);
  }
const profile: Profile = makeProfile(o.quick ? 'quick' : 'full', positive('concurrency', o.concurrency));
const nodes = positive('nodes', o.nodes);
const replicas = positive('replicas', o.replicas);
const started = new Date();
const stamp = started.toISOString().replace(/[:.]/g, '-');
const outDir = resolve(process.env.CAIRN_HOME ?? '.cairn', 'bench');
const benchDeadline = Date.now() + profile.budgetMs;
let deadline = benchDeadline; // of the target being measured: its share of what is left
const log = (s: string) => console.error(`[bench ${((Date.now() - started.getTime()) / 1000).toFixed(0).padStart(4)} s] ${s}`);

const measurements: Measurement[] = [];
const unreachable: { target: string; reason: string }[] = [];
const loads: { target: string; loadavg1m: number }[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
let running: RunningTarget | undefined;
let lg: LoadGenerator | undefined;

async function cleanup(): Promise<void> {
  await lg?.close().catch(() => undefined);
  await running?.stop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

function measureRaw(): void {
  const dir = join(scratch, 'raw');
  mkdirSync(dir, { recursive: true });
  const rawRuns: [string, string, 'MB/s' | 'files/s', () => number][] = [
    ['disk-seq-write', `disk: ${profile.seqWriteBytes >> 20} MiB sequential write + fsync`, 'MB/s', () => diskSequentialWrite(dir, profile.seqWriteBytes)],
    // New files kept until all runs are done (rmSync below): each run grows the page cache, as a store does.
    [
      'disk-new-chunks',
      `disk: ${profile.seqWriteBytes >> 20} MiB as new 4 MiB files, each fsync'd, kept`,
      'MB/s',
      () => diskNewChunkFiles(dir, profile.seqWriteBytes),
    ],
    ['disk-small-files', "disk: 4 KiB files, each fsync'd", 'files/s', () => diskSmallFiles(dir, { maxFiles: 20_000, maxMs: profile.smallFilesMs })],
    ['sha256', 'node:crypto SHA-256, 1 core', 'MB/s', () => hashThroughput('sha256', profile.hashBytes)],
    ['md5', 'node:crypto MD5, 1 core', 'MB/s', () => hashThroughput('md5', profile.hashBytes)],
  ];
  for (const [workload, label, unit, fn] of rawRuns) {
    const runs = Array.from({ length: profile.runs }, fn);
    measurements.push({ workload, label, target: 'raw', unit, summary: summarise(runs) });
    log(`raw ${workload}: ${runs.map((r) => r.toFixed(0)).join(', ')} ${unit}`);
  }
  rmSync(dir, { recursive: true, force: true });
}

const profDir = (id: TargetId) => join(outDir, `${stamp}-prof`, id);
const profiles: { target: string; file: string; hotSpots: HotSpot[] }[] = [];

/** After a Cairn target stopped: the hottest functions of each process's CPU profile. */
function summariseProfiles(id: TargetId): void {
  const dir = profDir(id);
  if (!o.cpuProf || !existsSync(dir)) return;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    const spots = hotSpots(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, 20);
    profiles.push({ target: id, file: join(dir, f), hotSpots: spots });
    console.log(`\nCPU profile ${join(dir, f)} (top 12 by self time):\n${formatHotSpots(spots.slice(0, 12))}`);
  }
}

async function startTarget(id: TargetId, dir: string): Promise<RunningTarget> {
  mkdirSync(dir, { recursive: true });
  const extra = process.env.CAIRN_BENCH_SERVER_ENV ? (JSON.parse(process.env.CAIRN_BENCH_SERVER_ENV) as Record<string, string>) : {};
  const env = { ...extra, ...(o.cpuProf ? { NODE_OPTIONS: `${extra.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir(id)}` } : {}) };
  switch (id) {
    case 'nginx':
      return startNginx(dir, loopbackAddress(), { workers: positive('nginx-workers', o.nginxWorkers), log });
    case 's3rver':
      return startS3rver(dir, loopbackAddress());
    case 'cairn':
      return startCairn(dir, { nodes: 0, replicas: 1, harness: o.harness, env });
    case 'cluster':
      return startCairn(dir, { nodes, replicas, harness: o.harness, env, startMs: 60_000 });
  }
}

async function runWorkload(t: RunningTarget, w: WorkloadDef): Promise<void> {
  const m: Measurement = { workload: w.id, label: w.label, target: t.spec.name, unit: w.unit };
  measurements.push(m);
  if (w.s3Only && t.spec.kind !== 's3') {
    m.error = 'n/a (no S3 listing)';
    return;
  }
  if (Date.now() > deadline) {
    m.error = 'skipped: time budget of this target spent';
    return;
  }
  try {
    if (w.populate) await lg!.populate(w.group, w.size, w.populate, Math.min(w.concurrency, 8), 60_000);
    const job = jobOf(w);
    // An untimed warm-up as long as one run for the small-object workloads (JIT, connection setup,
    // heap growth): on a 2-core VM a Node server's CPU per 4 KiB GET still falls by half over its
    // first ~3 s under load (270 -> 140 us measured), so a shorter warm-up measured the warming.
    if (w.size <= 1 << 20) await lg!.run(job);
    const runs: number[] = [];
    let errors = 0,
      cut = 0;
    const detail: unknown[] = [];
    for (let i = 0; i < profile.runs; i++) {
      const r = await lg!.run(job);
      errors += r.errors;
      cut += r.cut ?? 0;
      detail.push(r);
      if (r.ops === 0 && !r.cut) throw new Error(r.firstError ?? 'no operation completed');
      runs.push(figure(w.unit, r));
      if (r.errors) log(`${t.spec.name} ${w.id}: ${r.errors} errors, first: ${r.firstError}`);
    }
    m.summary = summarise(runs);
    m.errors = errors || undefined;
    m.cut = cut || undefined;
    m.extra = { runs: detail };
    log(`${t.spec.name} ${w.id}: ${runs.map((r) => r.toFixed(0)).join(', ')} ${w.unit}`);
  } catch (e) {
    m.error = `failed: ${(e as Error).message.split('\n')[0]}`;
    log(`${t.spec.name} ${w.id}: ${m.error}`);
  }
}

/**
 * Peak RSS during one PUT then GET of a 16 MiB and then a 1 GiB object, on a freshly started target:
 * the memory a transfer costs, apart from what earlier workloads left in the heap (that is reported
 * separately, as "RSS after the workloads"). Each row keeps the RSS at rest before it.
 */
async function measureMemory(t: RunningTarget): Promise<void> {
  const rest = currentRssMiB(t.pids());
  for (const [id, bytes, group] of [
    ['rss-16m', profile.rssSmallBytes, 'rss16'],
    ['rss-1g', profile.rssBytes, 'huge'],
  ] as const) {
    const m: Measurement = { workload: id, label: `peak RSS, ${bytes >> 20} MiB PUT + GET`, target: t.spec.name, unit: 'MiB' };
    measurements.push(m);
    if (Date.now() > deadline) {
      m.error = 'skipped: time budget of this target spent';
      continue;
    }
    const sampler = sampleMemory(() => t.pids());
    try {
      const put = await lg!.run({ op: 'put', group, size: bytes, concurrency: 1, maxOps: 1, maxMs: 120_000, hardMs: 120_000 });
      const get = await lg!.run({ op: 'get', group, size: bytes, concurrency: 1, maxOps: 1, maxMs: 120_000, hardMs: 120_000 });
      const peaks = sampler.stop();
      if (put.ops !== 1 || get.ops !== 1) throw new Error(put.firstError ?? get.firstError ?? 'transfer failed');
      const peak = peakMiB(peaks);
      if (peak === undefined) throw new Error('no process to sample');
      m.summary = summarise([peak]);
      m.extra = { perProcess: peaks, restMiB: rest, putMBps: figure('MB/s', put), getMBps: figure('MB/s', get), runs: 1 };
      const each = peaks.map((p) => `${p.pid}: ${(Math.max(p.hwmKiB ?? 0, p.rssMaxKiB) / 1024).toFixed(0)}`).join(', ');
      log(
        `${t.spec.name} ${id}: ${peak.toFixed(0)} MiB peak, ${rest?.toFixed(0) ?? '?'} MiB at rest before (per pid, MiB: ${each}; PUT ${figure('MB/s', put).toFixed(0)} MB/s, GET ${figure('MB/s', get).toFixed(0)} MB/s)`,
      );
    } catch (e) {
      sampler.stop();
      m.error = `failed: ${(e as Error).message.split('\n')[0]}`;
    }
  }
}

/** How long a target rests after its workloads before "RSS after the workloads" is read. */
const REST_AFTER_WORKLOADS_MS = 20_000;

/**
 * What the largest server process keeps once the workloads are done (heap grown under load, buffers
 * kept, metadata pages mapped): read right after the last workload and again after the target rested
 * REST_AFTER_WORKLOADS_MS with no requests, which is the row (a node's memory at rest is what it
 * keeps; right after a burst it also holds that burst's garbage). Both, with the anonymous /
 * file-backed split (the metadata store's map is file-backed), are in the log and the JSON.
 */
async function measureRssAfterWorkloads(t: RunningTarget): Promise<void> {
  const label = `RSS after the workloads above, at rest ${REST_AFTER_WORKLOADS_MS / 1000} s`;
  const now = largestRss(t.pids());
  if (!now) {
    measurements.push({ workload: 'rss-after', label, target: t.spec.name, unit: 'MiB', error: 'no process to sample' });
    return;
  }
  await new Promise((r) => setTimeout(r, REST_AFTER_WORKLOADS_MS));
  const rest = largestRss(t.pids()) ?? now;
  const split = (x: typeof now) => `${x.rss.toFixed(0)} MiB (anon ${x.anon?.toFixed(0) ?? '?'}, file ${x.file?.toFixed(0) ?? '?'})`;
  log(`${t.spec.name} rss-after: right after ${split(now)}, at rest ${split(rest)}`);
  measurements.push({
    workload: 'rss-after',
    label,
    target: t.spec.name,
    unit: 'MiB',
    summary: summarise([rest.rss]),
    extra: { runs: 1, rightAfter: now, atRest: rest, restMs: REST_AFTER_WORKLOADS_MS },
  });
}

async function measureRedundancy(t: RunningTarget): Promise<void> {
  const m: Measurement = { workload: 'redundancy', label: 'time to full redundancy (re-replication rate)', target: t.spec.name, unit: 'MB/s' };
  measurements.push(m);
  if (!o.redundancy) {
    m.error = 'skipped: --no-redundancy';
    return;
  }
  if (Date.now() > deadline) {
    m.error = 'skipped: time budget of this target spent';
    return;
  }
  try {
    const r = await timeToRedundancy(t, lg!, { dataBytes: profile.redundancyBytes, maxMs: profile.redundancyMaxMs, log });
    if (!r.ok) {
      m.error = `skipped: ${r.reason}`;
      log(`redundancy ${m.error}`);
      return;
    }
    m.summary = summarise([r.rateMBps]);
    m.extra = { ...r, runs: 1 };
    log(
      `redundancy: ${r.killed} (${(r.heldBytes / 2 ** 20).toFixed(0)} MiB) detected after ${(r.detectMs / 1000).toFixed(1)} s, repaired in ${(r.repairMs / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    m.error = `failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

async function benchTarget(id: TargetId, targetsLeft: number): Promise<void> {
  deadline = Date.now() + (benchDeadline - Date.now()) / targetsLeft;
  if (Date.now() > benchDeadline) {
    unreachable.push({ target: id, reason: 'time budget spent before it started' });
    return;
  }
  const load = loadavg()[0]!;
  loads.push({ target: id, loadavg1m: load });
  log(`starting ${id} (load average ${load.toFixed(1)} on ${cpus().length} cores)`);
  try {
    running = await startTarget(id, join(scratch, id));
  } catch (e) {
    const reason = (e as Error).message;
    unreachable.push({ target: id, reason });
    measurements.push({
      workload: 'start',
      label: '(server start)',
      target: id === 'cairn' ? 'cairn-1' : id === 'cluster' ? `cairn-1r${nodes}n-R${replicas}` : id,
      unit: 'obj/s',
      error: `unreachable: ${reason}`,
    });
    log(`${id} unreachable: ${reason}`);
    return;
  }
  const t = running;
  try {
    lg = LoadGenerator.start();
    try {
      await lg.setup(t.spec, Math.max(profile.concurrency, 8));
    } catch (e) {
      const reason = `serving, but the workload setup (create bucket) failed: ${(e as Error).message}`;
      unreachable.push({ target: t.spec.name, reason });
      measurements.push({ workload: 'start', label: '(bucket setup)', target: t.spec.name, unit: 'obj/s', error: reason.slice(0, 200) });
      log(`${t.spec.name}: ${reason}`);
      return;
    }
    for (const w of profile.workloads) await runWorkload(t, w);
    await measureRssAfterWorkloads(t);
    if (id === 'cluster') await measureRedundancy(t);
    // The memory of a transfer is measured on a fresh start of the same target (see measureMemory).
    await lg.close().catch(() => undefined);
    lg = undefined;
    await t.stop().catch(() => undefined);
    running = undefined;
    let why = 'skipped: time budget of this target spent';
    if (Date.now() < deadline) {
      try {
        rmSync(join(scratch, id), { recursive: true, force: true });
        running = await startTarget(id, join(scratch, id));
        lg = LoadGenerator.start();
        await lg.setup(running.spec, 8);
        await measureMemory(running);
        why = '';
      } catch (e) {
        why = `failed: fresh start for the memory run: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    if (why) for (const w of ['rss-16m', 'rss-1g']) measurements.push({ workload: w, label: `peak RSS (${w})`, target: t.spec.name, unit: 'MiB', error: why });
  } finally {
    await lg?.close().catch(() => undefined);
    lg = undefined;
    await running?.stop().catch(() => undefined);
    running = undefined;
    if (id === 'cairn' || id === 'cluster') summariseProfiles(id);
    rmSync(join(scratch, id), { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).join(' ');
  const command =
    process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args ? ' -- ' + args : ''}` : `npx node hack/bench/main.ts${args ? ' ' + args : ''}`;
  log(`profile ${profile.name}, targets ${targets.join(', ')}, scratch ${scratch}`);
  measureRaw();
  const order = ALL_TARGETS.filter((id) => targets.includes(id));
  for (const [i, id] of order.entries()) await benchTarget(id, order.length - i);

  const rows = buildRows(measurements);
  const table = formatTable(HEADERS, rows);
  console.log(`\nCairn benchmark (${profile.name} profile), ${started.toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`);
  console.log(table);
  const why = notes(measurements);
  if (why.length) console.log(`\nNotes:\n${why.map((n) => `  ${n}`).join('\n')}`);
  console.log(`\nIssue 23 goals (ratios of this run):\n\n${formatTable(RATIO_GOAL_HEADERS, ratioGoalRows(measurements))}`);
  console.log(
    `\n1-minute load average when each target started: ${loads.map((l) => `${l.target} ${l.loadavg1m.toFixed(1)}`).join(', ')} (${cpus().length} cores; sampled just before each target started)`,
  );
  const cairnDown = unreachable.filter((u) => isCairn(u.target) || u.target === 'cairn' || u.target === 'cluster');
  if (cairnDown.length) {
    console.log(`\nCAIRN TARGETS UNREACHABLE — only the anchors were measured for them:`);
    for (const u of cairnDown) console.log(`  ${u.target}: ${u.reason.split('\n').slice(0, 4).join(' | ')}`);
  }
  const json = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    command,
    profile,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), kernel: release(), node: process.version },
    targets,
    unreachable,
    loads,
    measurements,
    profiles,
  };
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${stamp}.json`);
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  writeFileSync(
    join(outDir, `${stamp}.md`),
    [
      `Command: \`${command}\` (${profile.name} profile), ${started.toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'};`,
      `1-minute load average when each target started: ${loads.map((l) => `${l.target} ${l.loadavg1m.toFixed(1)}`).join(', ')}.`,
      '',
      formatMarkdown(HEADERS, rows),
      '',
      ...(why.length ? ['Notes:', '', ...why.map((n) => `- ${n}`), ''] : []),
      'Issue 8 targets:',
      '',
      formatMarkdown(GOAL_HEADERS, goalRows(measurements)),
      '',
      'Issue 23 goals (ratios of this run):',
      '',
      formatMarkdown(RATIO_GOAL_HEADERS, ratioGoalRows(measurements)),
      '',
    ].join('\n'),
  );
  console.log(`\nJSON: ${file}`);
}

try {
  await main();
} finally {
  await cleanup();
}
