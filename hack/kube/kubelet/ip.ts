// Pod IPs for one kubelet ("node"): loopback addresses from the node's pod range, e.g.
// podNetwork '127.0.' and subnet 7 → 127.0.7.2 .. 127.0.7.254 (a three-octet podNetwork is the
// range itself). A pod keeps its address while it exists; a pod name that comes back (a StatefulSet
// replaces its pod) gets its old address again when it is free, which makes logs easier to follow.
export class PodIpAllocator {
  private readonly prefix: string;
  private readonly inUse = new Map<string, string>(); // ip → pod key
  private readonly byKey = new Map<string, string>(); // pod key → ip
  private readonly remembered = new Map<string, string>(); // pod name → last ip

  constructor(podNetwork: string, subnet: number) {
    const octets = podNetwork.replace(/\.$/, '').split('.');
    if (octets[0] !== '127' || octets.length < 2 || octets.length > 3 || octets.some((o) => !/^\d+$/.test(o) || Number(o) > 255)) {
      throw new Error(`podNetwork must be a loopback prefix like "127.0." or "127.0.7.", got "${podNetwork}"`);
    }
    if (octets.length === 2) {
      if (!(subnet >= 1 && subnet <= 254)) throw new Error(`pod subnet must be 1..254, got ${subnet}`);
      octets.push(String(subnet));
    }
    this.prefix = octets.join('.') + '.';
  }

  /** The address for a pod (`key` = uid, `name` = ns/name); `preferred` is an address it had before. */
  allocate(key: string, name: string, preferred?: string): string {
    const have = this.byKey.get(key);
    if (have) return have;
    const candidates = [preferred, this.remembered.get(name)].filter((ip): ip is string => !!ip && ip.startsWith(this.prefix));
    let ip = candidates.find((c) => !this.inUse.has(c));
    for (let host = 2; !ip && host <= 254; host++) {
      const c = this.prefix + host;
      if (!this.inUse.has(c) && ![...this.remembered.values()].includes(c)) ip = c;
    }
    // Every address was handed out once: reuse any free one.
    for (let host = 2; !ip && host <= 254; host++) if (!this.inUse.has(this.prefix + host)) ip = this.prefix + host;
    if (!ip) throw new Error(`pod range ${this.prefix}0/24 is exhausted`);
    this.inUse.set(ip, key);
    this.byKey.set(key, ip);
    this.remembered.set(name, ip);
    return ip;
  }

  release(key: string): void {
    const ip = this.byKey.get(key);
    if (!ip) return;
    this.byKey.delete(key);
    this.inUse.delete(ip);
  }
}

/** A stable subnet octet (1..254) for a node name, used when none is configured. */
export function subnetFor(nodeName: string): number {
  let h = 2166136261;
  for (const ch of nodeName) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return 1 + (h % 254);
}
