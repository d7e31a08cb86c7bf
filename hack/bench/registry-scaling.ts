// How the cost of the cluster's registry grows with its size (docs/performance.md, "How cost grows"):
// `npx node hack/bench/registry-scaling.ts [--buckets 2000] [--step 500] [--rest-s 15]`
// (npm run bench:registry). Not part of npm test.
//
// 1 root + 3 nodes (the bench's cluster). Buckets are created through S3, 8 at once spread over the
// nodes, in steps; before the first step and after each one it measures
//   - how many buckets a second the step created (each is a registry write: made durable on the root,
//     pushed to every member, answered);
//   - each process's CPU at rest over `--rest-s` seconds, 10 s after the step (heartbeats, gossip);
//   - the root's maps as JSON, whole and without the registry: what a heartbeat answer carries when a
//     member's registry is behind, and when it is current.
// Prints a Markdown table; JSON in .cairn/bench/registry-scaling-<time>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { cpuMs } from './memory.ts';
import { formatMarkdown } from './table.ts';
import { startCairn } from './targets/cairn.ts';

const { values: a } = parseArgs({
  options: {
    buckets: { type: 'string', default: '2000' },
    step: { type: 'string', default: '500' },
    'rest-s': { type: 'string', default: '15' },
  },
});
const total = Number(a.buckets),
  step = Number(a.step),
  restS = Number(a['rest-s']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = await mkdtemp(join(tmpdir(), 'cairn-registry-'));
const t = await startCairn(join(dir, 'data'), { nodes: 3, replicas: 2 });
const s = t.spec;
const clients = s.endpoints.map(
  (endpoint) => new S3Client({ endpoint, region: s.region, forcePathStyle: true, credentials: { accessKeyId: s.accessKey!, secretAccessKey: s.secretKey! } }),
);

async function restCpu(): Promise<number[]> {
  await sleep(10_000);
  const before = t.pids().map((p) => cpuMs([p]));
  await sleep(restS * 1000);
  return t.pids().map((p, i) => (cpuMs([p]) - before[i]!) / restS);
}

async function mapsBytes(): Promise<{ whole: number; lean: number }> {
  const res = await fetch(`${t.admin!.url}/rpc/v1/maps`, { headers: { authorization: `Bearer ${t.admin!.secret}` } });
  const body = (await res.json()) as { rootId: string; maps: { members: unknown; states: unknown } };
  const lean = { rootId: body.rootId, maps: { members: body.maps.members, states: body.maps.states }, registry: 'xxxxxxxx.000000' };
  return { whole: JSON.stringify(body).length, lean: JSON.stringify(lean).length };
}

interface Row {
  buckets: number;
  createdPerS?: number;
  restCpuMsPerS: number[];
  wholeKiB: number;
  leanKiB: number;
}
const rows: Row[] = [];
const measure = async (buckets: number, createdPerS?: number) => {
  const cpu = await restCpu();
  const m = await mapsBytes();
  rows.push({ buckets, createdPerS, restCpuMsPerS: cpu, wholeKiB: m.whole / 1024, leanKiB: m.lean / 1024 });
  console.log(
    `${buckets} buckets: ${createdPerS?.toFixed(1) ?? '–'} created/s; rest CPU ${cpu.map((c) => c.toFixed(1)).join(' / ')} ms/s; maps ${(m.whole / 1024).toFixed(0)} KiB whole, ${(m.lean / 1024).toFixed(1)} KiB lean`,
  );
};

try {
  await measure(0);
  for (let made = 0; made < total; ) {
    const upTo = Math.min(total, made + step);
    const t0 = performance.now();
    for (let i = made; i < upTo; i += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, upTo - i) }, (_, k) =>
          clients[(i + k) % clients.length]!.send(new CreateBucketCommand({ Bucket: `r-${String(i + k).padStart(6, '0')}` })),
        ),
      );
    }
    const rate = ((upTo - made) * 1000) / (performance.now() - t0);
    made = upTo;
    await measure(made, rate);
  }
} finally {
  await t.stop();
  await rm(dir, { recursive: true, force: true });
}

const table = formatMarkdown(
  ['buckets', 'created per s (this step)', 'rest CPU per process, ms/s (root / nodes)', 'maps whole KiB', 'without registry KiB'],
  rows.map((r) => [
    String(r.buckets),
    r.createdPerS === undefined ? '–' : r.createdPerS.toFixed(1),
    r.restCpuMsPerS.map((c) => c.toFixed(1)).join(' / '),
    r.wholeKiB.toFixed(0),
    r.leanKiB.toFixed(1),
  ]),
);
console.log(`\n${table}`);
mkdirSync('.cairn/bench', { recursive: true });
const out = join('.cairn/bench', `registry-scaling-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), load: loadavg(), buckets: total, step, restS, rows }, null, 2));
console.log(`JSON: ${out}`);
process.exit(0);
