// Cluster DNS for pod processes: loaded with NODE_OPTIONS="--import <this file>" by the kubelet, it
// wraps dns.lookup and dns.promises.lookup (what net, http, undici and fetch use) so cluster names
// resolve from the hosts table the kubelet keeps in $CAIRN_KUBE_HOSTS; every other name goes to
// the real resolver. Product code is unchanged and the machine's /etc/hosts is never touched.
// Env: CAIRN_KUBE_HOSTS (table file), CAIRN_KUBE_NAMESPACE (search path), CAIRN_KUBE_SELF (JSON
// {hostname, subdomain?, namespace, ip}: the pod's own names, as a pod's /etc/hosts has them),
// CAIRN_KUBE_KUBELET_PID (the kubelet process; see the watchdog at the end).
import dns from 'node:dns';
import { readFileSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolveKubeName, withSelf, type HostsTable, type KubeLookup } from './dns-table.ts';

const file = process.env.CAIRN_KUBE_HOSTS;
const namespace = process.env.CAIRN_KUBE_NAMESPACE ?? 'default';
const self = process.env.CAIRN_KUBE_SELF ? JSON.parse(process.env.CAIRN_KUBE_SELF) : undefined;
const empty: HostsTable = { names: {}, balanced: [], aliases: {} };

let cached: { mtimeMs: number; size: number; table: HostsTable } | undefined;

// Re-read only when the file changed; the kubelet replaces it atomically (write + rename).
function table(): HostsTable {
  if (!file) return self ? withSelf(empty, self) : empty;
  try {
    const st = statSync(file);
    if (!cached || cached.mtimeMs !== st.mtimeMs || cached.size !== st.size) {
      const t = JSON.parse(readFileSync(file, 'utf8')) as HostsTable;
      cached = { mtimeMs: st.mtimeMs, size: st.size, table: self ? withSelf(t, self) : t };
    }
    return cached.table;
  } catch {
    return cached?.table ?? (self ? withSelf(empty, self) : empty);
  }
}

function notFound(host: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
  e.code = 'ENOTFOUND'; e.errno = -3008; e.syscall = 'getaddrinfo'; (e as { hostname?: string }).hostname = host;
  return e;
}

type LookupOptions = { family?: number | string; all?: boolean } | number | undefined;
const familyOf = (o: LookupOptions) => (typeof o === 'number' ? o : o?.family === 'IPv6' ? 6 : o?.family === 'IPv4' ? 4 : Number(o?.family ?? 0));
const wantsAll = (o: LookupOptions) => typeof o === 'object' && o?.all === true;

/** The answer for a cluster name, shaped like dns.lookup's; undefined = not ours. */
function answer(host: string, options: LookupOptions): { alias: string } | { error: NodeJS.ErrnoException } | { all: { address: string; family: number }[] } | undefined {
  if (typeof host !== 'string') return undefined;
  const hit: KubeLookup = resolveKubeName(host, table(), namespace);
  if (!hit) return undefined;
  if ('alias' in hit) return { alias: hit.alias };
  if (hit.addresses.length === 0 || familyOf(options) === 6) return { error: notFound(host) };
  return { all: hit.addresses.map((address) => ({ address, family: 4 })) };
}

const realLookup = dns.lookup;
function lookup(host: string, options: any, callback?: any): void {
  if (typeof options === 'function') { callback = options; options = undefined; }
  const a = answer(host, options);
  if (!a) return void (options === undefined ? realLookup(host, callback) : realLookup(host, options, callback));
  if ('alias' in a) return void lookup(a.alias, options, callback);
  if ('error' in a) return void process.nextTick(callback, a.error);
  if (wantsAll(options)) return void process.nextTick(callback, null, a.all);
  process.nextTick(callback, null, a.all[0].address, 4);
}
(dns as { lookup: unknown }).lookup = lookup;

const realPromisesLookup = dns.promises.lookup;
async function promisesLookup(host: string, options?: any): Promise<any> {
  const a = answer(host, options);
  if (!a) return realPromisesLookup(host, options);
  if ('alias' in a) return promisesLookup(a.alias, options);
  if ('error' in a) throw a.error;
  return wantsAll(options) ? a.all : a.all[0];
}
(dns.promises as { lookup: unknown }).lookup = promisesLookup;

// A pod process started by the kubelet dies with it: its own process group outlives a kubelet that
// was SIGKILLed (e.g. a test runner's timeout), and nothing else would ever stop it. Only the
// direct child checks, so a pod's own child processes are left to their parent.
const kubeletPid = Number(process.env.CAIRN_KUBE_KUBELET_PID);
if (kubeletPid && process.ppid === kubeletPid) {
  setInterval(() => { if (process.ppid !== kubeletPid) process.kill(process.pid, 'SIGKILL'); }, 1000).unref();
}

// Named ESM imports of node:dns (`import { lookup } from 'node:dns'`) see the wrapped functions too.
syncBuiltinESMExports();
