// Cairn as a benchmark target: one `cairn server --role root,node`, or 1 root + N nodes with a
// default of R replicas, every process on its own loopback address with data in a temp dir. Uses
// the shared test harness (hack/testing/cairn.ts startCairnProcess) when it exists, otherwise
// spawns node-runtime/bin/cairn.js directly with the flags of the agreed command line.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stripSources } from '../../../node-runtime/bin/stripped-sources.js';
import { freePort, loopbackAddress } from '../../testing/net.ts';
import { answers, spawnChild, waitServing } from './proc.ts';
import type { RunningTarget, ServerProcess } from './types.ts';

const repo = new URL('../../../', import.meta.url).pathname;
const harnessPath = join(repo, 'hack/testing/cairn.ts');
const cairnBin = join(repo, 'node-runtime/bin/cairn.js');

interface Proc extends ServerProcess {
  endpoint: string;
  cluster: string;
  stop(): Promise<void>;
}

interface Common {
  env: Record<string, string>;
  secret: string;
  accessKey: string;
  secretKey: string;
  replicas: number;
  startMs: number;
  harness: boolean;
}

async function startOne(dir: string, opts: Common & { name: string; roles: ('root' | 'node')[]; roots?: string[] }): Promise<Proc> {
  const host = loopbackAddress();
  const dataDir = join(dir, opts.name);
  mkdirSync(dataDir, { recursive: true });
  const env = { CAIRN_LOG_LEVEL: process.env.CAIRN_LOG_LEVEL ?? 'warn', ...opts.env };
  if (opts.harness && existsSync(harnessPath)) {
    const modPath = harnessPath; // a variable: the harness may not exist yet when this type-checks
    const { startCairnProcess } = (await import(modPath)) as {
      startCairnProcess: (o: Record<string, unknown>) => Promise<{
        name: string;
        endpoint: string;
        cluster: string;
        pid: number;
        kill(s?: string): Promise<void>;
        stop(): Promise<void>;
        cleanup(): Promise<void>;
      }>;
    };
    const p = await startCairnProcess({
      roles: opts.roles,
      name: opts.name,
      host,
      dataDir,
      roots: opts.roots,
      secret: opts.secret,
      replicas: opts.replicas,
      accessKey: opts.accessKey,
      secretKey: opts.secretKey,
      env,
    });
    return {
      name: p.name,
      pid: p.pid,
      dataDir,
      endpoint: p.endpoint,
      cluster: p.cluster,
      kill: () => p.kill('SIGKILL'),
      stop: async () => {
        await p.stop();
      },
    };
  }
  const [api, cluster] = [await freePort(host), await freePort(host)];
  const args = [
    cairnBin,
    'server',
    '--role',
    opts.roles.join(','),
    '--name',
    opts.name,
    '--data',
    dataDir,
    '--api',
    `${host}:${api}`,
    '--cluster',
    `${host}:${cluster}`,
    '--advertise',
    host,
    '--secret',
    opts.secret,
    '--access-key',
    opts.accessKey,
    '--secret-key',
    opts.secretKey,
    '--replicas',
    String(opts.replicas),
    '--region',
    'us-east-1',
  ];
  if (opts.roots?.length) args.push('--roots', opts.roots.join(','));
  const child = spawnChild(opts.name, process.execPath, args, env);
  const p: Proc = {
    name: opts.name,
    pid: child.pid,
    dataDir,
    endpoint: `http://${host}:${api}`,
    cluster: `http://${host}:${cluster}`,
    kill: () => child.stop('SIGKILL', 0),
    stop: () => child.stop(),
  };
  try {
    await waitServing(child, () => answers(`${p.cluster}/readyz`, true), opts.startMs);
  } catch (e) {
    await child.stop('SIGKILL', 0);
    throw e;
  }
  return p;
}

async function adminStatus(cluster: string, secret: string): Promise<{ members?: { roles?: string[]; state?: string }[] } | undefined> {
  try {
    const res = await fetch(`${cluster}/admin/v1/status`, { headers: { authorization: `Bearer ${secret}` }, signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as { members?: { roles?: string[]; state?: string }[] }) : undefined;
  } catch {
    return undefined;
  }
}

export interface CairnOptions {
  nodes: number;
  replicas: number;
  startMs?: number;
  harness?: boolean;
  env?: Record<string, string>;
}

/** nodes = 0: a single `--role root,node` process; nodes > 0: 1 root and that many nodes. */
export async function startCairn(dir: string, opts: CairnOptions): Promise<RunningTarget> {
  // Sources stripped ahead, as the image runs them (node-runtime/bin/stripped-sources.js), unless
  // CAIRN_STRIPPED_DIR says where they are, or that they are not (a directory that does not exist).
  const env = { ...opts.env };
  if (!env.CAIRN_STRIPPED_DIR && !process.env.CAIRN_STRIPPED_DIR) {
    env.CAIRN_STRIPPED_DIR = join(dir, 'stripped');
    stripSources(env.CAIRN_STRIPPED_DIR);
  }
  const common: Common = {
    env,
    secret: 'bench-cluster-secret',
    accessKey: 'BENCHACCESSKEY',
    secretKey: 'bench-secret-key-0123456789',
    replicas: opts.replicas,
    startMs: opts.startMs ?? 30_000,
    harness: opts.harness ?? true,
  };
  const procs: Proc[] = [];
  const stop = async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop().catch(() => p.kill())));
  };
  try {
    if (opts.nodes === 0) {
      procs.push(await startOne(dir, { ...common, name: 'single', roles: ['root', 'node'] }));
    } else {
      const root = await startOne(dir, { ...common, name: 'root-0', roles: ['root'] });
      procs.push(root);
      procs.push(
        ...(await Promise.all(
          Array.from({ length: opts.nodes }, (_, i) => startOne(dir, { ...common, name: `node-${i}`, roles: ['node'], roots: [root.cluster] })),
        )),
      );
      // Ready means every node is an active member of the map, when the admin API can say so.
      const deadline = Date.now() + common.startMs;
      while (Date.now() < deadline) {
        const s = await adminStatus(root.cluster, common.secret);
        if (!s) break; // no admin status (yet): readiness of each process is all we can check
        if ((s.members ?? []).filter((m) => m.roles?.includes('node') && m.state === 'active').length >= opts.nodes) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const storage = opts.nodes === 0 ? procs : procs.slice(1);
  return {
    spec: {
      name: opts.nodes === 0 ? 'cairn-1' : `cairn-1r${opts.nodes}n-R${opts.replicas}`,
      kind: 's3',
      bucket: 'bench',
      endpoints: storage.map((p) => p.endpoint),
      accessKey: common.accessKey,
      secretKey: common.secretKey,
      region: 'us-east-1',
      headers: { 'x-cairn-replicas': String(opts.replicas) },
    },
    pids: () => procs.map((p) => p.pid),
    nodes: storage,
    admin: { url: procs[0]!.cluster, secret: common.secret },
    stop,
  };
}
