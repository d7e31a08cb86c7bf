// `npm run bench:side-by-side [-- --quick] [--target cluster] [--anchor s3rver] [--rounds 5]`: issue 23's
// ratios measured side by side. The full bench (main.ts) measures each target in turn, minutes
// apart; on a shared 2-core VM whose speed drifts over minutes, its ratios carry that drift (the
// same commit read cluster PUT 64 MiB at 0.95× and 0.39× s3rver in two runs twelve minutes apart).
// Here both targets are up at once, each with its own load generator, and every workload runs in
// alternation — anchor then target, then target then anchor — so each round's ratio compares two
// runs made back to back; the table gives every round's ratio and their median. The target idle
// meanwhile keeps its background work (a Cairn node's heartbeats, repair passes, the collection it
// runs when a rest begins), which slows the other a little: each target's CPU while idle is measured
// and shown (the most of any run, in % of one core). Writes JSON to ${CAIRN_HOME:-.cairn}/bench/<timestamp>-side-by-side.json. Never in CI.
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loopbackAddress } from '../testing/net.ts';
import { LoadGenerator } from './driver.ts';
import { cpuMs } from './memory.ts';
import { orderOf, pairedRatios, type Round } from './pairs.ts';
import { figure, jobOf, makeProfile, type WorkloadDef } from './profile.ts';
import { median } from './stats.ts';
import { ISSUE_23_GOALS, formatNumber, formatTable, isCluster } from './table.ts';
import { startCairn } from './targets/cairn.ts';
import { startNginx } from './targets/nginx.ts';
import { startS3rver } from './targets/s3rver.ts';
import type { RunningTarget } from './targets/types.ts';

const TARGETS = ['nginx', 's3rver', 'cairn', 'cluster'] as const;
type TargetId = (typeof TARGETS)[number];

const o = new Command('bench:side-by-side')
  .description("Issue 23's ratios: a Cairn target and an anchor up at once, every workload run in alternation")
  .option('--quick', 'short runs (0.7 s small, 3 s large)')
  .option('--target <id>', `the measured target: one of ${TARGETS.join(', ')}`, 'cluster')
  .option('--anchor <id>', `the anchor: one of ${TARGETS.join(', ')}`, 's3rver')
  .option('--workloads <list>', 'workload ids, in order', 'put-4k,get-4k,put-64m-1,get-64m-1')
  .option('--rounds <n>', 'alternations per workload', '5')
  .option('--nodes <n>', 'storage nodes of the cluster target', '3')
  .option('--replicas <n>', 'replication factor of the cluster target', '2')
  .parse()
  .opts<{ quick?: boolean; target: string; anchor: string; workloads: string; rounds: string; nodes: string; replicas: string }>();

function fail(msg: string): never {
  console.error(msg);
  process.exit(2);
}
const positive = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const pick = (name: string, v: string): TargetId =>
  TARGETS.includes(v as TargetId) ? (v as TargetId) : fail(`--${name}: unknown target ${v}; choose from ${TARGETS.join(', ')}`);
const targetId = pick('target', o.target);
const anchorId = pick('anchor', o.anchor);
if (targetId === anchorId) fail('--target and --anchor must differ');
const rounds = positive('rounds', o.rounds);
const nodes = positive('nodes', o.nodes);
const replicas = positive('replicas', o.replicas);
const profile = makeProfile(o.quick ? 'quick' : 'full');
const workloads: WorkloadDef[] = o.workloads
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((id) => profile.workloads.find((w) => w.id === id) ?? fail(`unknown workload ${id}; choose from ${profile.workloads.map((w) => w.id).join(', ')}`));

const started = new Date();
const log = (s: string) => console.error(`[side-by-side ${((Date.now() - started.getTime()) / 1000).toFixed(0).padStart(4)} s] ${s}`);
const scratch = mkdtempSync(join(tmpdir(), 'cairn-side-'));
const up: { id: TargetId; t: RunningTarget; lg: LoadGenerator }[] = [];

async function cleanup(): Promise<void> {
  for (const u of up.splice(0)) {
    await u.lg.close().catch(() => undefined);
    await u.t.stop().catch(() => undefined);
  }
  rmSync(scratch, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    log(`${sig}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });

function start(id: TargetId, dir: string): Promise<RunningTarget> {
  mkdirSync(dir, { recursive: true });
  switch (id) {
    case 'nginx':
      return startNginx(dir, loopbackAddress(), { workers: 1, log });
    case 's3rver':
      return startS3rver(dir, loopbackAddress());
    case 'cairn':
      return startCairn(dir, { nodes: 0, replicas: 1 });
    case 'cluster':
      return startCairn(dir, { nodes, replicas, startMs: 60_000 });
  }
}

async function main(): Promise<void> {
  for (const id of [anchorId, targetId]) {
    const t = await start(id, join(scratch, id));
    const lg = LoadGenerator.start();
    up.push({ id, t, lg });
    await lg.setup(t.spec, Math.max(profile.concurrency, 8));
    log(`${id} up as ${t.spec.name}`);
  }
  const [anchor, target] = up as [(typeof up)[0], (typeof up)[0]];
  const results: { workload: string; label: string; unit: string; rounds: Round[] }[] = [];
  for (const w of workloads) {
    if (w.s3Only && [anchor, target].some((u) => u.t.spec.kind !== 's3')) {
      log(`${w.id}: skipped (an S3 call, and one target is not S3)`);
      continue;
    }
    const job = jobOf(w);
    for (const u of up) {
      if (w.populate) await u.lg.populate(w.group, w.size, w.populate, Math.min(w.concurrency, 8), 60_000);
      if (w.size <= 1 << 20) await u.lg.run(job); // warm-up, as in the full bench
    }
    const done: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const round: Round = { order: orderOf(i, anchor.t.spec.name, target.t.spec.name), figures: {}, idleCpu: {} };
      for (const name of round.order) {
        const u = up.find((x) => x.t.spec.name === name)!;
        const other = up.find((x) => x !== u)!;
        const idle0 = cpuMs(other.t.pids());
        const r = await u.lg.run(job);
        if (r.ops === 0 && !r.cut) throw new Error(`${name} ${w.id}: ${r.firstError ?? 'no operation completed'}`);
        round.figures[name] = figure(w.unit, r);
        round.idleCpu![name] = ((cpuMs(other.t.pids()) - idle0) * 1000) / Math.max(1, r.ms);
      }
      done.push(round);
      const ratio = round.figures[target.t.spec.name]! / round.figures[anchor.t.spec.name]!;
      log(`${w.id} round ${i + 1}: ${round.order.map((n) => `${n} ${formatNumber(round.figures[n]!)}`).join(', ')} ${w.unit}; ratio ${ratio.toFixed(2)}×`);
    }
    results.push({ workload: w.id, label: w.label, unit: w.unit, rounds: done });
  }

  const cluster = isCluster(target.t.spec.name);
  const rows = results.map((r) => {
    const { ratios, summary } = pairedRatios(r.rounds, target.t.spec.name, anchor.t.spec.name);
    const goal =
      anchor.id === 's3rver' ? ISSUE_23_GOALS.find((g) => g.workload === r.workload && g.cluster === cluster && g.vs?.anchor === 's3rver') : undefined;
    const med = (name: string) => formatNumber(median(r.rounds.flatMap((x) => x.figures[name] ?? [])));
    // A target's CPU while it sat idle is recorded under the one that ran meanwhile.
    const idle = (running: string) => `${(Math.max(0, ...r.rounds.map((x) => x.idleCpu?.[running] ?? 0)) / 10).toFixed(0)} %`;
    return [
      r.label,
      `${med(anchor.t.spec.name)} / ${med(target.t.spec.name)} ${r.unit}`,
      ratios.map((x) => `${x.toFixed(2)}×`).join(' '),
      summary ? `${summary.median.toFixed(2)}×` : '—',
      goal?.vs ? `≥ ${goal.vs.factor}×: ${summary && summary.median >= goal.vs.factor ? 'met' : 'MISSED'}` : '',
      `${idle(target.t.spec.name)} / ${idle(anchor.t.spec.name)}`,
    ];
  });
  console.log(
    `\n${target.t.spec.name} against ${anchor.t.spec.name}, ${rounds} alternating rounds per workload (${profile.name} runs), ${started.toISOString()}, ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end\n`,
  );
  console.log(
    formatTable(
      [
        'workload',
        `medians (${anchor.t.spec.name} / ${target.t.spec.name})`,
        'ratio per round',
        'median ratio',
        'issue 23 goal',
        `CPU while idle, at most (${anchor.t.spec.name} / ${target.t.spec.name})`,
      ],
      rows,
    ),
  );
  const outDir = resolve(process.env.CAIRN_HOME ?? '.cairn', 'bench');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${started.toISOString().replace(/[:.]/g, '-')}-side-by-side.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ started: started.toISOString(), command: process.argv.slice(2), target: target.t.spec.name, anchor: anchor.t.spec.name, results }, null, 2)}\n`,
  );
  console.log(`\nJSON: ${file}`);
}

try {
  await main();
} finally {
  await cleanup();
}
