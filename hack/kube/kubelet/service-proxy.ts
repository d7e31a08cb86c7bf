// A client-side kube-proxy for Node programs: a connection to <clusterIP>:<port> (or to a Service
// name that resolves to its clusterIP) goes to a random ready endpoint of that Service on its target
// port, as kube-proxy's iptables rules would send it; a Service without ready endpoints refuses the
// connection at once. Installed by the pod preload and by installClusterDns.
import net from 'node:net';
import { resolveKubeName, type HostsTable } from './dns-table.ts';

export interface Destination {
  host: string;
  port: number;
}

/** Where a connection to host:port really goes; undefined = not a Service address (pure). */
export function proxyTarget(
  host: string,
  port: number | string,
  table: HostsTable,
  namespace: string,
  pick: (n: number) => number = (n) => Math.floor(Math.random() * n),
): Destination | undefined {
  if (!table.virtual || !host) return undefined;
  let vip = host;
  if (!net.isIP(host)) {
    const hit = resolveKubeName(host, table, namespace);
    if (!hit || !('addresses' in hit) || hit.addresses.length !== 1) return undefined;
    vip = hit.addresses[0];
  }
  const ports = table.virtual[vip];
  if (!ports) return undefined;
  const endpoints = ports[String(port)];
  // No such port or no ready endpoint: kube-proxy rejects; a closed loopback port does the same.
  if (!endpoints?.length) return { host: '127.0.0.1', port: 1 };
  const [ip, target] = endpoints[pick(endpoints.length)];
  return { host: ip, port: target };
}

/** Rewrite net.Socket#connect targets that are Service addresses; `table()` gives the current table. */
export function installServiceProxy(table: () => HostsTable | undefined, namespace: () => string): void {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const t = table();
    if (t?.virtual) {
      // net.connect passes its normalized [options, cb] array; direct calls pass (options | port, host?).
      const first = args[0] as any;
      const opts = Array.isArray(first) ? first[0] : first && typeof first === 'object' ? first : undefined;
      if (opts && typeof opts.host === 'string' && opts.port !== undefined && !opts.path) {
        const to = proxyTarget(opts.host, opts.port, t, namespace());
        if (to) {
          opts.host = to.host;
          opts.port = to.port;
        }
      } else if ((typeof first === 'number' || typeof first === 'string') && typeof args[1] === 'string') {
        const to = proxyTarget(args[1], first, t, namespace());
        if (to) {
          args[0] = to.port;
          args[1] = to.host;
        }
      }
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
}
