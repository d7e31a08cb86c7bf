// Where a Cairn process spent its CPU: self time per function from a V8 .cpuprofile (written by
// `npm run bench -- --cpu-prof`, or `node --cpu-prof`). The summary is pure; the command prints it:
//   npx node hack/bench/cpuprofile.ts FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}
export interface HotSpot {
  fn: string;
  where: string;
  selfMs: number;
  share: number;
}

/**
 * Self time per function (summed over call sites), largest first. `lastMs`: only the samples of the
 * profile's last so many milliseconds (what a long-lived process did during one event, e.g. a repair).
 */
export function hotSpots(p: CpuProfile, top = 20, lastMs?: number): HotSpot[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  let total = 0;
  const from = lastMs === undefined ? -Infinity : p.endTime - lastMs * 1000;
  let at = p.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    const n = byId.get(samples[i]!);
    // the delta before the next sample is the time attributed to this one
    const us = Math.max(0, deltas[i + 1] ?? 0);
    if (!n || at < from) continue;
    total += us;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|node-runtime)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${fn} ${where}`;
    const e = self.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    self.set(key, e);
  }
  return [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, share: total ? e.us / total : 0 }));
}

export function formatHotSpots(spots: HotSpot[]): string {
  return spots.map((s) => `${(s.share * 100).toFixed(1).padStart(5)} %  ${s.selfMs.toFixed(0).padStart(7)} ms  ${s.fn}  ${s.where}`).join('\n');
}

if (import.meta.main) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpuprofile.ts FILE.cpuprofile [--top N] [--last-ms MS]');
    process.exit(2);
  }
  const flag = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? Number(rest[i + 1]) : undefined;
  };
  console.log(formatHotSpots(hotSpots(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, flag('--top') ?? 25, flag('--last-ms'))));
}
