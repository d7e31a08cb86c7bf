// The operator's thin I/O shell over the Kubernetes API: raw JSON requests authenticated by the
// kubeconfig (the same way client-node's Watch does), so objects stay plain JSON (no model class
// instances whose Date fields would make every comparison lie). Call sites name what they expect
// with client-node's model types (`request<V1StatefulSet>`); those types say `Date` where the wire
// (and so the object) has an RFC 3339 string, so never read a timestamp field as a Date. Children
// are applied through client-node's KubernetesObjectApi with server-side apply (apply.ts).
import { type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { PooledKubeConfig } from './config.ts';

export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly body: unknown;
  constructor(status: number, reason: string, message: string, body?: unknown) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.body = body;
  }
}

export const isNotFound = (e: unknown): e is KubeApiError => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown): e is KubeApiError => e instanceof KubeApiError && e.status === 409;
export const isGone = (e: unknown): e is KubeApiError => e instanceof KubeApiError && e.status === 410;
/** 422 Invalid: the object (or patch) breaks the schema or a CEL rule; retrying will not help. */
export const isInvalid = (e: unknown): e is KubeApiError => e instanceof KubeApiError && (e.status === 422 || e.status === 400);

export const PATCH_JSON = 'application/json-patch+json';
export const PATCH_MERGE = 'application/merge-patch+json';
export const PATCH_APPLY = 'application/apply-patch+yaml';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  accept?: string;
}

/** Called once per request with its outcome (status, or 0 when no answer came). */
export type RequestObserver = (method: string, resource: string, code: number) => void;

export class KubeRest {
  readonly kc: KubeConfig;
  private readonly observer?: RequestObserver;
  constructor(kc: KubeConfig, observer?: RequestObserver) {
    this.kc = kc;
    this.observer = observer;
  }

  /** Close the kubeconfig's pooled connections (see config.ts). */
  async close(): Promise<void> {
    if (this.kc instanceof PooledKubeConfig) await this.kc.close();
  }

  async request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, opts: RequestOptions = {}): Promise<T> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), method);
    await this.kc.applySecurityAuthentication(ctx);
    const headers = { ...ctx.getHeaders(), accept: opts.accept ?? 'application/json' } as Record<string, string>;
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const signal = opts.signal ?? AbortSignal.timeout(opts.timeoutMs ?? 30_000);
    let res;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        dispatcher: ctx.getDispatcher(),
        signal,
      });
    } catch (e) {
      this.observer?.(method, resourceOf(path), 0);
      throw e;
    }
    this.observer?.(method, resourceOf(path), res.status);
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status >= 400) {
      const status = json as { reason?: string; message?: string } | undefined; // a metav1.Status
      throw new KubeApiError(res.status, status?.reason ?? String(res.status), status?.message ?? (text || `HTTP ${res.status} for ${method} ${path}`), json);
    }
    return json as T;
  }
}

/** The resource a request path names (`leases`, `storageclusters`, ...), for metrics. */
export function resourceOf(path: string): string {
  const segs = path.split('?')[0].split('/').filter(Boolean);
  let rest = segs[0] === 'api' ? segs.slice(2) : segs.slice(3); // /api/v1/... or /apis/<group>/<version>/...
  if (rest[0] === 'watch') rest = rest.slice(1);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  return rest[0] ?? '';
}

/** Where a kind lives in the REST API. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export function collectionPath(r: ResourceRef, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}` : `${base}/${r.plural}`;
}

export function objectPath(r: ResourceRef, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

export const resources = {
  storageClusters: { group: 'storage.cairn.dev', version: 'v1alpha1', plural: 'storageclusters', namespaced: true },
  buckets: { group: 'storage.cairn.dev', version: 'v1alpha1', plural: 'buckets', namespaced: true },
  statefulSets: { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  pods: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  nodes: { group: '', version: 'v1', plural: 'nodes', namespaced: false },
  persistentVolumeClaims: { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
  storageClasses: { group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', namespaced: false },
  secrets: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  services: { group: '', version: 'v1', plural: 'services', namespaced: true },
  events: { group: '', version: 'v1', plural: 'events', namespaced: true },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true },
  crds: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false },
} satisfies Record<string, ResourceRef>;
