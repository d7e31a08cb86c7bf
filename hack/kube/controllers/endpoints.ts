// Endpoints controller core (pure): the v1 Endpoints object Kubernetes derives for a Service from
// the pods its selector matches — ready pods in `addresses`, unready ones in `notReadyAddresses`
// (all in `addresses` with publishNotReadyAddresses), named target ports resolved per pod, pods
// with different port numbers grouped into separate subsets, terminating and finished pods left out;
// and the EndpointSlices that mirror it.
import { createHash } from 'node:crypto';
import { stableJson } from './client.ts';
import type { KubeObject } from './informers.ts';

interface Address {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; name: string; namespace?: string; uid?: string };
}
interface Port {
  name?: string;
  port: number;
  protocol: string;
}

export function selectsPod(svc: KubeObject, pod: KubeObject): boolean {
  const sel: Record<string, string> | undefined = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return false;
  if (pod.metadata.namespace !== svc.metadata.namespace) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(sel).every(([k, v]) => labels[k] === v);
}

export const isPodReady = (pod: KubeObject) =>
  (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');

/** The container port a Service targetPort names on this pod (a number passes through). */
export function resolveTargetPort(pod: KubeObject, target: number | string | undefined, fallback: number): number | undefined {
  if (target === undefined) return fallback;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  }
  return undefined;
}

/** The Endpoints object for `svc`, or undefined when the Service has no selector (user-managed endpoints). */
export function endpointsFor(svc: KubeObject, pods: KubeObject[]): KubeObject | undefined {
  if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) return undefined;
  const publishAll = svc.spec.publishNotReadyAddresses === true;
  const subsets = new Map<string, { ports: Port[]; addresses: Address[]; notReadyAddresses: Address[] }>();
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !pod.status?.podIP || pod.metadata.deletionTimestamp) continue;
    if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    const ports: Port[] = [];
    let resolvable = true;
    for (const sp of svc.spec.ports ?? []) {
      const port = resolveTargetPort(pod, sp.targetPort, sp.port);
      if (port === undefined) {
        resolvable = false;
        break;
      }
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' });
    }
    if (!resolvable) continue;
    const addr: Address = {
      ip: pod.status.podIP,
      targetRef: { kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
    };
    if (pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name) addr.hostname = pod.spec.hostname;
    if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
    const k = stableJson(ports);
    const subset = subsets.get(k) ?? { ports, addresses: [], notReadyAddresses: [] };
    subsets.set(k, subset);
    (publishAll || isPodReady(pod) ? subset.addresses : subset.notReadyAddresses).push(addr);
  }
  const byIp = (a: Address, b: Address) => a.ip.localeCompare(b.ip, 'en', { numeric: true });
  const out = [...subsets.values()].map((s) => ({
    ...(s.addresses.length ? { addresses: s.addresses.sort(byIp) } : {}),
    ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses.sort(byIp) } : {}),
    ...(s.ports.length ? { ports: s.ports } : {}),
  }));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, ...(svc.metadata.labels ? { labels: { ...svc.metadata.labels } } : {}) },
    ...(out.length ? { subsets: out } : {}),
  };
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const SLICE_MANAGER_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_MANAGER = 'endpointslice-controller.k8s.io';

/** The discovery.k8s.io/v1 EndpointSlices mirroring an Endpoints object: one per subset (port set). */
export function endpointSlicesFor(svc: KubeObject, ep: KubeObject): KubeObject[] {
  const base = createHash('sha256').update(`${svc.metadata.namespace}/${svc.metadata.name}`).digest('hex').slice(0, 5);
  const subsets: any[] = ep.subsets?.length ? ep.subsets : [{}];
  return subsets.map((s, i) => {
    const endpoint = (a: Address, ready: boolean) => ({
      addresses: [a.ip],
      conditions: { ready, serving: ready, terminating: false },
      ...(a.hostname ? { hostname: a.hostname } : {}),
      ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      targetRef: a.targetRef,
    });
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${svc.metadata.name}-${base}${i ? `-${i}` : ''}`,
        namespace: svc.metadata.namespace,
        labels: { ...(svc.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: svc.metadata.name, [SLICE_MANAGER_LABEL]: SLICE_MANAGER },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      endpoints: [...(s.addresses ?? []).map((a: Address) => endpoint(a, true)), ...(s.notReadyAddresses ?? []).map((a: Address) => endpoint(a, false))],
      ports: s.ports ?? [],
    };
  });
}
