// `npm start -- --direct`: a local Cairn cluster without Kubernetes — roots and nodes, each its own
// `cairn server` process on its own loopback address (127.0.0.x by default) with the same ports, data under
// $CAIRN_HOME/local/<name>. Writes cluster.json once every process is ready, restarts a process
// that dies, and stops them all on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { keptSecret, localDir, repoRoot, writeClusterInfo, type ClusterInfo } from './home.ts';

export interface DirectOptions {
  roots: number; nodes: number; replicas: number;
  apiPort: number; clusterPort: number;
  /** Processes get <hostPrefix><firstHost>, <hostPrefix><firstHost + 1>, ... (default 127.0.0.2, .3, ...). */
  hostPrefix: string;
  firstHost: number;
}

interface Proc { name: string; roles: string; host: string; dataDir: string; child?: ChildProcess; restarts: number; stopping: boolean }

export async function runDirect(o: DirectOptions): Promise<void> {
  const dir = localDir();
  const secret = keptSecret(dir, 'cluster-secret', () => randomBytes(24).toString('hex'));
  const accessKey = keptSecret(dir, 'access-key', () => 'CAIRN' + randomBytes(8).toString('hex').toUpperCase());
  const secretKey = keptSecret(dir, 'secret-key', () => randomBytes(30).toString('base64url'));

  let hostIndex = o.firstHost;
  const procs: Proc[] = [];
  const proc = (name: string, roles: string): Proc => ({ name, roles, host: `${o.hostPrefix}${hostIndex++}`, dataDir: join(dir, name), restarts: 0, stopping: false });
  for (let i = 0; i < o.roots; i++) procs.push(proc(`root-${i}`, o.nodes === 0 ? 'root,node' : 'root'));
  for (let i = 0; i < o.nodes; i++) procs.push(proc(`node-${i}`, 'node'));
  for (const p of procs) mkdirSync(p.dataDir, { recursive: true });
  const rootUrls = procs.filter((p) => p.roles.includes('root')).map((p) => `http://${p.host}:${o.clusterPort}`);

  let stopping = false;
  function launch(p: Proc): void {
    const args = [join(repoRoot, 'node-runtime/bin/cairn.js'), 'server',
      '--role', p.roles, '--name', p.name, '--data', p.dataDir,
      '--api', `${p.host}:${o.apiPort}`, '--cluster', `${p.host}:${o.clusterPort}`, '--advertise', p.host,
      '--roots', rootUrls.join(','), '--replicas', String(o.replicas)];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, CAIRN_CLUSTER_SECRET: secret, CAIRN_ACCESS_KEY: accessKey, CAIRN_SECRET_KEY: secretKey },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    p.child = child;
    child.on('exit', (code, signal) => {
      if (p.stopping || stopping) return;
      p.restarts++;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(p.restarts, 6));
      console.error(JSON.stringify({ level: 'warn', component: 'local', msg: 'process exited; restarting', name: p.name, code, signal, delayMs: delay }));
      setTimeout(() => { if (!stopping) launch(p); }, delay);
    });
  }

  async function ready(p: Proc, deadline: number): Promise<void> {
    for (;;) {
      if (stopping) return;
      try {
        const res = await fetch(`http://${p.host}:${o.clusterPort}/readyz`);
        if (res.ok) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`${p.name} did not become ready on ${p.host}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function stop(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    console.error(JSON.stringify({ level: 'info', component: 'local', msg: `stopping on ${signal}` }));
    await Promise.all(procs.map((p) => new Promise<void>((res) => {
      const c = p.child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return res();
      p.stopping = true;
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      c.once('exit', () => { clearTimeout(t); res(); });
      c.kill('SIGTERM');
    })));
    process.exit(0);
  }
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  // Roots first, so nodes find them when they register.
  const roots = procs.filter((q) => q.roles.includes('root'));
  for (const p of roots) launch(p);
  await Promise.all(roots.map((p) => ready(p, Date.now() + 60_000)));
  for (const p of procs.filter((q) => !q.roles.includes('root'))) if (!stopping) launch(p);
  await Promise.all(procs.map((p) => ready(p, Date.now() + 60_000)));
  if (stopping) return;

  const front = procs.find((p) => p.roles.includes('node')) ?? procs[0]!;
  const endpoint = `http://${front.host}:${o.apiPort}`;
  const info: ClusterInfo = {
    mode: 'direct', endpoint, accessKey, secretKey, region: 'us-east-1', credentials: 'root',
    admin: `http://${procs[0]!.host}:${o.clusterPort}`, clusterSecretFile: join(dir, 'cluster-secret'),
    processes: procs.map((p) => ({ name: p.name, role: p.roles, pid: p.child?.pid, api: `http://${p.host}:${o.apiPort}`, cluster: `http://${p.host}:${o.clusterPort}`, dataDir: p.dataDir })),
  };
  const file = writeClusterInfo(dir, info);
  console.log(`
Cairn is serving (${o.roots} root${o.roots > 1 ? 's' : ''}, ${o.nodes} node${o.nodes === 1 ? '' : 's'}; direct processes, no Kubernetes).
  endpoint     ${endpoint}   (every process's :${o.apiPort} answers)
  access key   ${accessKey}
  secret key   ${secretKey}
  region       us-east-1
  details      ${file}
Try:  AWS_ACCESS_KEY_ID=${accessKey} AWS_SECRET_ACCESS_KEY=${secretKey} aws --endpoint-url ${endpoint} s3 ls
      npm run -s cairn -- status        (admin ${info.admin})
Ctrl-C stops the cluster; data stays in ${dir}.
`);
}
