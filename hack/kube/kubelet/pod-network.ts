// A pod's own network address for Node programs: in Kubernetes a container that listens on all
// interfaces (0.0.0.0, ::, or no host) is reachable on its pod IP only, and two pods may use the
// same port. Processes here share the host's interfaces, so the preload rewrites such listens to
// the pod IP ($CAIRN_KUBE_POD_IP). Explicit hosts, unix sockets and handles are left alone.
import net from 'node:net';

const wildcard = (h: unknown) => h === undefined || h === null || h === '' || h === '0.0.0.0' || h === '::' || h === '::0';
const isPort = (v: unknown) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));

/** The arguments of net.Server#listen with a wildcard host replaced by `ip` (pure). */
export function bindToPod(args: unknown[], ip: string): unknown[] {
  const [first] = args;
  if (args.length === 0 || (first === undefined && args.length === 1)) return [0, ip];
  if (typeof first === 'function') return [0, ip, ...args];
  if (isPort(first) || first === undefined || first === null) {
    const rest = args.slice(1);
    if (typeof rest[0] === 'string') return wildcard(rest[0]) ? [first ?? 0, ip, ...rest.slice(1)] : args;
    return [first ?? 0, ip, ...rest];
  }
  if (typeof first === 'object' && first !== null) {
    const o = first as Record<string, unknown>;
    if ('path' in o || 'fd' in o || 'handle' in o || '_handle' in o) return args;
    return wildcard(o.host) ? [{ ...o, host: ip }, ...args.slice(1)] : args;
  }
  return args; // a unix socket path
}

export function installPodNetwork(ip: string): void {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    return (listen as (...a: unknown[]) => net.Server).apply(this, bindToPod(args, ip));
  } as typeof listen;
}
