// `npm run soak`: `npm start` left running, watched for leaks. Starts the real script (its own
// CAIRN_HOME, so the user's .cairn is untouched), waits until the cluster is up, lets it settle,
// then samples the open file descriptors and sockets of every process it runs (the local control
// plane and every pod, found by walking the process tree) for --minutes (default 15). It fails
// when either count grows beyond the tolerance over the run: a leak of one connection per Lease
// renewal piled up 19,754 sockets in five minutes before anyone looked.
//
//   npm run soak [-- --minutes 15 --settle 60 --every 30 [-- <npm start flags>]]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sleep } from '../../operator/src/controller/backoff.ts';

const repo = new URL('../..', import.meta.url).pathname;

export interface Sample {
  atS: number;
  processes: number;
  fds: number;
  sockets: number;
}

/** Every descendant of `root` (and root), from /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Open fds and sockets of these processes (a process that exits meanwhile counts nothing). */
export function sample(pids: number[], atS: number): Sample {
  let fds = 0,
    sockets = 0,
    processes = 0;
  for (const pid of pids) {
    let entries: string[];
    try {
      entries = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    processes++;
    for (const fd of entries) {
      fds++;
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return { atS, processes, fds, sockets };
}

/** Flat: the highest count in the second half of the run is within the tolerance of the first sample. */
export function verdict(samples: Sample[], tolerance = { ratio: 0.25, absolute: 25 }): { flat: boolean; why: string } {
  const first = samples[0];
  const late = samples.slice(Math.floor(samples.length / 2));
  const problems: string[] = [];
  for (const k of ['fds', 'sockets'] as const) {
    const peak = Math.max(...late.map((s) => s[k]));
    const limit = first[k] + Math.max(tolerance.absolute, Math.ceil(first[k] * tolerance.ratio));
    if (peak > limit) problems.push(`${k} ${first[k]} → ${peak} (limit ${limit})`);
  }
  return problems.length ? { flat: false, why: problems.join('; ') } : { flat: true, why: 'open fds and sockets stayed within the tolerance' };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { minutes: { type: 'string', default: '15' }, settle: { type: 'string', default: '60' }, every: { type: 'string', default: '30' } },
  });
  const minutes = Number(values.minutes),
    settleS = Number(values.settle),
    everyS = Number(values.every);
  if (![minutes, settleS, everyS].every((n) => Number.isFinite(n) && n > 0)) {
    console.error('--minutes, --settle and --every must be positive numbers');
    return 2;
  }
  const home = mkdtempSync(join(tmpdir(), 'cairn-soak-'));
  const child = spawn(process.execPath, [join(repo, 'hack/local/start.ts'), ...positionals], {
    cwd: repo,
    env: { ...process.env, CAIRN_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const info = join(home, 'local', 'cluster.json');
    const deadline = Date.now() + 600_000;
    while (!existsSync(info)) {
      if (child.exitCode !== null) {
        console.error(`npm start exited ${child.exitCode} before the cluster was up:\n${output.slice(-3000)}`);
        return 1;
      }
      if (Date.now() > deadline) {
        console.error('npm start did not bring the cluster up in 10 minutes');
        return 1;
      }
      await sleep(500);
    }
    console.log(`cluster up; settling ${settleS} s, then sampling every ${everyS} s for ${minutes} min`);
    await sleep(settleS * 1000);
    const samples: Sample[] = [];
    const started = Date.now();
    const end = started + minutes * 60_000;
    console.log('   t (s)  processes      fds  sockets');
    for (;;) {
      if (child.exitCode !== null) {
        console.error(`npm start exited ${child.exitCode} during the soak:\n${output.slice(-3000)}`);
        return 1;
      }
      const s = sample(processTree(child.pid!), Math.round((Date.now() - started) / 1000));
      samples.push(s);
      console.log(`${String(s.atS).padStart(8)}  ${String(s.processes).padStart(9)}  ${String(s.fds).padStart(7)}  ${String(s.sockets).padStart(7)}`);
      if (Date.now() >= end) break;
      await sleep(Math.min(everyS * 1000, end - Date.now()));
    }
    const v = verdict(samples);
    console.log(`${v.flat ? 'flat' : 'GROWING'}: ${v.why}`);
    return v.flat ? 0 : 1;
  } finally {
    child.kill('SIGINT');
    const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      console.error('npm start did not stop within 30 s of Ctrl-C');
    }
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exit(await main());
