// Peak resident memory of server processes during a transfer (Linux /proc). VmHWM is the kernel's
// high-water mark since the process started; writing 5 to clear_refs resets it, so the peak belongs
// to the transfer only. VmRSS is also sampled, in case clear_refs is not allowed.
import { readFileSync, writeFileSync } from 'node:fs';

export interface MemoryPeak {
  pid: number;
  hwmKiB?: number;
  rssMaxKiB: number;
}

/** VmHWM and VmRSS (KiB) from a /proc/<pid>/status text. */
export function parseStatus(text: string): { hwmKiB?: number; rssKiB?: number } {
  const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return { hwmKiB: hwm ? Number(hwm[1]) : undefined, rssKiB: rss ? Number(rss[1]) : undefined };
}

function status(pid: number): { hwmKiB?: number; rssKiB?: number } {
  try {
    return parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return {};
  }
}

/** Resident KiB of a process per mapping name, from its smaps: a file's path, `[heap]`, `[anon]` (no name), … */
export function residentByMapping(pid: number): Map<string, number> {
  const by = new Map<string, number>();
  let cur = '';
  for (const l of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) cur = l.split(/\s+/).slice(5).join(' ') || '[anon]';
    else if (l.startsWith('Rss:')) by.set(cur, (by.get(cur) ?? 0) + Number(l.split(/\s+/)[1]));
  }
  return by;
}

/** Sample the given processes every `intervalMs` until `stop()`; returns the peak per process. */
export function sampleMemory(pids: () => number[], intervalMs = 50): { stop(): MemoryPeak[] } {
  const peaks = new Map<number, MemoryPeak>();
  const hwmReset = new Set<number>();
  const tick = () => {
    for (const pid of pids()) {
      let p = peaks.get(pid);
      if (!p) {
        try {
          writeFileSync(`/proc/${pid}/clear_refs`, '5');
          hwmReset.add(pid);
        } catch {
          /* not ours to reset */
        }
        p = { pid, rssMaxKiB: 0 };
        peaks.set(pid, p);
      }
      const s = status(pid);
      if (s.rssKiB !== undefined) p.rssMaxKiB = Math.max(p.rssMaxKiB, s.rssKiB);
      if (s.hwmKiB !== undefined && hwmReset.has(pid)) p.hwmKiB = s.hwmKiB;
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return [...peaks.values()];
    },
  };
}

/** The largest current RSS among processes, in MiB (what they hold at rest, before a transfer). */
export function currentRssMiB(pids: number[]): number | undefined {
  const now = pids.map((pid) => status(pid).rssKiB).filter((v): v is number => v !== undefined);
  return now.length ? Math.max(...now) / 1024 : undefined;
}

/** The process with the largest RSS now: its VmRSS and the anonymous / file-backed split, in MiB. */
export function largestRss(pids: number[]): { pid: number; rss: number; anon?: number; file?: number } | undefined {
  let best: { pid: number; rss: number; anon?: number; file?: number } | undefined;
  for (const pid of pids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    const field = (name: string) => {
      const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
      return m ? Number(m[1]) / 1024 : undefined;
    };
    const rss = field('VmRSS');
    if (rss !== undefined && (!best || rss > best.rss)) best = { pid, rss, anon: field('RssAnon'), file: field('RssFile') };
  }
  return best;
}

/** The largest peak of a set of processes, in MiB. */
export function peakMiB(peaks: MemoryPeak[]): number | undefined {
  if (peaks.length === 0) return undefined;
  return Math.max(...peaks.map((p) => Math.max(p.hwmKiB ?? 0, p.rssMaxKiB))) / 1024;
}

/**
 * CPU time (user + system, ms) the processes have used so far, from /proc/<pid>/stat (clock ticks
 * of 10 ms on Linux); a process that is gone counts 0. The difference over a run is a steadier A/B
 * figure than throughput on a shared machine.
 */
export function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      return sum;
    }
  }, 0);
}
