// A pod's volumes as host directories: a PVC is <dataDir>/pvc/<namespace>/<claim> (it outlives the
// pod, so a StatefulSet pod finds its data again); emptyDir and secret/configMap/projected volumes
// live under <dataDir>/pods/<uid>/volumes/<name> and go with the pod. Secret and ConfigMap contents
// are written once, when the pod starts (no live update as a real kubelet does).
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ContainerConfigError, type ConfigSource } from './container-env.ts';

export function claimDir(dataDir: string, namespace: string, claim: string): string {
  return join(dataDir, 'pvc', namespace, claim);
}

export function podDir(dataDir: string, uid: string): string {
  return join(dataDir, 'pods', uid);
}

type Item = { key: string; path: string; mode?: number };

function writeKeys(dir: string, data: Record<string, string>, items: Item[] | undefined, mode: number, what: string, optional?: boolean): void {
  mkdirSync(dir, { recursive: true });
  const chosen: Item[] = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const it of chosen) {
    if (!Object.hasOwn(data, it.key)) {
      if (optional) continue;
      throw new ContainerConfigError(`${what}: key "${it.key}" not found`);
    }
    const file = join(dir, it.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data[it.key]);
    chmodSync(file, it.mode ?? mode);
  }
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
    } else if (v.secret || v.configMap) {
      const ref = v.secret ? { name: v.secret.secretName, ...v.secret } : v.configMap;
      const data = v.secret ? src.secret(ref.name) : src.configMap(ref.name);
      const what = `${v.secret ? 'secret' : 'configmap'} "${ref.name}"`;
      if (!data && !ref.optional) throw new ContainerConfigError(`${what} not found`);
      writeKeys(own, data ?? {}, ref.items, ref.defaultMode ?? 0o644, what, ref.optional);
      dirs[v.name] = own;
    } else if (v.projected) {
      for (const s of v.projected.sources ?? []) {
        const ref = s.secret ?? s.configMap;
        if (!ref) continue; // serviceAccountToken / downwardAPI / clusterTrustBundle sources are not emulated
        const data = s.secret ? src.secret(ref.name) : src.configMap(ref.name);
        const what = `${s.secret ? 'secret' : 'configmap'} "${ref.name}"`;
        if (!data && !ref.optional) throw new ContainerConfigError(`${what} not found`);
        writeKeys(own, data ?? {}, ref.items, v.projected.defaultMode ?? 0o644, what, ref.optional);
      }
      mkdirSync(own, { recursive: true });
      dirs[v.name] = own;
    } else {
      throw new ContainerConfigError(`volume "${v.name}": type not supported by the process kubelet`);
    }
  }
  return dirs;
}

/** Remove what belongs to the pod alone (emptyDir, secret files, scratch); PVC directories stay. */
export function removePodDirs(dataDir: string, uid: string): void {
  rmSync(podDir(dataDir, uid), { recursive: true, force: true });
}
