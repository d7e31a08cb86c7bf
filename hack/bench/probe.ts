// Probe one workload against a fresh Cairn target, to find where its time and memory go (a dev tool
// beside the bench, never in CI; the bench's figures are what count):
//   npx node hack/bench/probe.ts [--nodes N] [--size BYTES] [--count N] [--concurrency C]
//                                [--op put|get|head] [--populate N] [--prof]
// --populate first writes N 4 KiB objects (what the bench's small-object workloads leave behind);
// --prof writes V8 CPU profiles of every server process and prints each one's hot spots during the
// measured part. The server's heap, external memory and RSS (anonymous, file-backed, largest
// mappings) are printed at start, after the populate, after the workload, and 3 and 15 s later;
// PROBE_NODE_OPTIONS adds Node flags to the servers, PROBE_RPC=1 prints the RPC counts per member,
// PROBE_KEEP=1 keeps the data and profiles (the directory is printed), PROBE_TOP=N prints N hot spots
// per profile (default 25).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchClient } from './client.ts';
import { formatHotSpots, hotSpots } from './cpuprofile.ts';
import { cpuMs, residentByMapping } from './memory.ts';
import { startCairn } from './targets/cairn.ts';

const { values: a } = parseArgs({
  options: {
    nodes: { type: 'string', default: '0' },
    size: { type: 'string', default: String(64 << 20) },
    count: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '1' },
    op: { type: 'string', default: 'put' },
    prof: { type: 'boolean', default: false },
    replicas: { type: 'string', default: '2' },
    populate: { type: 'string', default: '0' },
  },
});
const nodes = Number(a.nodes),
  size = Number(a.size),
  count = Number(a.count),
  conc = Number(a.concurrency);
const dir = mkdtempSync(join(tmpdir(), 'cairn-probe-'));
const profDir = join(dir, 'prof');
const t = await startCairn(join(dir, 'data'), {
  nodes,
  replicas: nodes === 0 ? 1 : Number(a.replicas),
  env: { NODE_OPTIONS: `${process.env.PROBE_NODE_OPTIONS ?? ''} ${a.prof ? `--cpu-prof --cpu-prof-dir=${profDir}` : ''}` },
});
const c = new BenchClient(t.spec, conc);
await c.createBucket();
// Each PUT's body is its own (a content-addressed store would skip chunks it already holds).
const body = Buffer.alloc(size, 7);
for (let i = 0; i < body.length; i += 4096) body.writeUInt32LE(i, i);
const bodyOf = (n: number) => {
  for (let i = 4; i + 4 <= body.length; i += 4096) body.writeUInt32LE(n, i);
  return body;
};
const heap = async (when: string) => {
  const url = `${t.admin?.url ?? ''}/metrics`;
  const txt = await (await fetch(url)).text();
  const pick = (re: RegExp) =>
    txt
      .split('\n')
      .filter((l) => re.test(l) && !l.startsWith('#'))
      .join('\n');
  console.log(when, '\n' + pick(/process_resident|nodejs_external_memory|nodejs_heap_size_used|nodejs_heap_size_total/));
  for (const pid of t.pids()) {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    console.log(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3).join(' '));
    console.log(
      [...residentByMapping(pid)]
        .sort((x, y) => y[1] - x[1])
        .slice(0, 6)
        .map(([n, k]) => `${(k / 1024).toFixed(0)}M ${n}`)
        .join(' ; '),
    );
    console.log(
      pid,
      st
        .split('\n')
        .filter((l) => /^(VmRSS|RssAnon|RssFile|RssShmem|VmHWM)/.test(l))
        .join(' | '),
    );
  }
};
await heap('at start');
{
  const small = Buffer.alloc(4096, 1);
  const n = Number(a.populate);
  let j = 0;
  const pc = new BenchClient(t.spec, 32);
  const tp = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = j++; i < n; i = j++) await pc.put(`small/${i}`, small, 4096);
    }),
  );
  if (n) console.log(`populated ${n} × 4 KiB in ${((performance.now() - tp) / 1000).toFixed(1)} s`);
  await pc.close();
}
await heap('after populate');
if (a.op !== 'put') for (let i = 0; i < count; i++) await c.put(`k${i}`, bodyOf(i), size);
// The servers' CPU time over the workload (memory.ts, cpuMs): a steadier A/B figure than throughput.
const cpu0 = cpuMs(t.pids());
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: conc }, async () => {
    for (let i = next++; i < count; i = next++) {
      if (a.op === 'put') await c.put(`k${i}`, conc === 1 ? bodyOf(i) : Buffer.from(bodyOf(i)), size);
      else if (a.op === 'get') await c.get(`k${i}`);
      else await c.head(`k${i}`);
    }
  }),
);
const ms = performance.now() - t0;
const serversMs = cpuMs(t.pids()) - cpu0;
if (!a.prof) await heap('after measure');
if (process.env.PROBE_RPC) {
  for (const n of t.nodes ?? []) {
    const txt = await (await fetch(`${(n as unknown as { cluster: string }).cluster}/metrics`)).text();
    console.log(
      txt
        .split('\n')
        .filter((l) => l.startsWith('cairn_rpc_request_duration_seconds_count'))
        .join('\n'),
    );
  }
}
if (!a.prof) {
  // (with --prof the servers stop at once: the profiles' last `ms` are the measured part)
  await new Promise((r) => setTimeout(r, 3000));
  await heap('3 s later');
  await new Promise((r) => setTimeout(r, 12_000));
  await heap('15 s later');
}
console.log(
  `${a.op} ${count} × ${size} B, ${conc} streams: ${((count * size) / 1e6 / (ms / 1000)).toFixed(0)} MB/s, ${(count / (ms / 1000)).toFixed(0)} ops/s, servers' CPU ${((serversMs * 1000) / count).toFixed(0)} µs/op`,
);
await c.close();
await t.stop();
if (a.prof) {
  for (const f of readdirSync(profDir, { recursive: true }) as string[]) {
    if (!f.endsWith('.cpuprofile')) continue;
    console.log(f);
    console.log(formatHotSpots(hotSpots(JSON.parse(readFileSync(join(profDir, f), 'utf8')), Number(process.env.PROBE_TOP ?? 25), ms)));
  }
}
if (!process.env.PROBE_KEEP) rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${dir}`);
