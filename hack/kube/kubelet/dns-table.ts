// Cluster DNS without a DNS server (pure): the kubelet turns Services and their endpoints (derived
// from the pods, see serviceEndpoints) into a table of fully qualified names, written as JSON to a
// hosts file; the preload in every pod answers dns.lookup from it. The records follow Kubernetes DNS: `<svc>.<ns>.svc.cluster.local` → every
// ready endpoint of a headless Service, or the clusterIP of a ClusterIP Service, which the preload's
// client-side service proxy (service-proxy.ts) turns into a ready endpoint and its target port at
// connect time (a Service without a clusterIP resolves to one ready endpoint instead);
// `<hostname>.<svc>.<ns>.svc.cluster.local` → that pod; ExternalName → an alias. Short names
// are searched like a pod's resolv.conf (`<ns>.svc.cluster.local svc.cluster.local cluster.local`).
import { endpointsFor } from '../controllers/endpoints.ts';
import type { KubeObject } from '../controllers/informers.ts';

export const CLUSTER_DOMAIN = 'cluster.local';

export interface HostsTable {
  /** Fully qualified name → addresses (may be empty: a known name with no endpoint). */
  names: Record<string, string[]>;
  /** Names that stand for one of their addresses at a time (ClusterIP Services). */
  balanced: string[];
  /** Fully qualified name → another host name (ExternalName Services). */
  aliases: Record<string, string>;
  /** clusterIP → service port → ready endpoints as [pod IP, target port] (what kube-proxy programs). */
  virtual?: Record<string, Record<string, [string, number][]>>;
}

const byIp = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The endpoints of every Service as the kubelet sees them: derived from the pods for a Service
 *  with a selector (what the endpoints controller would write — but a real API server refuses
 *  loopback pod IPs in Endpoints and EndpointSlices, so on one they never exist), the stored
 *  Endpoints for a Service without one (user-managed). */
export function serviceEndpoints(services: KubeObject[], pods: KubeObject[], stored: KubeObject[]): KubeObject[] {
  const byKey = new Map(stored.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  const out: KubeObject[] = [];
  for (const svc of services) {
    const derived = endpointsFor(svc, pods);
    const ep = derived ?? byKey.get(`${svc.metadata.namespace}/${svc.metadata.name}`);
    if (ep) out.push(ep);
  }
  return out;
}

export function buildHostsTable(services: KubeObject[], endpoints: KubeObject[]): HostsTable {
  const table: HostsTable = { names: {}, balanced: [], aliases: {} };
  const eps = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    const fqdn = `${svc.metadata.name}.${ns}.svc.${CLUSTER_DOMAIN}`.toLowerCase();
    if (svc.spec?.type === 'ExternalName' && svc.spec.externalName) {
      table.aliases[fqdn] = svc.spec.externalName;
      continue;
    }
    const ep = eps.get(`${ns}/${svc.metadata.name}`);
    const ips = new Set<string>();
    for (const subset of ep?.subsets ?? []) {
      for (const a of subset.addresses ?? []) {
        ips.add(a.ip);
        if (a.hostname) table.names[`${a.hostname}.${fqdn}`.toLowerCase()] = [a.ip];
      }
    }
    const clusterIP: string | undefined = svc.spec?.clusterIP;
    if (clusterIP && clusterIP !== 'None') {
      table.names[fqdn] = [clusterIP];
      const ports: Record<string, [string, number][]> = {};
      for (const sp of svc.spec?.ports ?? []) {
        const list: [string, number][] = [];
        for (const subset of ep?.subsets ?? []) {
          const target =
            (subset.ports ?? []).find((p: { name?: string }) => (p.name ?? '') === (sp.name ?? '')) ??
            (subset.ports?.length === 1 ? subset.ports[0] : undefined);
          if (target) for (const a of subset.addresses ?? []) list.push([a.ip, target.port]);
        }
        ports[String(sp.port)] = list;
      }
      (table.virtual ??= {})[clusterIP] = ports;
      continue;
    }
    table.names[fqdn] = [...ips].sort(byIp);
    if (clusterIP !== 'None') table.balanced.push(fqdn);
  }
  table.balanced.sort();
  return table;
}

/** The fully qualified names a pod in `namespace` tries for `host`, in resolv.conf search order. */
export function candidateNames(host: string, namespace: string): string[] {
  const name = host.toLowerCase();
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const suffixes = [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
  // ndots:5 — a name with fewer than five dots is tried with the search domains first.
  const searched = suffixes.map((s) => `${name}.${s}`);
  return name.split('.').length - 1 >= 5 ? [name, ...searched] : [...searched, name];
}

export type KubeLookup = { addresses: string[] } | { alias: string } | undefined;

/** Resolve a host name against the table; undefined = not a cluster name (use the real resolver).
 *  `pick` chooses the address of a balanced name (random by default, like kube-proxy). */
export function resolveKubeName(
  host: string,
  table: HostsTable,
  namespace: string,
  pick: (n: number) => number = (n) => Math.floor(Math.random() * n),
): KubeLookup {
  if (!host || host === 'localhost' || /^[\d.]+$/.test(host) || host.includes(':')) return undefined;
  for (const name of candidateNames(host, namespace)) {
    if (Object.hasOwn(table.aliases, name)) return { alias: table.aliases[name] };
    if (!Object.hasOwn(table.names, name)) continue;
    const all = table.names[name];
    if (all.length > 1 && table.balanced.includes(name)) return { addresses: [all[pick(all.length)]] };
    return { addresses: all };
  }
  return undefined;
}

/** The hosts table of one pod: the cluster table plus its own names, as /etc/hosts in a pod has. */
export function withSelf(table: HostsTable, self: { hostname: string; subdomain?: string; namespace: string; ip: string }): HostsTable {
  const names = { ...table.names, [self.hostname.toLowerCase()]: [self.ip] };
  if (self.subdomain) names[`${self.hostname}.${self.subdomain}.${self.namespace}.svc.${CLUSTER_DOMAIN}`.toLowerCase()] = [self.ip];
  return { ...table, names };
}
