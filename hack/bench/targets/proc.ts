// Child server processes for the bench: spawn with the output kept in a small ring (shown when a
// server fails to start), wait for readiness by polling, stop with SIGTERM then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  output(): string;
  exited(): boolean;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function spawnChild(name: string, cmd: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  // CAIRN_BENCH_ECHO=1 also copies every line to the bench's stderr, prefixed with the name (diagnosis).
  const echo = process.env.CAIRN_BENCH_ECHO === '1';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-8000);
    if (echo) process.stderr.write(d.toString().replace(/^(?=.)/gm, `[${name}] `));
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let done = false;
  const exit = new Promise<void>((r) =>
    proc.once('exit', () => {
      done = true;
      r();
    }),
  );
  proc.once('error', (e) => {
    out += `\nspawn error: ${e.message}`;
    done = true;
  });
  if (proc.pid === undefined) done = true;
  return {
    name,
    proc,
    pid: proc.pid ?? -1,
    output: () => out,
    exited: () => done,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (done) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Poll until `check` is true; fail early (with the server's output) when the process exits. */
export async function waitServing(child: Child, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  // Not waitFor: it retries through errors, and a server that exited will never come up.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited() || Date.now() > deadline) {
      const tail = child.output().trim().split('\n').slice(-12).join('\n');
      throw new Error(`${child.name} did not start (${child.exited() ? 'it exited' : `not serving after ${timeoutMs} ms`}); its output:\n${tail}`);
    }
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** true when an HTTP GET answers at all (any status): the port is serving. */
export async function answers(url: string, okOnly = false): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return okOnly ? res.ok : true;
  } catch {
    return false;
  }
}

/** Children of a process (Linux), for servers with worker processes such as nginx. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
