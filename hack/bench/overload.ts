// `npx node hack/bench/overload.ts [--size BYTES] [--seconds S] [--factor F] [--connections N] [--no-limits]`: what one
// node does past its capacity (issue 19, finding 9). One `cairn server` process on loopback:
//   1. sustainable rate: a closed loop of 32 connections of PUTs for S seconds → X PUT/s;
//   2. baseline: an open loop offering 0.8·X PUT/s for S seconds (latency and RSS near capacity;
//      an open loop at exactly X has no steady state: its queue grows by chance and never drains);
//   3. overload: an open loop offering F·X PUT/s (default 4) for S seconds.
// Open loop: requests start on a clock whatever the answers, as independent clients would send them
// (a closed loop slows down with the server and never overloads it). Prints, for each phase, the
// offered and accepted rates, the 503 SlowDown share, latency p50/p99 of accepted requests and of
// refusals, and the server's peak anonymous RSS (heap and buffers: RssAnon — the metadata store's
// mapped pages grow with the data written, not with the load, and are left out); then the
// overload/baseline ratios docs/performance.md quotes.
// `--no-limits` raises the node's limits out of reach: what the same load does without admission.
// Bounded: each phase stops issuing after S seconds and aborts what is still in flight 30 s later.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { startCairnProcess } from '../testing/cairn.ts';
import { SigV4Signer } from './sigv4.ts';
import { percentile } from './stats.ts';
import { readFileSync } from 'node:fs';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '4096' },
    seconds: { type: 'string', default: '10' },
    factor: { type: 'string', default: '4' },
    'no-limits': { type: 'boolean', default: false },
    connections: { type: 'string', default: '1024' },
  },
});
const size = Number(values.size),
  seconds = Number(values.seconds),
  factor = Number(values.factor);
const env: Record<string, string> = {
  CAIRN_LOG_LEVEL: 'error',
  ...(values['no-limits']
    ? { CAIRN_MAX_REQUESTS: '1000000', CAIRN_MAX_CONNECTIONS: '1000000', CAIRN_MAX_MEMORY_WAITERS: '1000000', CAIRN_MAX_MEMORY_WAIT_MS: '1000000000' }
    : {}),
};

/** `seconds`: from the first request sent to the last answer (an open loop's backlog drains after the clock stops). */
interface Phase {
  name: string;
  offered: number;
  sent: number;
  ok: number[];
  refused: number[];
  failed: number;
  seconds: number;
  rssMiB?: number;
}

const node = await startCairnProcess({ env });
const u = new URL(node.endpoint);
const signer = new SigV4Signer({ accessKey: node.accessKey, secretKey: node.secretKey, region: 'us-east-1' });
// Many connections (--connections, default 1024), as many independent clients would open: requests
// the clock starts go on the wire rather than waiting in the client.
const pool = new Pool(u.origin, { connections: Number(values.connections), pipelining: 1 });
const body = randomBytes(size);
let seq = 0;

async function put(signal: AbortSignal): Promise<{ status: number; ms: number }> {
  const r = signer.sign({ method: 'PUT', host: u.host, path: `/overload/k${seq++}`, headers: { 'content-length': String(size) } });
  const t0 = performance.now();
  try {
    const res = await pool.request({ method: 'PUT', path: r.path, headers: r.headers, body, signal });
    await res.body.dump();
    return { status: res.statusCode, ms: performance.now() - t0 };
  } catch {
    return { status: 0, ms: performance.now() - t0 };
  }
}

function record(p: Phase, o: { status: number; ms: number }): void {
  if (o.status === 200) p.ok.push(o.ms);
  else if (o.status === 503) p.refused.push(o.ms);
  else p.failed++;
}

async function closedLoop(name: string, connections: number): Promise<Phase> {
  const p: Phase = { name, offered: 0, sent: 0, ok: [], refused: [], failed: 0, seconds };
  const end = Date.now() + seconds * 1000;
  const ac = new AbortController();
  const mem = sampleAnon(node.pid);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        p.sent++;
        record(p, await put(ac.signal));
      }
    }),
  );
  p.rssMiB = mem.stop();
  return p;
}

async function openLoop(name: string, rate: number): Promise<Phase> {
  const p: Phase = { name, offered: rate, sent: 0, ok: [], refused: [], failed: 0, seconds };
  const ac = new AbortController();
  const inflight = new Set<Promise<void>>();
  const mem = sampleAnon(node.pid);
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    // Catch up with the clock in 5 ms steps: the requests due by now are sent now.
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (p.sent < due) {
      p.sent++;
      const q: Promise<void> = put(ac.signal).then((o) => {
        record(p, o);
        inflight.delete(q);
      });
      inflight.add(q);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const cut = setTimeout(() => ac.abort(), 30_000);
  await Promise.all(inflight);
  clearTimeout(cut);
  p.seconds = (performance.now() - start) / 1000;
  p.rssMiB = mem.stop();
  return p;
}

/** The peak RssAnon (MiB) of `pid`, sampled every `ms` until stopped. */
function sampleAnon(pid: number, ms = 100): { stop(): number } {
  let peak = 0;
  const tick = () => {
    try {
      const m = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      /* gone */
    }
  };
  tick();
  const t = setInterval(tick, ms);
  return {
    stop() {
      clearInterval(t);
      tick();
      return peak;
    },
  };
}

const f = (n: number | undefined, d = 1) => (n === undefined ? '-' : n.toFixed(d));
function line(p: Phase): string {
  return [
    p.name.padEnd(10),
    f(p.offered || undefined, 0).padStart(8),
    f(p.ok.length / p.seconds, 0).padStart(9),
    `${f((100 * p.refused.length) / Math.max(1, p.sent))} %`.padStart(8),
    String(p.failed).padStart(6),
    f(percentile(p.ok, 50)).padStart(9),
    f(percentile(p.ok, 99)).padStart(9),
    f(percentile(p.refused, 99)).padStart(11),
    f(p.rssMiB, 0).padStart(8),
  ].join(' ');
}

try {
  await put(new AbortController().signal).catch(() => {}); // the bucket (PUT /overload creates it)
  const r = signer.sign({ method: 'PUT', host: u.host, path: '/overload' });
  await (await pool.request({ method: 'PUT', path: r.path, headers: r.headers })).body.dump();
  await closedLoop('warm-up', 32);
  const sustained = await closedLoop('closed-32', 32);
  const x = sustained.ok.length / seconds;
  const base = await openLoop('open-0.8x', 0.8 * x);
  const over = await openLoop(`open-${factor}x`, factor * x);
  console.log(`overload bench: PUT ${size} B, one node${values['no-limits'] ? ', limits off' : ''}; ${seconds} s per phase; X = ${x.toFixed(0)} PUT/s`);
  console.log('phase        offered  accepted  refused  failed  p50 ms    p99 ms   refusal p99  anon RSS MiB');
  for (const p of [sustained, base, over]) console.log(line(p));
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? (a / b).toFixed(2) : '-');
  console.log(
    `ratios ${factor}x / 0.8x: accepted throughput ${ratio(over.ok.length / over.seconds, base.ok.length / base.seconds)}, p50 ${ratio(percentile(over.ok, 50), percentile(base.ok, 50))}, p99 ${ratio(percentile(over.ok, 99), percentile(base.ok, 99))}, peak anon RSS ${ratio(over.rssMiB, base.rssMiB)}; refusal p99 / accepted p99 at ${factor}x ${ratio(percentile(over.refused, 99), percentile(over.ok, 99))}`,
  );
} finally {
  await pool.close();
  await node.cleanup();
}
