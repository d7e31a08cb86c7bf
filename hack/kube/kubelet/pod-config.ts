// The configuration a pod's containers read at start: the Secrets and ConfigMaps named anywhere in
// its spec (env, envFrom, volumes, projected sources), fetched through the API.
import type { Clients } from '../controllers/client.ts';
import { isNotFound } from '../controllers/client.ts';
import type { KubeObject } from '../controllers/informers.ts';
import type { ConfigSource } from './container-env.ts';

/** Secrets and ConfigMaps the pod references, read once at start (as the kubelet resolves env);
 *  Secret data and ConfigMap binaryData are base64-decoded: text for env, bytes for volume files.
 *  A missing object reads as undefined. */
export async function fetchPodConfig(clients: Clients, pod: KubeObject): Promise<ConfigSource> {
  const ns = pod.metadata.namespace!;
  const names = referencedConfig(pod.spec);
  const secrets = new Map<string, Record<string, Buffer>>();
  const configMaps = new Map<string, Record<string, Buffer>>();
  const read = async (fn: () => Promise<any>) => {
    try {
      return await fn();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  for (const name of names.secret) {
    const s = await read(() => clients.core.readNamespacedSecret({ namespace: ns, name }));
    if (s) secrets.set(name, Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64')])));
  }
  for (const name of names.configMap) {
    const c = await read(() => clients.core.readNamespacedConfigMap({ namespace: ns, name }));
    if (c) {
      configMaps.set(name, {
        ...Object.fromEntries(Object.entries(c.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64')])),
        ...Object.fromEntries(Object.entries(c.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'utf8')])),
      });
    }
  }
  const text = (m?: Record<string, Buffer>) => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.toString('utf8')])) : undefined);
  return {
    secret: (n) => text(secrets.get(n)),
    configMap: (n) => text(configMaps.get(n)),
    bytes: (kind, n) => (kind === 'secret' ? secrets : configMaps).get(n),
  };
}

/** The Secrets and ConfigMaps a pod spec (or a part of it, e.g. its volumes) names. */
export function referencedConfig(spec: unknown): { secret: Set<string>; configMap: Set<string> } {
  const names = { secret: new Set<string>(), configMap: new Set<string>() };
  const visit = (o: any): void => {
    if (!o || typeof o !== 'object') return;
    if (Array.isArray(o)) {
      o.forEach(visit);
      return;
    }
    if (o.secretKeyRef?.name) names.secret.add(o.secretKeyRef.name);
    if (o.configMapKeyRef?.name) names.configMap.add(o.configMapKeyRef.name);
    if (o.secretRef?.name) names.secret.add(o.secretRef.name);
    if (o.configMapRef?.name) names.configMap.add(o.configMapRef.name);
    if (o.secret?.secretName) names.secret.add(o.secret.secretName);
    if (o.secret?.name) names.secret.add(o.secret.name);
    if (o.configMap?.name) names.configMap.add(o.configMap.name);
    for (const v of Object.values(o)) visit(v);
  };
  visit(spec);
  return names;
}
