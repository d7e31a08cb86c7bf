// How cost grows (issue 8 item 4): `npx node hack/bench/scaling.ts [--quick] [--concurrency 32]`
//  1. 4 KiB PUT/GET throughput and p50/p99 latency through 1 root + 1, 3 and 6 nodes (R=1 for one
//     node, R=2 otherwise), the same client concurrency for each, from the bench's load generator
//     process;
//  2. LIST latency with 10k, 100k and 1M keys in one bucket of a `--role root,node` server;
//  3. RSS of that server and its metadata bytes on disk at 0 keys and at each of those counts.
// Filling 1M keys through S3 at a few hundred PUT/s would take most of an hour on this machine, so
// the keys are written in-process with the server's own MetaStore (the same putVersion path a PUT
// ends in, batched by lmdb's group commit) while the server is stopped; the server then reopens the
// data dir and every LIST goes through S3. Writes JSON to .cairn/bench/scaling-<time>.json and
// prints Markdown tables for docs/performance.md.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ObjectVersion } from '../../node-runtime/src/data/types.ts';
import { MetaStore } from '../../node-runtime/src/meta/store.ts';
import { startCairnProcess, type CairnProcess } from '../testing/cairn.ts';
import { BenchClient } from './client.ts';
import { LoadGenerator } from './driver.ts';
import { median, percentile } from './stats.ts';
import { formatMarkdown } from './table.ts';
import { startCairn } from './targets/cairn.ts';

// ---- pure helpers (unit-tested in scaling.test.ts) ------------------------------------------------

export const DIRS = 10;

/** Key number `i` of the LIST bucket: spread over DIRS "directories" so a delimiter listing rolls up
 *  into DIRS common prefixes and a prefix listing reads one directory; zero-padded so key order is
 *  numeric order inside a directory and the key sets of 10k ⊂ 100k ⊂ 1M nest (fills are incremental). */
export function scaleKey(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= 1e8) throw new RangeError(`key number out of range: ${i}`);
  return `d${i % DIRS}/k${String(i).padStart(8, '0')}`;
}

/** A key from the middle of directory d4 of a bucket holding keys 0..n-1 (start-after of the middle page). */
export function middleKey(n: number): string {
  return scaleKey(Math.floor(n / (2 * DIRS)) * DIRS + 4);
}

/** RSS split from a /proc/<pid>/status text, KiB: anonymous (heap) and file-backed (lmdb's map, code). */
export function parseRss(text: string): { rssKiB: number; anonKiB?: number; fileKiB?: number } {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const rssKiB = field('VmRSS');
  if (rssKiB === undefined) throw new Error('no VmRSS in /proc status text');
  return { rssKiB, anonKiB: field('RssAnon'), fileKiB: field('RssFile') };
}

/** How latency grew from the smallest to the largest key count, next to how log2(n) and n grew:
 *  per-key cost is logarithmic when `latency` stays near `log2` and far below `linear`. */
export function growth(points: { n: number; ms: number }[]): { latency: number; log2: number; linear: number } {
  if (points.length < 2) throw new RangeError('growth needs at least two points');
  const s = [...points].sort((a, b) => a.n - b.n);
  const [a, b] = [s[0]!, s[s.length - 1]!];
  if (!(a.n >= 2 && a.ms > 0)) throw new RangeError('growth needs n >= 2 and a positive latency');
  return { latency: b.ms / a.ms, log2: Math.log2(b.n) / Math.log2(a.n), linear: b.n / a.n };
}

export function fmt(v: number | undefined, digits = 1): string {
  if (v === undefined) return '–';
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
}

// ---- the run ---------------------------------------------------------------------------------------

const KiB = 1024;
const accessKey = 'SCALINGACCESSKEY';
const secretKey = 'scaling-secret-key-0123456789';
const secret = 'scaling-cluster-secret';
const log = (s: string) => console.error(`[scaling ${new Date().toISOString().slice(11, 19)}] ${s}`);

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name may contain spaces: skip past it
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Wait (at most `maxMs`) until the server uses under 10 % of a core over a second, so start-up work
 *  (background scans of the metadata) does not overlap the LIST timings. Returns the ms waited. */
async function settle(pid: number, maxMs: number): Promise<number> {
  const t0 = performance.now();
  let before = cpuSeconds(pid);
  while (performance.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuSeconds(pid);
    if (now - before < 0.1) break;
    before = now;
  }
  return performance.now() - t0;
}

function rssOf(pid: number): { rssKiB: number; anonKiB?: number; fileKiB?: number } {
  return parseRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** Allocated bytes of the files of a directory (lmdb's map file is sparse: its size says little). */
function diskBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    total += f.isDirectory() ? diskBytes(p) : statSync(p).blocks * 512;
  }
  return total;
}

interface ThroughputRow {
  nodes: number;
  replicas: number;
  op: 'put' | 'get';
  opsPerSec: number[];
  p50Ms: number[];
  p99Ms: number[];
  errors: number;
}

async function clusterRuns(dir: string, nodes: number, concurrency: number, runMs: number, runs: number): Promise<ThroughputRow[]> {
  const replicas = nodes >= 2 ? 2 : 1;
  const target = await startCairn(join(dir, `c${nodes}`), { nodes, replicas, startMs: 90_000, env: { CAIRN_LOG_LEVEL: 'warn' } });
  const lg = LoadGenerator.start();
  try {
    await lg.setup(target.spec, concurrency);
    const rows: ThroughputRow[] = (['put', 'get'] as const).map((op) => ({ nodes, replicas, op, opsPerSec: [], p50Ms: [], p99Ms: [], errors: 0 }));
    for (let r = 0; r < runs; r++) {
      for (const row of rows) {
        // PUT first: GET reads the keys the PUT runs wrote
        const res = await lg.run({ op: row.op, group: 'small', size: 4 * KiB, concurrency, maxOps: 1_000_000, maxMs: runMs });
        if (res.ops === 0) throw new Error(`${nodes} nodes ${row.op}: no operation succeeded: ${res.firstError}`);
        row.opsPerSec.push(res.ops / (res.ms / 1000));
        row.p50Ms.push(res.p50Ms!);
        row.p99Ms.push(res.p99Ms!);
        row.errors += res.errors;
        log(
          `${nodes} node(s) R=${replicas} ${row.op}: ${fmt(res.ops / (res.ms / 1000))} ops/s p50 ${fmt(res.p50Ms, 2)} ms p99 ${fmt(res.p99Ms, 2)} ms${res.errors ? `, ${res.errors} errors (${res.firstError})` : ''}`,
        );
      }
    }
    return rows;
  } finally {
    await lg.close().catch(() => {});
    await target.stop();
  }
}

/** One inline version as a 16-byte PUT would leave it (the fill bypasses S3, see the header). */
function fillVersion(bucket: string, i: number, now: number): ObjectVersion {
  return {
    bucket,
    key: scaleKey(i),
    versionId: `fill-${i.toString(36)}`,
    timestamp: now,
    writer: 'scaling-fill',
    deleted: false,
    size: 16,
    etag: '9e107d9d372bb6826bd81d3542a419d6',
    contentType: 'application/octet-stream',
    userMeta: {},
    inline: Buffer.alloc(16, 0x61).toString('base64'),
    chunks: [],
    replicas: 1,
  };
}

async function fill(dataDir: string, bucket: string, from: number, to: number): Promise<number> {
  const t0 = performance.now();
  const store = MetaStore.open(dataDir);
  try {
    const now = Date.now();
    const BATCH = 20_000; // concurrent putVersion calls: lmdb commits them as a few large transactions
    for (let s = from; s < to; s += BATCH) {
      const writes: Promise<ObjectVersion>[] = [];
      for (let i = s; i < Math.min(to, s + BATCH); i++) writes.push(store.putVersion(fillVersion(bucket, i, now)));
      await Promise.all(writes);
      if ((s + BATCH) % 200_000 === 0) log(`  filled ${(s + BATCH).toLocaleString('en-US')} keys`);
    }
    const usage = await store.bucketUsage(bucket);
    if (usage.objects !== to) throw new Error(`after the fill the bucket counts ${usage.objects} objects, expected ${to}`);
  } finally {
    await store.close();
  }
  return (to - from) / ((performance.now() - t0) / 1000);
}

interface ListKind {
  name: string;
  query: (n: number) => Record<string, string>;
  expect: (n: number, xml: string) => void;
}

const count = (xml: string, tag: string) => (xml.match(new RegExp(`<${tag}>`, 'g')) ?? []).length;
const LISTS: ListKind[] = [
  { name: 'first page (1000)', query: () => ({ 'max-keys': '1000' }), expect: (n, x) => check(count(x, 'Key'), Math.min(n, 1000), 'keys') },
  {
    name: 'middle page (start-after)',
    query: (n) => ({ 'max-keys': '1000', 'start-after': middleKey(n) }),
    expect: (_n, x) => check(count(x, 'Key'), 1000, 'keys'),
  },
  {
    name: 'prefix d7/ + delimiter /',
    query: () => ({ 'max-keys': '1000', prefix: 'd7/', delimiter: '/' }),
    expect: (n, x) => check(count(x, 'Key'), Math.min(n / DIRS, 1000), 'keys'),
  },
  {
    name: `delimiter / (${DIRS} prefixes)`,
    query: () => ({ 'max-keys': '1000', delimiter: '/' }),
    expect: (_n, x) => check(count(x, 'CommonPrefixes'), DIRS, 'common prefixes'),
  },
];

function check(got: number, want: number, what: string): void {
  if (got !== want) throw new Error(`LIST returned ${got} ${what}, expected ${want}`);
}

interface ListRow {
  keys: number;
  kind: string;
  p50Ms: number;
  p99Ms: number;
  samples: number;
}
interface MemRow {
  keys: number;
  rssMiB: number;
  anonMiB?: number;
  fileMiB?: number;
  metaDiskMiB: number;
  fillPerSec?: number;
  startS: number;
  busyAfterStartS: number;
  idleCpuPct?: number;
}

async function listAndMemory(dir: string, sizes: number[], reps: number, idleMs: number): Promise<{ lists: ListRow[]; memory: MemRow[] }> {
  const dataDir = join(dir, 'list-node');
  mkdirSync(dataDir, { recursive: true });
  const bucket = 'scale';
  const lists: ListRow[] = [];
  const memory: MemRow[] = [];
  let have = 0;
  for (const n of [0, ...sizes]) {
    let fillPerSec: number | undefined;
    if (n > have) {
      log(`filling keys ${have.toLocaleString('en-US')}..${n.toLocaleString('en-US')} in-process (server stopped)`);
      fillPerSec = await fill(dataDir, bucket, have, n);
      have = n;
    }
    const t0 = performance.now();
    const p: CairnProcess = await startCairnProcess({
      roles: ['root', 'node'],
      name: 'scaling',
      dataDir,
      accessKey,
      secretKey,
      secret,
      env: { CAIRN_LOG_LEVEL: 'warn' },
    });
    const startS = (performance.now() - t0) / 1000;
    const client = new BenchClient({ name: 'scaling', kind: 's3', endpoints: [p.endpoint], bucket, accessKey, secretKey, region: 'us-east-1' }, 1);
    try {
      if (n === 0) await client.createBucket();
      const list = (q: Record<string, string>) => client.request('GET', `/${bucket}`, { query: { 'list-type': '2', ...q }, keepText: true });
      const waited = await settle(p.pid, 60_000);
      if (waited > 1500) log(`  server busy after start for ${fmt(waited / 1000)} s (start-up work)`);
      for (const k of LISTS) for (let i = 0; i < 3; i++) await list(k.query(Math.max(n, 1))); // warm-up: maps the pages, JIT
      const mem = rssOf(p.pid);
      const toMiB = (k?: number) => (k === undefined ? undefined : k / 1024);
      memory.push({
        keys: n,
        rssMiB: mem.rssKiB / 1024,
        anonMiB: toMiB(mem.anonKiB),
        fileMiB: toMiB(mem.fileKiB),
        metaDiskMiB: diskBytes(join(dataDir, 'meta')) / 2 ** 20,
        fillPerSec,
        startS,
        busyAfterStartS: waited / 1000,
      });
      log(
        `${n.toLocaleString('en-US')} keys: RSS ${fmt(mem.rssKiB / 1024)} MiB (anon ${fmt(toMiB(mem.anonKiB))}, file ${fmt(toMiB(mem.fileKiB))}), metadata on disk ${fmt(memory.at(-1)!.metaDiskMiB)} MiB`,
      );
      const row = memory.at(-1)!;
      if (idleMs > 0) {
        // background work of an idle node (repair passes scan the metadata)
        const c0 = cpuSeconds(p.pid);
        await new Promise((r) => setTimeout(r, idleMs));
        row.idleCpuPct = ((cpuSeconds(p.pid) - c0) / (idleMs / 1000)) * 100;
        log(`  idle for ${idleMs / 1000} s: ${fmt(row.idleCpuPct)} % of a core`);
      }
      if (n === 0) continue;
      for (const k of LISTS) {
        const ms: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t0 = performance.now();
          const { text = '' } = await list(k.query(n));
          ms.push(performance.now() - t0);
          k.expect(n, text);
        }
        lists.push({ keys: n, kind: k.name, p50Ms: percentile(ms, 50)!, p99Ms: percentile(ms, 99)!, samples: reps });
        log(`  LIST ${k.name}: p50 ${fmt(percentile(ms, 50), 2)} ms, p99 ${fmt(percentile(ms, 99), 2)} ms`);
      }
    } finally {
      await client.close();
      await p.stop(); // SIGTERM: lmdb closes cleanly before the next fill opens the same files
    }
  }
  return { lists, memory };
}

function render(r: { throughput: ThroughputRow[]; lists: ListRow[]; memory: MemRow[]; sizes: number[]; concurrency: number }): string {
  const range = (v: number[]) => (v.length > 1 ? `${fmt(Math.min(...v))} – ${fmt(Math.max(...v))}` : '–');
  const t = formatMarkdown(
    ['nodes (+1 root)', 'R', 'op (4 KiB)', 'ops/s (median)', 'min – max', 'p50 ms', 'p99 ms'],
    r.throughput.map((x) => [
      String(x.nodes),
      String(x.replicas),
      x.op.toUpperCase(),
      fmt(median(x.opsPerSec)),
      range(x.opsPerSec),
      fmt(median(x.p50Ms), 2),
      fmt(median(x.p99Ms), 2),
    ]),
  );
  const kinds = [...new Set(r.lists.map((l) => l.kind))];
  const cell = (n: number, kind: string) => {
    const l = r.lists.find((x) => x.keys === n && x.kind === kind);
    return l ? `${fmt(l.p50Ms, 2)} / ${fmt(l.p99Ms, 2)}` : '–';
  };
  const growthCell = (kind: string) => {
    const pts = r.lists.filter((l) => l.kind === kind).map((l) => ({ n: l.keys, ms: l.p50Ms }));
    if (pts.length < 2) return '–';
    const g = growth(pts);
    return `${g.latency.toFixed(2)}× (log₂ n ${g.log2.toFixed(2)}×, n ${fmt(g.linear)}×)`;
  };
  const l = formatMarkdown(
    ['LIST (p50 / p99 ms)', ...r.sizes.map((n) => `${n.toLocaleString('en-US')} keys`), 'p50 growth'],
    kinds.map((k) => [k, ...r.sizes.map((n) => cell(n, k)), growthCell(k)]),
  );
  const m = formatMarkdown(
    [
      'objects in metadata',
      'RSS MiB',
      'anon MiB',
      'file-backed MiB',
      'metadata on disk MiB',
      'bytes/key on disk',
      'start to ready s',
      'busy after ready s',
      'idle CPU % of a core',
      'fill keys/s',
    ],
    r.memory.map((x) => [
      x.keys.toLocaleString('en-US'),
      fmt(x.rssMiB),
      fmt(x.anonMiB),
      fmt(x.fileMiB),
      fmt(x.metaDiskMiB),
      x.keys ? fmt((x.metaDiskMiB * 2 ** 20) / x.keys, 0) : '–',
      fmt(x.startS),
      fmt(x.busyAfterStartS),
      fmt(x.idleCpuPct),
      x.fillPerSec ? fmt(x.fillPerSec) : '–',
    ]),
  );
  return `${t}\n\n${l}\n\n${m}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, concurrency: { type: 'string', default: '32' } }, strict: true });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 512)
    throw new Error(`--concurrency must be an integer in 1..512, got ${values.concurrency}`);
  const quick = values.quick;
  const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const runMs = quick ? 4_000 : 8_000;
  const runs = quick ? 1 : 3;
  const reps = quick ? 20 : 50;
  const idleMs = quick ? 0 : 40_000; // longer than the repair interval (30 s), so a pass falls inside
  // The whole run is bounded: every step has its own limit, this catches anything that hangs.
  const watchdog = setTimeout(
    () => {
      log('time limit reached, giving up');
      process.exit(1);
    },
    (quick ? 5 : 14) * 60_000,
  );
  watchdog.unref();
  const started = new Date().toISOString();
  const dir = await mkdtemp(join(tmpdir(), 'cairn-scaling-'));
  log(
    `${quick ? 'quick' : 'full'} profile, data in ${dir}, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  try {
    const throughput: ThroughputRow[] = [];
    for (const nodes of [1, 3, 6]) throughput.push(...(await clusterRuns(dir, nodes, concurrency, runMs, runs)));
    const { lists, memory } = await listAndMemory(dir, sizes, reps, idleMs);
    const result = {
      command: `npx node hack/bench/scaling.ts${quick ? ' --quick' : ''}${concurrency !== 32 ? ` --concurrency ${concurrency}` : ''}`,
      started,
      finished: new Date().toISOString(),
      concurrency,
      runMs,
      runs,
      reps,
      idleMs,
      loadavg: loadavg(),
      throughput,
      lists,
      memory,
    };
    const out = join(new URL('../../', import.meta.url).pathname, '.cairn/bench');
    mkdirSync(out, { recursive: true });
    const file = join(out, `scaling-${started.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(`Command: \`${result.command}\`, started ${started}, client concurrency ${concurrency}\n`);
    console.log(render({ throughput, lists, memory, sizes, concurrency }));
    log(`JSON: ${file}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    },
  );
}
