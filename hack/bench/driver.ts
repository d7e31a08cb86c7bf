// The orchestrator's handle on the load generator process: fork it, send jobs over IPC, await
// each answer with a deadline (a hung job kills the generator rather than the whole bench).
import { fork, type ChildProcess } from 'node:child_process';
import type { TargetSpec } from './client.ts';
import type { Job } from './loadgen.ts';
import { hardLimitMs, type RunJob, type RunResult } from './workload.ts';

export class LoadGenerator {
  #child: ChildProcess;
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #exited = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    child.on('exit', (code, signal) => {
      this.#exited = true;
      for (const p of this.#pending.values()) p.reject(new Error(`load generator exited (${signal ?? code})`));
      this.#pending.clear();
    });
  }

  static start(): LoadGenerator {
    const child = fork(new URL('./loadgen.ts', import.meta.url).pathname, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new LoadGenerator(child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #send<T>(job: Job, timeoutMs: number): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('load generator is not running'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#child.kill('SIGKILL');
        reject(new Error(`load generator job ${job.kind} took longer than ${timeoutMs} ms; killed`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.send({ id, ...job });
    });
  }

  setup(target: TargetSpec, connections: number): Promise<void> {
    return this.#send({ kind: 'setup', target, connections }, 30_000);
  }

  populate(group: string, size: number, count: number, concurrency: number, maxMs: number): Promise<void> {
    return this.#send({ kind: 'populate', group, size, count, concurrency, maxMs }, maxMs + 30_000);
  }

  run(job: RunJob): Promise<RunResult> {
    return this.#send({ kind: 'run', ...job }, hardLimitMs(job) + 30_000);
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    await this.#send({ kind: 'close' }, 10_000).catch(() => this.#child.kill('SIGKILL'));
    await exited;
  }
}
