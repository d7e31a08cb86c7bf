// The load generator process (forked by hack/bench/main.ts, so its CPU is not the server's and
// not the orchestrator's). It takes jobs over IPC, one at a time, and answers each with a result.
//   { id, kind: 'setup', target, connections }       → connect to a target, create its bucket
//   { id, kind: 'populate', group, size, count, … }   → make sure `count` objects exist (untimed)
//   { id, kind: 'run', …RunJob }                      → RunResult
//   { id, kind: 'close' }                             → close pools and exit
import { randomInt } from 'node:crypto';
import { BenchClient, type TargetSpec } from './client.ts';
import { BodySource, runLoop, type OpContext, type RunJob, type RunResult } from './workload.ts';

export type Job =
  | { kind: 'setup'; target: TargetSpec; connections: number }
  | { kind: 'populate'; group: string; size: number; count: number; concurrency: number; maxMs: number }
  | ({ kind: 'run' } & RunJob)
  | { kind: 'close' };

let client: BenchClient | undefined;
const bodies = new BodySource();
const groups = new Map<string, string[]>();
let seq = 0;

function keysOf(group: string): string[] {
  let k = groups.get(group);
  if (!k) groups.set(group, (k = []));
  return k;
}

function need(): BenchClient {
  if (!client) throw new Error('no target: send a setup job first');
  return client;
}

async function put(group: string, size: number, ctx?: OpContext): Promise<number> {
  const key = `${group}/${process.pid}-${String(seq++).padStart(8, '0')}`;
  await need().put(key, bodies.body(size, ctx?.progress), size, ctx?.signal);
  keysOf(group).push(key);
  return size;
}

function pick(group: string): string {
  const keys = keysOf(group);
  if (keys.length === 0) throw new Error(`no objects in group ${group}: populate it first`);
  return keys[randomInt(0, keys.length)]!;
}

async function run(job: RunJob): Promise<RunResult> {
  const c = need();
  switch (job.op) {
    case 'put':
      return runLoop(job, (_i, ctx) => put(job.group, job.size, ctx));
    case 'get': {
      const keys = [...keysOf(job.group)];
      return runLoop(job, (i, ctx) => c.get(keys[i % keys.length] ?? pick(job.group), ctx));
    }
    case 'head': {
      const keys = [...keysOf(job.group)];
      return runLoop(job, (i, ctx) => c.head(keys[i % keys.length] ?? pick(job.group), ctx.signal));
    }
    case 'mix': {
      const share = job.getShare ?? 0.7;
      return runLoop(job, (_i, ctx) => (Math.random() < share ? c.get(pick(job.group), ctx) : put(job.group, job.size, ctx)));
    }
    case 'list': {
      // Each worker walks the listing page by page and starts over at the end; an op is a page.
      const tokens: (string | undefined)[] = Array.from({ length: job.concurrency }, () => undefined);
      let listed = 0,
        w = 0;
      const res = await runLoop(job, async (_i, ctx) => {
        const slot = w++ % job.concurrency;
        const page = await c.listPage(`${job.group}/`, job.pageSize ?? 1000, tokens[slot], ctx.signal);
        tokens[slot] = page.next;
        listed += page.keys;
        return 0;
      });
      return { ...res, keys: listed };
    }
  }
}

async function handle(job: Job): Promise<unknown> {
  switch (job.kind) {
    case 'setup':
      await client?.close();
      groups.clear();
      client = new BenchClient(job.target, job.connections);
      await client.createBucket();
      return { ok: true };
    case 'populate': {
      const missing = job.count - keysOf(job.group).length;
      if (missing <= 0) return { ops: 0 };
      const r = await runLoop({ concurrency: job.concurrency, maxOps: missing, maxMs: job.maxMs, hardMs: job.maxMs }, (_i, ctx) =>
        put(job.group, job.size, ctx),
      );
      if (keysOf(job.group).length === 0) throw new Error(`populate ${job.group} wrote nothing: ${r.firstError ?? 'no error reported'}`);
      return r;
    }
    case 'run':
      return run(job);
    case 'close':
      await client?.close();
      client = undefined;
      setImmediate(() => process.exit(0));
      return { ok: true };
  }
}

process.on('message', (msg: { id: number } & Job) => {
  handle(msg).then(
    (result) => process.send!({ id: msg.id, result }),
    (e: unknown) => process.send!({ id: msg.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
// The parent's death closes the IPC channel: exit instead of lingering as an orphan.
process.on('disconnect', () => process.exit(0));
