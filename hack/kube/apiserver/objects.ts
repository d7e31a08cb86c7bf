// Object rules shared by every write: names, generateName, uids, timestamps, generation, the
// built-in defaults clients rely on, and the fields each endpoint (main/status) may change.
import { randomUUID } from 'node:crypto';
import type { FieldError } from './errors.ts';
import type { ResourceType } from './registry.ts';
import type { KObject } from './store.ts';

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const labelNameKinds = new Set(['namespaces', 'services']);

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function newUid(): string {
  return randomUUID();
}

const suffixChars = 'bcdfghjklmnpqrstvwxz2456789';
export function generatedName(prefix: string): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += suffixChars[Math.floor(Math.random() * suffixChars.length)];
  return `${prefix.slice(0, 58)}${s}`;
}

/** metadata.name and label checks, with Kubernetes' messages. */
export function validateMeta(t: ResourceType, obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = obj.metadata.name;
  if (!name) return [{ field: 'metadata.name', type: 'FieldValueRequired', detail: 'name or generateName is required' }];
  if (labelNameKinds.has(t.resource) && !t.group) {
    if (!label.test(name) || name.length > 63)
      errs.push({
        field: 'metadata.name',
        type: 'FieldValueInvalid',
        badValue: name,
        detail: `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      });
  } else if (!subdomain.test(name) || name.length > 253) {
    errs.push({
      field: 'metadata.name',
      type: 'FieldValueInvalid',
      badValue: name,
      detail: `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    });
  }
  (obj.metadata.ownerReferences ?? []).forEach((r, i) => {
    for (const k of ['apiVersion', 'kind', 'name', 'uid'] as const) {
      if (!r[k]) errs.push({ field: `metadata.ownerReferences[${i}].${k}`, type: 'FieldValueInvalid', badValue: '', detail: `${k} must not be empty` });
    }
  });
  if ((obj.metadata.ownerReferences ?? []).filter((r) => r.controller).length > 1) {
    errs.push({
      field: 'metadata.ownerReferences',
      type: 'FieldValueInvalid',
      badValue: obj.metadata.ownerReferences,
      detail: 'Only one reference can have Controller set to true',
    });
  }
  const annotationBytes = Object.entries(obj.metadata.annotations ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
  // The limit a client-side `kubectl apply` of a large CRD runs into (last-applied annotation).
  if (annotationBytes > 262144) errs.push({ field: 'metadata.annotations', type: 'FieldValueTooLong', detail: 'may not be more than 262144 bytes' });
  for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) {
    if (typeof v !== 'string') errs.push({ field: `metadata.labels`, type: 'FieldValueInvalid', badValue: v, detail: 'label values must be strings' });
    else if (v.length > 63 || (v !== '' && !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v))) {
      errs.push({
        field: `metadata.labels`,
        type: 'FieldValueInvalid',
        badValue: v,
        detail: `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      });
    }
    void k;
  }
  return errs;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with object keys sorted (undefined members dropped), for order-blind equality. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isPlainObject(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** The part of an object whose change bumps metadata.generation: all but metadata (and status when it is a subresource). */
export function specOf(t: ResourceType, obj: KObject): string {
  const { metadata, apiVersion, kind, ...rest } = obj;
  void metadata;
  void apiVersion;
  void kind;
  if (t.status) delete rest.status;
  return canonicalJson(rest);
}

let nextClusterIp = 1;
/** Create-time defaults of built-in kinds that controllers and clients read back. */
export function defaultBuiltin(t: ResourceType, obj: KObject): void {
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const key = `${t.group}/${t.resource}`;
  if (key === '/namespaces') {
    obj.spec = { finalizers: ['kubernetes'], ...spec };
    obj.status = { phase: 'Active' };
  }
  if (key === '/pods') {
    obj.spec = { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', ...spec };
    obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
  }
  if (key === '/persistentvolumeclaims') obj.status = { phase: 'Pending' };
  if (key === '/services') {
    const ports = (spec.ports as Record<string, unknown>[] | undefined)?.map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p }));
    const headless = spec.clusterIP === 'None';
    const ip = headless ? 'None' : ((spec.clusterIP as string | undefined) ?? `10.96.${Math.floor(nextClusterIp / 250) % 250}.${(nextClusterIp++ % 250) + 1}`);
    obj.spec = { type: 'ClusterIP', sessionAffinity: 'None', ...spec, clusterIP: ip, clusterIPs: [ip], ...(ports ? { ports } : {}) };
    obj.status = { loadBalancer: {} };
  }
  if (key === 'apps/statefulsets') {
    obj.spec = {
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      ...spec,
    };
  }
  if (key === 'apps/deployments')
    obj.spec = {
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      ...spec,
    };
  if (key === 'apps/replicasets') obj.spec = { replicas: 1, ...spec };
  if (key === '/secrets' && !obj.type) obj.type = 'Opaque';
}

type Container = {
  image?: string;
  ports?: { protocol?: string }[];
  imagePullPolicy?: string;
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
};

/** Container defaults the API server applies on every write (what `kubectl describe` and SSA see). */
function defaultPodSpec(spec: { containers?: Container[]; initContainers?: Container[] } | undefined): void {
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    if (!c || typeof c !== 'object') continue;
    for (const p of c.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
    const tag = (c.image ?? '').split('/').pop() ?? '';
    c.imagePullPolicy ??= !tag.includes(':') || tag.endsWith(':latest') ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
  }
}

const templated = new Set(['apps/statefulsets', 'apps/deployments', 'apps/replicasets', 'apps/daemonsets', 'batch/jobs']);

/** Write-time conversions of built-in kinds on every write (Secret stringData → base64 data, container defaults). */
export function normalizeBuiltin(t: ResourceType, obj: KObject): void {
  const spec = obj.spec as ({ template?: { spec?: Parameters<typeof defaultPodSpec>[0] } } & Parameters<typeof defaultPodSpec>[0]) | undefined;
  if (!t.group && t.resource === 'pods') defaultPodSpec(spec);
  if (templated.has(`${t.group}/${t.resource}`)) defaultPodSpec(spec?.template?.spec);
  if (!t.group && t.resource === 'namespaces') obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name! };
  if (!t.group && t.resource === 'secrets' && obj.stringData && typeof obj.stringData === 'object') {
    const data = { ...((obj.data ?? {}) as Record<string, string>) };
    for (const [k, v] of Object.entries(obj.stringData as Record<string, string>)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    obj.data = data;
    delete obj.stringData;
  }
}

/** Values the server allocated (a Service's clusterIP) survive updates that leave them out. */
export function keepAllocated(t: ResourceType, old: KObject, next: KObject): void {
  if (t.group || t.resource !== 'services') return;
  const o = (old.spec ?? {}) as Record<string, unknown>;
  const n = (next.spec ??= {}) as Record<string, unknown>;
  if (!n.clusterIP && o.clusterIP) {
    n.clusterIP = o.clusterIP;
    n.clusterIPs = o.clusterIPs;
  }
}
