// The API clients every controller and the kubelet use: only @kubernetes/client-node, so the same
// code runs against the emulator and a real kube-apiserver. Plus the few write helpers they share.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../../operator/src/kube/config.ts';

export interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  discovery: DiscoveryV1Api;
  /** Close the connections of a kubeconfig these clients loaded themselves (a given one is the caller's). */
  close(): Promise<void>;
}

/** Load a kubeconfig file with one connection pool per API server (see operator/src/kube/config.ts:
 *  client-node alone opens a new connection for every request). */
export { loadKubeConfig };

export function makeClients(kubeconfig: string | KubeConfig): Clients {
  const owned = typeof kubeconfig === 'string' ? loadKubeConfig(kubeconfig) : undefined;
  const kc = owned ?? (kubeconfig as KubeConfig);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    close: async () => {
      await owned?.close();
    },
  };
}

/** The HTTP status of a client-node error (ApiException.code), or undefined for transport errors. */
export function httpStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown; statusCode?: unknown })?.code ?? (e as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (e: unknown) => httpStatus(e) === 404;
export const isConflict = (e: unknown) => httpStatus(e) === 409;
export const isAlreadyExists = (e: unknown) => httpStatus(e) === 409;

/** Options that make a typed patch call send a JSON merge patch. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Options that make a typed patch call send a JSON patch (RFC 6902). */
export const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** Stable JSON (sorted keys) for hashing and change detection. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A value with nulls and empty objects/arrays removed, for hashing pod templates: clients send
 *  `creationTimestamp: null` or `resources: {}` for "unset" (kubectl rollout undo does), and a
 *  template must hash the same either way. */
export function pruneEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruneEmpty);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = pruneEmpty(x);
      if (p === null || p === undefined) continue;
      if (typeof p === 'object' && Object.keys(p as object).length === 0) continue;
      out[k] = p;
    }
    return out;
  }
  return v;
}

/** Does `labels` match a Kubernetes label selector (matchLabels and matchExpressions)? */
export function matchesSelector(
  labels: Record<string, string> | undefined,
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(l[e.key])) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(l[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
