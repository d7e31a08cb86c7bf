// `npm start`: a local Cairn cluster in the foreground — roots and nodes, each its own `cairn`
// process on its own loopback address (127.0.0.x) with the same ports, data under
// $CAIRN_HOME/local (default ./.cairn). Writes $CAIRN_HOME/local/cluster.json once every process
// is ready, restarts a process that dies, and stops them all on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(new URL('../..', import.meta.url).pathname);
const { values: flags } = parseArgs({
  options: {
    roots: { type: 'string', default: '1' },
    nodes: { type: 'string', default: '3' },
    replicas: { type: 'string', default: '2' },
    'api-port': { type: 'string', default: '9000' },
    'cluster-port': { type: 'string', default: '9100' },
    'first-host': { type: 'string', default: '2' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log('usage: npm start -- [--roots N] [--nodes N] [--replicas R] [--api-port P] [--cluster-port P]\n' +
    '  --nodes 0 runs the roots as combined root+node processes (a one-process cluster with --roots 1).');
  process.exit(0);
}

const home = resolve(process.env.CAIRN_HOME ?? join(repo, '.cairn'));
const localDir = join(home, 'local');
mkdirSync(localDir, { recursive: true });

/** Secrets are made once and kept, so a restarted local cluster keeps its credentials. */
function kept(file: string, make: () => string): string {
  const path = join(localDir, file);
  if (!existsSync(path)) writeFileSync(path, make(), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}
const secret = kept('cluster-secret', () => randomBytes(24).toString('hex'));
const accessKey = kept('access-key', () => 'CAIRN' + randomBytes(8).toString('hex').toUpperCase());
const secretKey = kept('secret-key', () => randomBytes(30).toString('base64url'));

const rootCount = Math.max(1, Number(flags.roots));
const nodeCount = Math.max(0, Number(flags.nodes));
const apiPort = Number(flags['api-port']);
const clusterPort = Number(flags['cluster-port']);
let hostIndex = Number(flags['first-host']);

interface Proc { name: string; roles: string; host: string; dataDir: string; child?: ChildProcess; restarts: number; stopping: boolean }
const procs: Proc[] = [];
for (let i = 0; i < rootCount; i++) procs.push({ name: `root-${i}`, roles: nodeCount === 0 ? 'root,node' : 'root', host: `127.0.0.${hostIndex++}`, dataDir: '', restarts: 0, stopping: false });
for (let i = 0; i < nodeCount; i++) procs.push({ name: `node-${i}`, roles: 'node', host: `127.0.0.${hostIndex++}`, dataDir: '', restarts: 0, stopping: false });
for (const p of procs) { p.dataDir = join(localDir, p.name); mkdirSync(p.dataDir, { recursive: true }); }
const rootUrls = procs.filter((p) => p.roles.includes('root')).map((p) => `http://${p.host}:${clusterPort}`);

function launch(p: Proc): void {
  const args = [join(repo, 'node-runtime/bin/cairn.js'), 'server',
    '--role', p.roles, '--name', p.name, '--data', p.dataDir,
    '--api', `${p.host}:${apiPort}`, '--cluster', `${p.host}:${clusterPort}`, '--advertise', p.host,
    '--roots', rootUrls.join(','), '--replicas', String(flags.replicas)];
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
    try {
      const res = await fetch(`http://${p.host}:${clusterPort}/readyz`);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${p.name} did not become ready on ${p.host}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let stopping = false;
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
for (const p of procs.filter((q) => q.roles.includes('root'))) launch(p);
await Promise.all(procs.filter((q) => q.roles.includes('root')).map((p) => ready(p, Date.now() + 60_000)));
for (const p of procs.filter((q) => !q.roles.includes('root'))) launch(p);
await Promise.all(procs.map((p) => ready(p, Date.now() + 60_000)));

const front = procs.find((p) => p.roles.includes('node')) ?? procs[0]!;
const endpoint = `http://${front.host}:${apiPort}`;
const info = {
  endpoint, accessKey, secretKey, region: 'us-east-1',
  admin: `http://${procs[0]!.host}:${clusterPort}`, clusterSecretFile: join(localDir, 'cluster-secret'),
  processes: procs.map((p) => ({ name: p.name, role: p.roles, pid: p.child?.pid, api: `http://${p.host}:${apiPort}`, cluster: `http://${p.host}:${clusterPort}`, dataDir: p.dataDir })),
};
writeFileSync(join(localDir, 'cluster.json.tmp'), JSON.stringify(info, null, 2));
renameSync(join(localDir, 'cluster.json.tmp'), join(localDir, 'cluster.json'));
console.log(`
Cairn is serving (${rootCount} root${rootCount > 1 ? 's' : ''}, ${nodeCount} node${nodeCount === 1 ? '' : 's'}).
  endpoint     ${endpoint}   (every process's :${apiPort} answers)
  access key   ${accessKey}
  secret key   ${secretKey}
  region       us-east-1
  details      ${join(localDir, 'cluster.json')}
Try:  AWS_ACCESS_KEY_ID=${accessKey} AWS_SECRET_ACCESS_KEY=${secretKey} aws --endpoint-url ${endpoint} s3 ls
      npm run -s cairn -- status        (admin ${info.admin})
Ctrl-C stops the cluster; data stays in ${localDir}.
`);
