// A pod's volumes as host directories: a PVC is <dataDir>/pvc/<namespace>/<claim> (it outlives the
// pod, so a StatefulSet pod finds its data again); emptyDir and secret/configMap/projected volumes
// live under <dataDir>/pods/<uid>/volumes/<name> and go with the pod. Secret, ConfigMap and projected
// volumes are written the way the kubelet's atomic writer does it — the files live in a timestamped
// folder, `..data` links to the current one and each key is a link through `..data` — so an update
// (refreshConfigVolumes) swaps every file at once and a reader never sees a half-written set.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ContainerConfigError, type ConfigSource } from './container-env.ts';

export function claimDir(dataDir: string, namespace: string, claim: string): string {
  return join(dataDir, 'pvc', namespace, claim);
}

export function podDir(dataDir: string, uid: string): string {
  return join(dataDir, 'pods', uid);
}

type Item = { key: string; path: string; mode?: number };
type Files = Map<string, { data: Buffer; mode: number }>;

function collect(files: Files, data: Record<string, Buffer>, items: Item[] | undefined, mode: number, what: string, optional?: boolean): void {
  const chosen: Item[] = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const it of chosen) {
    if (!Object.hasOwn(data, it.key)) {
      if (optional) continue;
      throw new ContainerConfigError(`${what}: key "${it.key}" not found`);
    }
    files.set(it.path, { data: data[it.key], mode: it.mode ?? mode });
  }
}

const written = new Map<string, string>(); // volume dir → content last written

/** The atomic writer: new files in a fresh `..<stamp>` folder, then `..data` is switched to it. */
export function writeProjection(dir: string, files: Files): boolean {
  const fingerprint = JSON.stringify([...files].sort(([a], [b]) => a.localeCompare(b)).map(([p, f]) => [p, f.mode, f.data.toString('base64')]));
  if (written.get(dir) === fingerprint && existsSync(join(dir, '..data'))) return false;
  mkdirSync(dir, { recursive: true });
  const stamp = `..${Date.now()}_${randomBytes(3).toString('hex')}`;
  for (const [path, f] of files) {
    const file = join(dir, stamp, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f.data);
    chmodSync(file, f.mode);
  }
  mkdirSync(join(dir, stamp), { recursive: true });
  rmSync(join(dir, '..data_tmp'), { force: true });
  symlinkSync(stamp, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  const tops = new Set([...files.keys()].map((p) => p.split('/')[0]));
  for (const name of readdirSync(dir)) {
    if (name.startsWith('..')) {
      if (name !== stamp && name !== '..data') rmSync(join(dir, name), { recursive: true, force: true });
      continue;
    }
    if (!tops.has(name) && lstatSync(join(dir, name)).isSymbolicLink()) unlinkSync(join(dir, name));
  }
  for (const top of tops) if (!existsSync(join(dir, top))) symlinkSync(join('..data', top), join(dir, top));
  written.set(dir, fingerprint);
  return true;
}

/** The files of a secret / configMap / projected volume; undefined for other volume types. */
function projectedFiles(v: any, src: ConfigSource): Files | undefined {
  const files: Files = new Map();
  const read = (kind: 'secret' | 'configMap', name: string): Record<string, Buffer> | undefined => {
    if (src.bytes) return src.bytes(kind, name);
    const text = kind === 'secret' ? src.secret(name) : src.configMap(name);
    return text && Object.fromEntries(Object.entries(text).map(([k, t]) => [k, Buffer.from(t)]));
  };
  if (v.secret || v.configMap) {
    const ref = v.secret ? { name: v.secret.secretName, ...v.secret } : v.configMap;
    const data = read(v.secret ? 'secret' : 'configMap', ref.name);
    const what = `${v.secret ? 'secret' : 'configmap'} "${ref.name}"`;
    if (!data && !ref.optional) throw new ContainerConfigError(`${what} not found`);
    collect(files, data ?? {}, ref.items, ref.defaultMode ?? 0o644, what, ref.optional);
    return files;
  }
  if (v.projected) {
    for (const s of v.projected.sources ?? []) {
      const ref = s.secret ?? s.configMap;
      if (!ref) continue; // serviceAccountToken / downwardAPI / clusterTrustBundle sources are not emulated
      const data = read(s.secret ? 'secret' : 'configMap', ref.name);
      const what = `${s.secret ? 'secret' : 'configmap'} "${ref.name}"`;
      if (!data && !ref.optional) throw new ContainerConfigError(`${what} not found`);
      collect(files, data ?? {}, ref.items, v.projected.defaultMode ?? 0o644, what, ref.optional);
    }
    return files;
  }
  return undefined;
}

/** Rewrite the secret/configMap/projected volumes of a running pod from fresh data (the kubelet's
 *  periodic sync); returns the names of the volumes that changed. */
export function refreshConfigVolumes(pod: any, dataDir: string, src: ConfigSource): string[] {
  const changed: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    const files = projectedFiles(v, src);
    if (files && writeProjection(join(podDir(dataDir, pod.metadata.uid), 'volumes', v.name), files)) changed.push(v.name);
  }
  return changed;
}

/** Make every volume of the pod exist on disk; returns volume name → host directory. */
export function prepareVolumes(pod: any, dataDir: string, src: ConfigSource): Record<string, string> {
  const ns = pod.metadata.namespace ?? 'default';
  const dirs: Record<string, string> = {};
  for (const v of pod.spec?.volumes ?? []) {
    const own = join(podDir(dataDir, pod.metadata.uid), 'volumes', v.name);
    if (v.persistentVolumeClaim) {
      dirs[v.name] = claimDir(dataDir, ns, v.persistentVolumeClaim.claimName);
      mkdirSync(dirs[v.name], { recursive: true });
    } else if (v.emptyDir) {
      mkdirSync(own, { recursive: true });
      dirs[v.name] = own;
    } else if (v.hostPath) {
      dirs[v.name] = v.hostPath.path;
      if (v.hostPath.type === 'DirectoryOrCreate') mkdirSync(v.hostPath.path, { recursive: true });
    } else if (v.secret || v.configMap || v.projected) {
      writeProjection(own, projectedFiles(v, src)!);
      dirs[v.name] = own;
    } else {
      throw new ContainerConfigError(`volume "${v.name}": type not supported by the process kubelet`);
    }
  }
  return dirs;
}

/** Remove what belongs to the pod alone (emptyDir, secret files, scratch); PVC directories stay. */
export function removePodDirs(dataDir: string, uid: string): void {
  const dir = podDir(dataDir, uid);
  for (const k of written.keys()) if (k.startsWith(dir)) written.delete(k);
  rmSync(dir, { recursive: true, force: true });
}
