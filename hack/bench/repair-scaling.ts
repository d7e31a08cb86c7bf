// How the cost of a repair pass grows (issue 23 item 3): `npx node hack/bench/repair-scaling.ts [--quick]`
// (npm run bench:repair). Not part of npm test.
//
// Two members A and B hold the same bucket partitions (R=2) with 10k, 100k and 1M objects spread over
// 10 buckets, plus 256 chunks each (4 KiB, referenced by 256 of the objects). The stores are the real
// MetaStore and ChunkStore; the members talk through their local replicas in one process (no HTTP),
// so process.cpuUsage around one pass of A's RepairWorker is the whole cost of the pass on both sides
// (listing B, merging, indexing) except the RPC encoding a real cluster adds. Measured per size:
//   - a full pass (every push walks its partition, the reference index lists every bucket of every member:
//     what every pass cost before partition digests, and what the safety-net pass still costs);
//   - a pass with nothing changed since a settled pass;
//   - the first pass after k objects of one bucket were written on both holders, and after k written on A
//     only (B missed them: A pushes them).
// The objects are filled in-process with MetaStore.putVersion (as hack/bench/scaling.ts does) on A,
// and B's store is a copy of A's files. Prints a Markdown table; JSON in .cairn/bench/repair-scaling-<time>.json.
//
// `--idle`: instead, a real `cairn server --role root,node` process (default settings: a pass every
// 30 s) over 10k / 100k / 1M objects filled the same way, left idle for 65 s after start-up: its CPU
// time from /proc (every background worker, repair passes included), as scaling.ts measures it.
// `--write-cost`: what keeping the digests costs a write: CPU per MetaStore.putVersion over 200k inline
// versions (20k in flight, as the fill), median of 5 runs.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChunkStore } from '../../node-runtime/src/chunks/store.ts';
import { MemoryBudget } from '../../node-runtime/src/chunks/memory.ts';
import { defaultSettings, type BucketSettings, type ClusterView, type Member } from '../../node-runtime/src/cluster/types.ts';
import { LocalChunkReplica, LocalMetaReplica } from '../../node-runtime/src/data/local-replica.ts';
import type { ReplicaDirectory } from '../../node-runtime/src/data/replicas.ts';
import type { ObjectVersion } from '../../node-runtime/src/meta/records.ts';
import { MetaStore } from '../../node-runtime/src/meta/store.ts';
import { RepairWorker } from '../../node-runtime/src/repair/worker.ts';
import { median } from './stats.ts';
import { readFileSync } from 'node:fs';
import { waitFor } from '../testing/net.ts';
import { s3Client, startCairnProcess } from '../testing/cairn.ts';
import { testMember } from '../../node-runtime/test/fixtures.ts';
import { formatMarkdown } from './table.ts';

const BUCKETS = 10;
const CHUNKS = 256;
const log = (s: string) => console.error(`[repair-scaling ${new Date().toISOString().slice(11, 19)}] ${s}`);

const bucketOf = (i: number) => `bucket-${i % BUCKETS}`;
function version(i: number, now: number, over: Partial<ObjectVersion> = {}): ObjectVersion {
  return {
    bucket: bucketOf(i),
    key: `k${String(i).padStart(8, '0')}`,
    versionId: `fill-${i.toString(36)}`,
    timestamp: now,
    writer: 'bench',
    deleted: false,
    size: 16,
    etag: '9e107d9d372bb6826bd81d3542a419d6',
    userMeta: {},
    inline: Buffer.alloc(16, 0x61).toString('base64'),
    chunks: [],
    replicas: 2,
    ...over,
  };
}

const member = (id: string): Member => testMember(id, { chunks: CHUNKS });

function viewOf(selfId: string, members: Member[], buckets: BucketSettings[]): ClusterView {
  return {
    selfId,
    settings: () => ({ ...defaultSettings }),
    members: () => members,
    member: (id) => members.find((m) => m.id === id),
    bucket: (name) => buckets.find((b) => b.name === name),
    buckets: () => buckets,
    putBucket: () => Promise.reject(new Error('not in the bench')),
    removeBucket: () => Promise.reject(new Error('not in the bench')),
    onChange: () => () => {},
  };
}

interface Stores {
  meta: MetaStore;
  chunks: ChunkStore;
}

async function fill(store: MetaStore, from: number, to: number, now: number): Promise<void> {
  const BATCH = 20_000;
  for (let s = from; s < to; s += BATCH) {
    const writes: Promise<ObjectVersion>[] = [];
    for (let i = s; i < Math.min(to, s + BATCH); i++) writes.push(store.putVersion(version(i, now)));
    await Promise.all(writes);
  }
}

export interface PassRow {
  objects: number;
  pass: string;
  cpuMs: number;
  wallMs: number;
  visited: number;
  chunkPhase: boolean;
}

async function measure(worker: RepairWorker, objects: number, pass: string): Promise<PassRow> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await worker.step(new AbortController().signal);
  const c = process.cpuUsage(c0);
  const last = worker.snapshot().lastPass;
  return { objects, pass, cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0, visited: last?.visited ?? -1, chunkPhase: last?.chunks ?? true };
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** An idle single-node server over n objects: % of a core over `idleMs` once its start-up passes are done. */
async function idle(sizes: number[], idleMs: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-repair-idle-'));
  const secret = 'repair-idle-secret';
  const keys = { accessKey: 'REPAIRIDLEKEY', secretKey: 'repair-idle-secret-key', secret };
  const rows: string[][] = [];
  try {
    const dataDir = join(dir, 'node');
    const first = await startCairnProcess({ ...keys, roles: ['root', 'node'], name: 'idle', dataDir, env: { CAIRN_LOG_LEVEL: 'warn' } });
    for (let i = 0; i < BUCKETS; i++) await s3Client(first).makeBucket(`bucket-${i}`);
    await first.stop();
    let have = 0;
    for (const n of sizes) {
      const store = MetaStore.open(dataDir);
      await fill(store, have, n, Date.now());
      await store.close();
      have = n;
      const p = await startCairnProcess({ ...keys, roles: ['root', 'node'], name: 'idle', dataDir, env: { CAIRN_LOG_LEVEL: 'warn' } });
      const repair = async () =>
        (await (await fetch(`${p.cluster}/rpc/v1/repair`, { headers: { authorization: `Bearer ${secret}` } })).json()) as {
          repair: { passes: number; fullPasses?: number };
        };
      try {
        await waitFor(async () => (await repair()).repair.passes >= 1, { timeoutMs: 120_000, intervalMs: 500, what: 'the first pass' });
        await new Promise((r) => setTimeout(r, 2000));
        const [c0, r0] = [cpuSeconds(p.pid), (await repair()).repair.passes];
        await new Promise((r) => setTimeout(r, idleMs));
        const [c1, r1] = [cpuSeconds(p.pid), (await repair()).repair.passes];
        const pct = ((c1 - c0) / (idleMs / 1000)) * 100;
        log(`${n.toLocaleString('en-US')} objects: idle ${(idleMs / 1000).toFixed(0)} s: ${pct.toFixed(1)} % of a core, ${r1 - r0} passes`);
        rows.push([n.toLocaleString('en-US'), `${pct.toFixed(1)} %`, String(r1 - r0)]);
      } finally {
        await p.stop();
      }
    }
    console.log(formatMarkdown(['objects (one node)', 'idle CPU (% of a core)', 'repair passes in the window'], rows));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeCost(): Promise<void> {
  const perWrite: number[] = [];
  for (let r = 0; r < 5; r++) {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-write-cost-'));
    const store = MetaStore.open(dir);
    const c0 = process.cpuUsage();
    await fill(store, 0, 200_000, Date.now());
    const c = process.cpuUsage(c0);
    perWrite.push((c.user + c.system) / 200_000);
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`CPU per putVersion: median ${median(perWrite).toFixed(1)} µs (runs: ${perWrite.map((x) => x.toFixed(1)).join(', ')})`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, idle: { type: 'boolean', default: false }, 'write-cost': { type: 'boolean', default: false } },
    strict: true,
  });
  if (values['write-cost']) return writeCost();
  if (values.idle) return idle(values.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000], 65_000);
  const sizes = values.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const reps = values.quick ? 2 : 3;
  const started = new Date().toISOString();
  const dir = await mkdtemp(join(tmpdir(), 'cairn-repair-scaling-'));
  log(
    `data in ${dir}, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const members = [member('a'), member('b')];
  const buckets: BucketSettings[] = Array.from({ length: BUCKETS }, (_, i) => ({
    name: `bucket-${i}`,
    createdAt: new Date(0).toISOString(),
    owner: 'bench',
    replicas: 2,
    access: 'private',
  }));
  const rows: PassRow[] = [];
  try {
    // The chunks, on both members, and the objects that reference them.
    const chunkRefs: { id: string; size: number }[] = [];
    for (const m of ['a', 'b']) {
      const cs = await ChunkStore.open(join(dir, m));
      for (let i = 0; i < CHUNKS; i++) {
        const body = createHash('sha256').update(`chunk ${i}`).digest();
        const bytes = Buffer.concat(Array.from({ length: 128 }, () => body)); // 4 KiB
        const id = createHash('sha256').update(bytes).digest('hex');
        await cs.put(id, bytes, bytes.length);
        if (m === 'a') chunkRefs.push({ id, size: bytes.length });
      }
    }
    const now = Date.now();
    let have = 0;
    for (const n of sizes) {
      log(`filling objects ${have.toLocaleString('en-US')}..${n.toLocaleString('en-US')}`);
      // The base store only grows by the fill; each size starts A and B from a copy of it (the
      // change steps of the smaller sizes do not carry over).
      const base = MetaStore.open(join(dir, 'base'));
      await fill(base, have, n, now);
      if (have === 0) {
        for (let i = 0; i < CHUNKS; i++) await base.putVersion(version(i, now, { inline: undefined, size: 4096, chunks: [chunkRefs[i]!] }));
      }
      await base.close();
      have = n;
      for (const m of ['a', 'b']) {
        rmSync(join(dir, m, 'meta'), { recursive: true, force: true });
        cpSync(join(dir, 'base', 'meta'), join(dir, m, 'meta'), { recursive: true });
      }

      const stores: Record<string, Stores> = {};
      for (const m of ['a', 'b']) stores[m] = { meta: MetaStore.open(join(dir, m)), chunks: await ChunkStore.open(join(dir, m)) };
      const replicas: ReplicaDirectory = {
        chunks: (id) => new LocalChunkReplica(id, stores[id]!.chunks),
        meta: (id) => new LocalMetaReplica(id, stores[id]!.meta),
      };
      const worker = (fullPassIntervalMs: number) =>
        new RepairWorker({
          view: viewOf('a', members, buckets),
          replicas,
          chunks: stores.a!.chunks,
          meta: stores.a!.meta,
          memory: new MemoryBudget(64 * 1024 * 1024),
          fullPassIntervalMs,
        });
      // Full passes: a worker that trusts no digest (period 0).
      const full = worker(0);
      for (let r = 0; r < reps; r++) rows.push(await measure(full, n, 'full'));
      // Incremental: the first pass is full, then nothing changes.
      const inc = worker(3600_000);
      await inc.step(new AbortController().signal);
      for (let r = 0; r < reps; r++) rows.push(await measure(inc, n, 'nothing changed'));
      // k objects of bucket b0 written: on both holders, then on A only.
      let next = 10_000_000;
      for (const k of values.quick ? [1, 1000] : [1, 100, 10_000]) {
        const vs = Array.from({ length: k }, () => version(next++ * BUCKETS, Date.now()));
        await Promise.all(vs.flatMap((v) => [stores.a!.meta.putVersion(v), stores.b!.meta.putVersion(v)]));
        rows.push(await measure(inc, n, `${k} changed on both holders`));
        await inc.step(new AbortController().signal); // settles again
        const only = Array.from({ length: k }, () => version(next++ * BUCKETS, Date.now()));
        await Promise.all(only.map((v) => stores.a!.meta.putVersion(v)));
        rows.push(await measure(inc, n, `${k} changed on A only (pushed to B)`));
        await inc.step(new AbortController().signal);
      }
      for (const m of ['a', 'b']) await stores[m]!.meta.close();
      const fullMs = median(rows.filter((r) => r.objects === n && r.pass === 'full').map((r) => r.cpuMs));
      const skipMs = median(rows.filter((r) => r.objects === n && r.pass === 'nothing changed').map((r) => r.cpuMs));
      log(
        `${n.toLocaleString('en-US')} objects: full pass ${fullMs.toFixed(0)} ms CPU, nothing changed ${skipMs.toFixed(1)} ms (${((100 * skipMs) / fullMs).toFixed(2)} %)`,
      );
    }
    const table = render(rows, sizes);
    const out = join(new URL('../../', import.meta.url).pathname, '.cairn/bench');
    mkdirSync(out, { recursive: true });
    const file = join(out, `repair-scaling-${started.replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify({ command: `npx node hack/bench/repair-scaling.ts${values.quick ? ' --quick' : ''}`, started, loadavg: loadavg(), rows }, null, 2),
    );
    console.log(table);
    log(`JSON: ${file}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One row per kind of pass, one column per object count: median CPU ms (entries visited), and % of the full pass. */
export function render(rows: PassRow[], sizes: number[]): string {
  const kinds = [...new Set(rows.map((r) => r.pass))];
  const cell = (kind: string, n: number) => {
    const rs = rows.filter((r) => r.pass === kind && r.objects === n);
    if (rs.length === 0) return '–';
    const ms = median(rs.map((r) => r.cpuMs));
    const full = median(rows.filter((r) => r.pass === 'full' && r.objects === n).map((r) => r.cpuMs));
    const pct = kind === 'full' ? '' : ` (${((100 * ms) / full).toFixed(ms / full < 0.01 ? 2 : 1)} %)`;
    return `${ms >= 100 ? Math.round(ms).toLocaleString('en-US') : ms.toFixed(1)} ms${pct}, ${rs[0]!.visited.toLocaleString('en-US')} visited`;
  };
  return formatMarkdown(
    ['pass', ...sizes.map((n) => `${n.toLocaleString('en-US')} objects`)],
    kinds.map((k) => [k, ...sizes.map((n) => cell(k, n))]),
  );
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
