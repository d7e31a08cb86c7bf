// Time to full redundancy: fill the cluster, SIGKILL the node holding the most data, and watch the
// root's admin status until the node is `down` and no chunk is under-replicated any more. Runs only
// when the admin status carries the under-replicated count; otherwise it says why it was skipped.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterStatus } from '../../node-runtime/src/admin/types.ts';
import type { LoadGenerator } from './driver.ts';
import type { RunningTarget } from './targets/types.ts';

const REPORT_GRACE_MS = 30_000;

export type RedundancyOutcome =
  | { ok: true; heldBytes: number; killed: string; detectMs: number; repairMs: number; totalMs: number; rateMBps: number; peakUnderReplicated: number }
  | { ok: false; reason: string };

/** Bytes under a directory (the node's chunks and metadata), for when the status reports no usage. */
export function directoryBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        const st = statSync(p);
        if (st.isDirectory()) stack.push(p);
        else total += Math.min(st.size, st.blocks * 512); // sparse files (lmdb) count what is allocated
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return total;
}

async function status(admin: { url: string; secret: string }): Promise<Partial<ClusterStatus> | undefined> {
  try {
    const res = await fetch(`${admin.url}/admin/v1/status`, { headers: { authorization: `Bearer ${admin.secret}` }, signal: AbortSignal.timeout(3000) });
    return res.ok ? ((await res.json()) as Partial<ClusterStatus>) : undefined;
  } catch {
    return undefined;
  }
}

/** The status once every member's usedBytes stayed the same across two polls 1.5 s apart (at most 10 s). */
async function settledStatus(admin: { url: string; secret: string }): Promise<Partial<ClusterStatus> | undefined> {
  const usage = (s?: Partial<ClusterStatus>) => JSON.stringify((s?.members ?? []).map((m) => [m.name, m.usedBytes]));
  let last = await status(admin);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 1500));
    const now = await status(admin);
    if (now && usage(now) === usage(last)) return now;
    last = now ?? last;
  }
  return last;
}

export async function timeToRedundancy(
  target: RunningTarget,
  lg: LoadGenerator,
  opts: { dataBytes: number; maxMs: number; log: (s: string) => void },
): Promise<RedundancyOutcome> {
  if (!target.admin || !target.nodes?.length) return { ok: false, reason: 'target is not a cluster' };
  const before = await status(target.admin);
  if (!before) return { ok: false, reason: 'the root answers no admin status (GET /admin/v1/status)' };
  if (typeof before.repair?.underReplicatedChunks !== 'number' || !Array.isArray(before.members)) {
    return { ok: false, reason: 'the admin status has no repair.underReplicatedChunks / members: the cluster does not report redundancy yet' };
  }
  const size = 64 * 1024 * 1024;
  opts.log(`redundancy: writing ${(opts.dataBytes / 2 ** 30).toFixed(2)} GiB`);
  await lg.populate('redundancy', size, Math.ceil(opts.dataBytes / size), 4, opts.maxMs);
  // The node holding the most data: from the status when it reports usage, else from its data dir.
  // Usage reaches the root on heartbeats, so the last second of writes shows up a beat later: wait
  // until it stops changing (under-counting what the node held would under-state the rate).
  const filled = await settledStatus(target.admin);
  const used = (name: string) =>
    filled?.members?.find((m) => m.name === name)?.usedBytes || directoryBytes(target.nodes!.find((n) => n.name === name)!.dataDir);
  const ranked = target.nodes.map((n) => ({ proc: n, bytes: used(n.name) })).sort((a, b) => b.bytes - a.bytes);
  const proc = ranked[0]!.proc;
  const victim = filled?.members?.find((m) => m.name === proc.name);
  if (!victim) return { ok: false, reason: `the admin status lists no member named ${proc.name}` };
  const held = ranked[0]!.bytes;
  opts.log(`redundancy: killing ${victim.name} holding ${(held / 2 ** 20).toFixed(0)} MiB`);
  const t0 = Date.now();
  await proc.kill();
  let detected: number | undefined;
  let peak = 0;
  let last: Partial<ClusterStatus> | undefined;
  const deadline = t0 + opts.maxMs;
  while (Date.now() < deadline) {
    const s = await status(target.admin);
    if (s) last = s;
    const m = s?.members?.find((x) => x.name === victim.name);
    const under = s?.repair?.underReplicatedChunks ?? 0;
    peak = Math.max(peak, under);
    if (detected === undefined && m && m.state === 'down') detected = Date.now();
    if (detected !== undefined && peak > 0 && under === 0) {
      const done = Date.now();
      const repairMs = Math.max(1, done - detected);
      return {
        ok: true,
        heldBytes: held,
        killed: victim.name,
        detectMs: detected - t0,
        repairMs,
        totalMs: done - t0,
        rateMBps: held / (repairMs / 1000) / 1e6,
        peakUnderReplicated: peak,
      };
    }
    // A cluster that counts nothing within this grace after the loss does not report repair yet:
    // say so instead of waiting out the whole limit.
    if (detected !== undefined && peak === 0 && Date.now() - detected > REPORT_GRACE_MS) {
      return {
        ok: false,
        reason: `${victim.name} went down ${((detected - t0) / 1000).toFixed(1)} s after the kill, but no under-replicated chunk was reported within ${REPORT_GRACE_MS / 1000} s: the cluster does not count them yet`,
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    ok: false,
    reason:
      detected === undefined
        ? `${victim.name} was not reported down within ${opts.maxMs / 1000} s`
        : peak === 0
          ? `no under-replicated chunks were ever reported after ${victim.name} went down`
          : `still under-replicated ${opts.maxMs / 1000} s after the kill (peak ${peak} chunks, ${last?.repair?.underReplicatedChunks ?? '?'} left, ${((last?.repair?.bytesMoved ?? 0) / 2 ** 20).toFixed(0)} MiB moved; ${(held / 2 ** 20).toFixed(0)} MiB were on ${victim.name})`,
  };
}
