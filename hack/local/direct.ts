// `npm start -- --direct`: a local Cairn cluster without Kubernetes — roots and nodes, each its own
// `cairn server` process on its own loopback address (127.0.0.x by default) with the same ports, data under
// $CAIRN_HOME/local/<name>. Writes cluster.json once every process is ready (and again whenever one is
// restarted, so its pids stay true), restarts a process that dies, and stops them all on SIGINT/SIGTERM.
//
// The processes are this launcher's alone: each runs in a process group of its own (a Ctrl-C in the
// terminal reaches only the launcher, which sends each process one SIGTERM) and exits by itself when
// the launcher's end of its stdin closes (the launcher died, however). Their JSON logs go to
// $CAIRN_HOME/local/logs/<name>.log; the terminal gets a summary, and each error a process logs as a
// line. A start that fails stops whatever it started and says why.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { keptSecret, localDir, repoRoot, writeClusterInfo, type ClusterInfo } from './home.ts';
import { errorLine } from './logs.ts';

export interface DirectOptions {
  roots: number;
  nodes: number;
  replicas: number;
  apiPort: number;
  clusterPort: number;
  /** Processes get <hostPrefix><firstHost>, <hostPrefix><firstHost + 1>, ... (default 127.0.0.2, .3, ...). */
  hostPrefix: string;
  firstHost: number;
  /** How long every process gets to become ready (default 60 s). */
  readyTimeoutMs?: number;
}

interface Proc {
  name: string;
  roles: string;
  host: string;
  dataDir: string;
  log: WriteStream;
  child?: ChildProcess;
  restarts: number;
}

export async function runDirect(o: DirectOptions): Promise<void> {
  const dir = localDir();
  const secret = keptSecret(dir, 'cluster-secret', () => randomBytes(24).toString('hex'));
  const accessKey = keptSecret(dir, 'access-key', () => 'CAIRN' + randomBytes(8).toString('hex').toUpperCase());
  const secretKey = keptSecret(dir, 'secret-key', () => randomBytes(30).toString('base64url'));
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });

  let hostIndex = o.firstHost;
  const procs: Proc[] = [];
  const proc = (name: string, roles: string): Proc => ({
    name,
    roles,
    host: `${o.hostPrefix}${hostIndex++}`,
    dataDir: join(dir, name),
    restarts: 0,
    log: createWriteStream(join(logs, `${name}.log`), { flags: 'a' }),
  });
  for (let i = 0; i < o.roots; i++) procs.push(proc(`root-${i}`, o.nodes === 0 ? 'root,node' : 'root'));
  for (let i = 0; i < o.nodes; i++) procs.push(proc(`node-${i}`, 'node'));
  for (const p of procs) mkdirSync(p.dataDir, { recursive: true });
  const rootUrls = procs.filter((p) => p.roles.includes('root')).map((p) => `http://${p.host}:${o.clusterPort}`);
  const clusterUrl = (p: Proc) => `http://${p.host}:${o.clusterPort}`;

  let stopping = false;
  let info: ClusterInfo | undefined;
  // Whatever happens to the launcher, its processes go with it (the stdin rule covers SIGKILL too).
  process.on('exit', () => {
    for (const p of procs) killGroup(p.child, 'SIGKILL');
  });

  function launch(p: Proc): void {
    const args = [
      join(repoRoot, 'node-runtime/bin/cairn.js'),
      'server',
      '--role',
      p.roles,
      '--name',
      p.name,
      '--data',
      p.dataDir,
      '--api',
      `${p.host}:${o.apiPort}`,
      '--cluster',
      `${p.host}:${o.clusterPort}`,
      '--advertise',
      p.host,
      '--roots',
      rootUrls.join(','),
      '--replicas',
      String(o.replicas),
    ];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, CAIRN_CLUSTER_SECRET: secret, CAIRN_ACCESS_KEY: accessKey, CAIRN_SECRET_KEY: secretKey, CAIRN_EXIT_ON_STDIN_CLOSE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    p.child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.pipe(p.log, { end: false });
      lines(stream, (line) => {
        const e = errorLine(line);
        if (e) console.error(`${p.name}: ${e}`);
      });
    }
    child.on('exit', (code, signal) => {
      if (stopping) return;
      p.restarts++;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(p.restarts, 6));
      console.error(`${p.name} exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)} s — log: ${join(logs, `${p.name}.log`)}`);
      setTimeout(() => {
        if (stopping) return;
        launch(p);
        if (info) writeInfo(); // cluster.json names the process running now
      }, delay);
    });
  }

  /** Ready, or an error that says why not (the process's own readiness reason, or that it keeps exiting). */
  async function ready(p: Proc, deadline: number): Promise<void> {
    let why = 'its cluster port never answered';
    for (;;) {
      if (stopping) return;
      try {
        // Bounded: whatever holds the port may take the connection and never answer.
        const res = await fetch(`${clusterUrl(p)}/readyz`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) return;
        why = ((await res.json()) as { reason?: string }).reason ?? `readyz answered ${res.status}`;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        const restarts = p.restarts ? ` (it exited ${p.restarts} time${p.restarts > 1 ? 's' : ''})` : '';
        throw new Error(
          `${p.name} did not become ready on ${p.host} within ${(o.readyTimeoutMs ?? 60_000) / 1000} s${restarts}: ${why}. Its log: ${join(logs, `${p.name}.log`)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function stopAll(): Promise<void> {
    stopping = true;
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((res) => {
            const c = p.child;
            if (!c || c.exitCode !== null || c.signalCode !== null) return res();
            const t = setTimeout(() => killGroup(c, 'SIGKILL'), 10_000);
            c.once('exit', () => {
              clearTimeout(t);
              res();
            });
            killGroup(c, 'SIGTERM'); // once: the terminal's Ctrl-C did not reach the process
          }),
      ),
    );
    for (const p of procs) p.log.end();
  }

  async function stop(signal: string): Promise<void> {
    if (stopping) return;
    console.error(`stopping on ${signal}`);
    await stopAll();
    process.exit(0);
  }
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  function writeInfo(): string {
    info!.processes = procs.map((p) => ({
      name: p.name,
      role: p.roles,
      pid: p.child?.pid,
      api: `http://${p.host}:${o.apiPort}`,
      cluster: clusterUrl(p),
      dataDir: p.dataDir,
    }));
    return writeClusterInfo(dir, info!);
  }

  try {
    // Roots first, so nodes find them when they register.
    const roots = procs.filter((q) => q.roles.includes('root'));
    const timeout = o.readyTimeoutMs ?? 60_000;
    for (const p of roots) launch(p);
    await Promise.all(roots.map((p) => ready(p, Date.now() + timeout)));
    for (const p of procs.filter((q) => !q.roles.includes('root'))) if (!stopping) launch(p);
    await Promise.all(procs.map((p) => ready(p, Date.now() + timeout)));
  } catch (e) {
    console.error(`npm start failed: ${(e as Error).message}\nstopping the processes it started`);
    await stopAll();
    process.exit(1);
  }
  if (stopping) return;

  const front = procs.find((p) => p.roles.includes('node')) ?? procs[0]!;
  const endpoint = `http://${front.host}:${o.apiPort}`;
  // Every process serves the web console beside its file API (the --api host, port 9001).
  const consoleUrl = `http://${front.host}:9001`;
  info = {
    mode: 'direct',
    endpoint,
    console: consoleUrl,
    accessKey,
    secretKey,
    region: 'us-east-1',
    credentials: 'root',
    admin: clusterUrl(procs[0]!),
    clusterSecretFile: join(dir, 'cluster-secret'),
    logs,
    processes: [],
  };
  const file = writeInfo();
  console.log(`
Cairn is serving (${o.roots} root${o.roots > 1 ? 's' : ''}, ${o.nodes} node${o.nodes === 1 ? '' : 's'}; direct processes, no Kubernetes).
  endpoint     ${endpoint}   (every process's :${o.apiPort} answers)
  console      ${consoleUrl}   (sign in with an access key and its secret, e.g. these)
  access key   ${accessKey}
  secret key   ${secretKey}
  region       us-east-1
  details      ${file}
  logs         ${logs}/<name>.log   (errors are also printed here)
Try:  AWS_ACCESS_KEY_ID=${accessKey} AWS_SECRET_ACCESS_KEY=${secretKey} aws --endpoint-url ${endpoint} s3 ls
      npm run -s cairn -- status        (admin ${info.admin})
Ctrl-C stops the cluster; data stays in ${dir}.
`);
}

function killGroup(c: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, signal);
  } catch {
    /* already gone */
  }
}

/** Call `each` with every complete line of a stream. */
function lines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  let rest = '';
  stream.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) each(l);
  });
}
