// Where `npm start` keeps its state (${CAIRN_HOME:-.cairn}/local) and the cluster.json it writes
// for people and scripts (`cairn status`, the tests): shared by the direct and Kubernetes paths.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(new URL('../..', import.meta.url).pathname);

/** One storage process of the local cluster: a `cairn server` process or a pod running one. */
export interface LocalProcess {
  name: string;
  role: string; // 'root', 'node' or 'root,node'
  pid?: number;
  api: string; // file (S3) API URL
  cluster: string; // cluster-port URL (admin, metrics, readyz)
  dataDir: string; // its data directory (a PVC directory on the Kubernetes path)
}

export interface ClusterInfo {
  mode: 'direct' | 'kubernetes';
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Whose keys accessKey/secretKey are, e.g. 'root' or 'bucket photos'. */
  credentials: string;
  admin: string;
  clusterSecretFile: string;
  processes: LocalProcess[];
  [extra: string]: unknown;
}

export function localDir(): string {
  const dir = join(resolve(process.env.CAIRN_HOME ?? join(repoRoot, '.cairn')), 'local');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A secret made once and kept, so a restarted local cluster keeps its credentials. */
export function keptSecret(dir: string, file: string, make: () => string): string {
  const path = join(dir, file);
  if (!existsSync(path)) writeFileSync(path, make(), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}

/** Write cluster.json atomically (readers never see half a file); mode 600: it holds keys. */
export function writeClusterInfo(dir: string, info: ClusterInfo): string {
  const path = join(dir, 'cluster.json');
  writeFileSync(`${path}.tmp`, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return path;
}
