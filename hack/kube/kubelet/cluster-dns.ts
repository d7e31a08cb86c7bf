// Cluster DNS inside a Node process: wraps dns.lookup and dns.promises.lookup (what net, http,
// undici and fetch use) so cluster names resolve from the hosts table a kubelet keeps (see
// dns-table.ts); every other name goes to the real resolver. Pods get it through dns-preload.ts;
// a process outside the cluster that must reach pods by name (an operator run locally, an e2e
// test) calls installClusterDns({ hostsFile: plane.kubelet.hostsFile }) itself. It also installs
// the client-side service proxy, since ClusterIP names resolve to clusterIPs.
import dns from 'node:dns';
import { readFileSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolveKubeName, withSelf, type HostsTable, type KubeLookup } from './dns-table.ts';
import { installServiceProxy } from './service-proxy.ts';

export interface ClusterDnsOptions {
  /** The kubelet's hosts table (JSON, replaced atomically by the kubelet). */
  hostsFile: string;
  /** Namespace for short names (the pod's own); default 'default'. */
  namespace?: string;
  /** The pod's own names, as a pod's /etc/hosts has them. */
  self?: { hostname: string; subdomain?: string; namespace: string; ip: string };
}

type LookupOptions = { family?: number | string; all?: boolean } | number | undefined;
const familyOf = (o: LookupOptions) => (typeof o === 'number' ? o : o?.family === 'IPv6' ? 6 : o?.family === 'IPv4' ? 4 : Number(o?.family ?? 0));
const wantsAll = (o: LookupOptions) => typeof o === 'object' && o?.all === true;
const empty: HostsTable = { names: {}, balanced: [], aliases: {} };

function notFound(host: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
  e.code = 'ENOTFOUND';
  e.errno = -3008;
  e.syscall = 'getaddrinfo';
  (e as { hostname?: string }).hostname = host;
  return e;
}

let installed: ClusterDnsOptions | undefined;
let cached: { mtimeMs: number; size: number; table: HostsTable } | undefined;
const realLookup = dns.lookup;
const realPromisesLookup = dns.promises.lookup;

// Re-read only when the file changed; the kubelet replaces it atomically (write + rename).
function table(): HostsTable {
  const o = installed!;
  const base = (t: HostsTable) => (o.self ? withSelf(t, o.self) : t);
  try {
    const st = statSync(o.hostsFile);
    if (!cached || cached.mtimeMs !== st.mtimeMs || cached.size !== st.size) {
      cached = { mtimeMs: st.mtimeMs, size: st.size, table: base(JSON.parse(readFileSync(o.hostsFile, 'utf8')) as HostsTable) };
    }
    return cached.table;
  } catch {
    return cached?.table ?? base(empty);
  }
}

/** The answer for a cluster name, shaped like dns.lookup's; undefined = not ours. */
function answer(
  host: string,
  options: LookupOptions,
): { alias: string } | { error: NodeJS.ErrnoException } | { all: { address: string; family: number }[] } | undefined {
  if (!installed || typeof host !== 'string') return undefined;
  const hit: KubeLookup = resolveKubeName(host, table(), installed.namespace ?? 'default');
  if (!hit) return undefined;
  if ('alias' in hit) return { alias: hit.alias };
  if (hit.addresses.length === 0 || familyOf(options) === 6) return { error: notFound(host) };
  return { all: hit.addresses.map((address) => ({ address, family: 4 })) };
}

function lookup(host: string, options: any, callback?: any): void {
  if (typeof options === 'function') {
    callback = options;
    options = undefined;
  }
  const a = answer(host, options);
  if (!a) return void (options === undefined ? realLookup(host, callback) : realLookup(host, options, callback));
  if ('alias' in a) return void lookup(a.alias, options, callback);
  if ('error' in a) return void process.nextTick(callback, a.error);
  if (wantsAll(options)) return void process.nextTick(callback, null, a.all);
  process.nextTick(callback, null, a.all[0].address, 4);
}

async function promisesLookup(host: string, options?: any): Promise<any> {
  const a = answer(host, options);
  if (!a) return realPromisesLookup(host, options);
  if ('alias' in a) return promisesLookup(a.alias, options);
  if ('error' in a) throw a.error;
  return wantsAll(options) ? a.all : a.all[0];
}

let proxied = false;

/** Resolve cluster names in this process from `hostsFile` (calling it again switches the table),
 *  and send connections to Service clusterIPs to their endpoints (service-proxy.ts). */
export function installClusterDns(opts: ClusterDnsOptions): void {
  installed = opts;
  cached = undefined;
  if (!proxied) {
    installServiceProxy(
      () => (installed ? table() : undefined),
      () => installed?.namespace ?? 'default',
    );
    proxied = true;
  }
  (dns as { lookup: unknown }).lookup = lookup;
  (dns.promises as { lookup: unknown }).lookup = promisesLookup;
  // Named ESM imports of node:dns (`import { lookup } from 'node:dns'`) see the wrapped functions too.
  syncBuiltinESMExports();
}

/** Back to the real resolver for every name (and no more service proxying). */
export function uninstallClusterDns(): void {
  installed = undefined;
  (dns as { lookup: unknown }).lookup = realLookup;
  (dns.promises as { lookup: unknown }).lookup = realPromisesLookup;
  syncBuiltinESMExports();
}
