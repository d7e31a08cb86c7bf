// Test harness: a real `cairn server` child process on its own loopback address, in its own process
// group (so a kill reaches everything it started), killed on cleanup and when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, loopbackAddress, waitFor } from './net.ts';
import * as Minio from 'minio';

export interface CairnProcessOptions {
  roles?: ('root' | 'node')[];
  name?: string;
  host?: string;
  dataDir?: string;
  roots?: string[] /* cluster URLs of roots */;
  zone?: string;
  secret?: string;
  replicas?: number;
  accessKey?: string;
  secretKey?: string;
  env?: Record<string, string>;
  extraArgs?: string[];
}

export interface CairnProcess {
  name: string;
  host: string;
  endpoint: string /* file API URL */;
  cluster: string /* cluster port URL */;
  accessKey: string;
  secretKey: string;
  dataDir: string;
  pid: number;
  waitReady(timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
  /** Stop and start again; `env` (optional) is added to the environment from now on. */
  restart(env?: Record<string, string>): Promise<void>;
  cleanup(): Promise<void>;
  /** The last ~64 KiB of the process's stdout and stderr (for failure messages). */
  output(): string;
}

const repo = resolve(new URL('../..', import.meta.url).pathname);
const bin = join(repo, 'node-runtime/bin/cairn.js');
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) killGroup(c, 'SIGKILL');
});

function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-c.pid!, signal);
  } catch {
    /* already gone */
  }
}

function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((r) => c.once('exit', () => r()));
}

/** Start `cairn server` and resolve once GET /readyz on its cluster port answers 200. */
export async function startCairnProcess(opts: CairnProcessOptions = {}): Promise<CairnProcess> {
  const host = opts.host ?? loopbackAddress();
  const [apiPort, clusterPort] = [await freePort(host), await freePort(host)];
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'cairn-proc-')));
  const name = opts.name ?? `cairn-${host}`;
  const accessKey = opts.accessKey ?? 'TEST' + randomBytes(8).toString('hex').toUpperCase();
  const secretKey = opts.secretKey ?? randomBytes(24).toString('base64url');
  const secret = opts.secret ?? randomBytes(16).toString('hex');
  const args = [bin, 'server', '--name', name, '--data', dataDir, '--api', `${host}:${apiPort}`, '--cluster', `${host}:${clusterPort}`, '--advertise', host];
  if (opts.roles) args.push('--role', opts.roles.join(','));
  if (opts.roots?.length) args.push('--roots', opts.roots.join(','));
  if (opts.zone) args.push('--zone', opts.zone);
  if (opts.replicas !== undefined) args.push('--replicas', String(opts.replicas));
  args.push(...(opts.extraArgs ?? []));
  // CAIRN_EXIT_ON_STDIN_CLOSE: the child exits when our end of its stdin closes, so even a test
  // process killed with SIGKILL (e.g. by the runner's time limit) leaves no server behind.
  let env: Record<string, string | undefined> = {
    ...process.env,
    CAIRN_CLUSTER_SECRET: secret,
    CAIRN_ACCESS_KEY: accessKey,
    CAIRN_SECRET_KEY: secretKey,
    CAIRN_EXIT_ON_STDIN_CLOSE: '1',
    ...opts.env,
  };

  let child!: ChildProcess;
  let out = '';
  const launch = () => {
    child = spawn(process.execPath, args, { cwd: repo, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    const c = child;
    c.once('exit', () => live.delete(c));
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-65536);
    };
    c.stdout!.on('data', keep);
    c.stderr!.on('data', keep);
  };

  const p: CairnProcess = {
    name,
    host,
    dataDir,
    accessKey,
    secretKey,
    endpoint: `http://${host}:${apiPort}`,
    cluster: `http://${host}:${clusterPort}`,
    get pid() {
      return child.pid!;
    },
    output: () => out,
    async waitReady(timeoutMs = 20_000) {
      const c = child;
      await waitFor(
        async () => {
          if (c.exitCode !== null || c.signalCode !== null) throw new Error(`cairn ${name} exited (${c.exitCode ?? c.signalCode}):\n${out.slice(-4000)}`);
          const res = await fetch(`${p.cluster}/readyz`).catch(() => undefined);
          await res?.body?.cancel();
          return res?.status === 200;
        },
        { timeoutMs, intervalMs: 50, what: `cairn ${name} ready` },
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n--- output ---\n${out.slice(-4000)}`);
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      killGroup(child, signal);
      await exited(child);
    },
    async stop() {
      const c = child;
      killGroup(c, 'SIGTERM');
      const timer = setTimeout(() => killGroup(c, 'SIGKILL'), 10_000);
      await exited(c);
      clearTimeout(timer);
    },
    async restart(more?: Record<string, string>) {
      await p.stop();
      if (more) env = { ...env, ...more };
      launch();
      await p.waitReady();
    },
    async cleanup() {
      await p.kill('SIGKILL');
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  launch();
  try {
    await p.waitReady();
  } catch (e) {
    await p.cleanup();
    throw e;
  }
  return p;
}

/** A `minio` client for a process's file API, signed with its root key pair (path-style). */
export function s3Client(p: CairnProcess, opts: Partial<Minio.ClientOptions> = {}): Minio.Client {
  const u = new URL(p.endpoint);
  return new Minio.Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: p.accessKey,
    secretKey: p.secretKey,
    pathStyle: true,
    region: 'us-east-1',
    ...opts,
  });
}

/** SHA-256 (hex) of an object's body read through `client`: compare with what was written. */
export async function readSha256(client: Minio.Client, bucket: string, key: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const b of await client.getObject(bucket, key)) hash.update(b as Buffer);
  return hash.digest('hex');
}

/** The chunk files in a member's data directory (`chunks/<prefix>/<id>`), as full paths; none when it has no store yet. */
export async function chunkFiles(p: Pick<CairnProcess, 'dataDir'>): Promise<string[]> {
  const dir = join(p.dataDir, 'chunks');
  const out: string[] = [];
  for (const d of await readdir(dir).catch(() => [] as string[]))
    for (const f of await readdir(join(dir, d)).catch(() => [] as string[])) out.push(join(dir, d, f));
  return out;
}
