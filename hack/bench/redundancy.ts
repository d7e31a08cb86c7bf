// Time to full redundancy: fill the cluster, SIGKILL the node holding the most data, and watch the
// root's admin status until the node is `down` and no chunk is under-replicated any more. Runs only
// when the admin status carries the under-replicated count; otherwise it says why it was skipped.
import type { ClusterStatus } from '../../node-runtime/src/admin/types.ts';
import type { LoadGenerator } from './driver.ts';
import type { RunningTarget } from './targets/types.ts';

export type RedundancyOutcome =
  | { ok: true; heldBytes: number; killed: string; detectMs: number; repairMs: number; totalMs: number; rateMBps: number; peakUnderReplicated: number }
  | { ok: false; reason: string };

async function status(admin: { url: string; secret: string }): Promise<Partial<ClusterStatus> | undefined> {
  try {
    const res = await fetch(`${admin.url}/admin/v1/status`, { headers: { authorization: `Bearer ${admin.secret}` }, signal: AbortSignal.timeout(3000) });
    return res.ok ? await res.json() as Partial<ClusterStatus> : undefined;
  } catch { return undefined; }
}

export async function timeToRedundancy(target: RunningTarget, lg: LoadGenerator, opts: { dataBytes: number; maxMs: number; log: (s: string) => void }): Promise<RedundancyOutcome> {
  if (!target.admin || !target.nodes?.length) return { ok: false, reason: 'target is not a cluster' };
  const before = await status(target.admin);
  if (!before) return { ok: false, reason: 'the root answers no admin status (GET /admin/v1/status)' };
  if (typeof before.repair?.underReplicatedChunks !== 'number' || !Array.isArray(before.members)) {
    return { ok: false, reason: 'the admin status has no repair.underReplicatedChunks / members: the cluster does not report redundancy yet' };
  }
  const size = 64 * 1024 * 1024;
  opts.log(`redundancy: writing ${(opts.dataBytes / 2 ** 30).toFixed(2)} GiB`);
  await lg.populate('redundancy', size, Math.ceil(opts.dataBytes / size), 4, opts.maxMs);
  const filled = await status(target.admin);
  const candidates = (filled?.members ?? []).filter((m) => target.nodes!.some((n) => n.name === m.name)).sort((a, b) => b.usedBytes - a.usedBytes);
  const victim = candidates[0];
  const proc = victim && target.nodes.find((n) => n.name === victim.name);
  if (!victim || !proc) return { ok: false, reason: 'no member of the admin status matches a node process by name' };
  opts.log(`redundancy: killing ${victim.name} holding ${(victim.usedBytes / 2 ** 20).toFixed(0)} MiB`);
  const t0 = Date.now();
  await proc.kill();
  let detected: number | undefined;
  let peak = 0;
  const deadline = t0 + opts.maxMs;
  while (Date.now() < deadline) {
    const s = await status(target.admin);
    const m = s?.members?.find((x) => x.name === victim.name);
    const under = s?.repair?.underReplicatedChunks ?? 0;
    peak = Math.max(peak, under);
    if (detected === undefined && m && m.state === 'down') detected = Date.now();
    if (detected !== undefined && peak > 0 && under === 0) {
      const done = Date.now();
      const repairMs = Math.max(1, done - detected);
      return { ok: true, heldBytes: victim.usedBytes, killed: victim.name, detectMs: detected - t0, repairMs, totalMs: done - t0, rateMBps: victim.usedBytes / (repairMs / 1000) / 1e6, peakUnderReplicated: peak };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    ok: false,
    reason: detected === undefined ? `${victim.name} was not reported down within ${opts.maxMs / 1000} s`
      : peak === 0 ? `no under-replicated chunks were ever reported after ${victim.name} went down`
      : `still under-replicated after ${opts.maxMs / 1000} s`,
  };
}
