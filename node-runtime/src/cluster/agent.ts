// The membership agent, on every process: it registers with and heartbeats to every root (one loop
// per root, so a slow root never delays the others), keeps the merged maps as its cache on disk (so
// with every root down the member keeps serving from the last map it saw), and sends registry
// writes (buckets, keys, member states) to the roots. On a root process it also carries the
// root-to-root gossip: its heartbeats to the other roots push the local root's maps and merge theirs.
import { follow, write } from './crdt.ts';
import {
  emptyMaps,
  mergeMaps,
  mergeMapsDelta,
  registryChange,
  reportsBefore,
  stableChange,
  withoutRegistry,
  type ClusterMaps,
  type MapName,
  type MemberInfo,
} from './maps.ts';
import { MapStore } from './map-store.ts';
import type { HeartbeatRequest, MapsAnswer, MapsResponse, RootService } from './root.ts';
import type { RpcClient } from '../rpc/client.ts';
import { s3Error } from '../util/errors.ts';
import { logger } from '../util/log.ts';

const log = logger('membership');

export interface AgentOptions {
  selfId: string;
  /** What this member reports about itself; called on every heartbeat (usage changes). */
  self: () => Omit<MemberInfo, 'lastHeartbeat'>;
  roots: string[]; // cluster-port URLs of the roots (may include this process)
  rpc: RpcClient;
  dataDir: string;
  localRoot?: RootService;
  heartbeatMs?: number; // default 1000
  /** Members this member's calls failed to reach lately, told to the roots with every heartbeat. */
  suspects?: () => string[];
}

/** One registry write: `set('buckets', name, settings)`; a null value removes the entry. */
/** `follows`: the value is a consequence of the entry this member sees now (crdt.ts `follow`). */
export type Edit = (set: (map: MapName, key: string, value: unknown, follows?: boolean) => void) => void;

export class MembershipAgent {
  readonly selfId: string;
  readonly maps: ClusterMaps;
  readonly #o: AgentOptions & { heartbeatMs: number };
  readonly #cache: MapStore;
  readonly #listeners = new Set<() => void>();
  readonly #selfUrls = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #ticks = new Map<string, () => void>();
  /** Per root: the registry of its last answer we merged (root.ts), sent back so the next answer can leave it out. */
  readonly #registries = new Map<string, string>();
  /** Per root, on a root process: our own registry as last pushed there, so gossip carries it only when it changed. */
  readonly #gossiped = new Map<string, string>();
  #ready = false;
  #stopped = true;
  readonly #beats = new Map<string, number>(); // per root: every 30th heartbeat carries our maps
  readonly #needsPush = new Set<string>(); // roots that failed or changed since we last pushed our maps
  readonly #rootIds = new Map<string, string>();
  lastRootContact = 0;
  /** Bumped on every change of the maps, usage included (views cache derived lists by it). */
  version = 0;
  /** Bumped on every change of the registry maps (buckets, users, keys, settings). */
  registryVersion = 0;

  private constructor(o: AgentOptions, maps: ClusterMaps, cache: MapStore) {
    this.#o = { heartbeatMs: 1000, ...o };
    this.selfId = o.selfId;
    this.maps = maps;
    this.#cache = cache;
  }

  static async open(o: AgentOptions): Promise<MembershipAgent> {
    const cache = MapStore.forDataDir(o.dataDir, 'cached-maps');
    const maps = await cache.load();
    if (o.localRoot) mergeMaps(maps, o.localRoot.maps);
    const agent = new MembershipAgent(o, maps, cache);
    // Only what changed: the rest it has (and its heartbeat to the local root each period brings anything missed).
    o.localRoot?.onChange((delta) => agent.merge(delta));
    return agent;
  }

  /** True once a root has answered: the member has a current map. */
  get ready(): boolean {
    return this.#ready;
  }

  start(): void {
    this.#stopped = false;
    if (this.#o.localRoot) this.#loop('local');
    for (const url of new Set(this.#o.roots.map(origin))) this.#loop(url);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await this.#cache.close();
  }

  /** Merge maps from anywhere (root answers, pushes from roots); notifies listeners on a real change. */
  merge(incoming: Partial<ClusterMaps> | undefined): boolean {
    const before = reportsBefore(this.maps, incoming);
    const delta = mergeMapsDelta(this.maps, incoming);
    if (!delta) return false;
    this.version++;
    if (registryChange(delta)) this.registryVersion++;
    // Told by what changed, not by a fingerprint of the whole maps: a heartbeat's answer changes
    // liveness times every second, and the registry may hold thousands of buckets.
    if (!stableChange(delta, before)) {
      this.#cache.schedule(this.maps, { stable: 'unchanged' });
      return true;
    }
    this.#cache.schedule(this.maps, { stable: 'changed' });
    for (const l of this.#listeners) l();
    return true;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Record registry writes with the roots. Succeeds when at least one root stored them (it gossips
   * them on); fails with 503 when no root is reachable, and then nothing changed locally either.
   */
  async propose(edit: Edit, timeoutMs = 5000): Promise<void> {
    const delta = emptyMaps();
    edit((map, key, value, follows) => {
      const cur = this.maps[map][key];
      const base = { ...(cur ? { [key]: cur } : {}) };
      (delta[map] as Record<string, unknown>)[key] = follows ? follow(base, key, value, this.selfId) : write(base, key, value, this.selfId);
    });
    const attempts: Promise<MapsResponse>[] = [];
    if (this.#o.localRoot) attempts.push(this.#o.localRoot.exchange(delta));
    // Each root answers with its winners for what was written (an older root: with its whole maps).
    const answer: MapsAnswer = 'written';
    for (const url of new Set(this.#o.roots.map(origin))) {
      if (this.#selfUrls.has(url)) continue;
      attempts.push(
        this.#o.rpc.json<MapsResponse>(url, {
          method: 'POST',
          path: '/rpc/v1/maps',
          json: { maps: delta, answer },
          idempotent: true,
          timeoutMs,
          op: 'maps.push',
        }),
      );
    }
    const results = await Promise.allSettled(attempts);
    const ok = results.filter((r): r is PromiseFulfilledResult<MapsResponse> => r.status === 'fulfilled' && !!r.value?.rootId);
    if (ok.length === 0) {
      const why = results.map((r) => (r.status === 'rejected' ? String((r.reason as Error)?.message ?? r.reason) : 'not a root')).join('; ');
      throw s3Error('ServiceUnavailable', `no root reachable to record the change (${why || 'no roots configured'})`);
    }
    this.merge(delta);
    for (const r of ok) this.merge(r.value.maps);
  }

  #loop(url: string): void {
    const tick = async () => {
      if (this.#stopped) return;
      const wasReady = this.#ready;
      const pushed = this.#needsPush.has(url);
      await this.#beat(url).then(
        () => {
          if (pushed) this.#needsPush.delete(url);
        },
        (e) => {
          this.#needsPush.add(url);
          log.debug({ root: url, err: (e as Error).message }, 'heartbeat failed');
        },
      );
      if (this.#stopped || this.#selfUrls.has(url)) return;
      // Registered just now: say so at once so the member becomes active without waiting a period.
      const delay = !wasReady && this.#ready ? 0 : this.#o.heartbeatMs;
      this.#timers.set(url, setTimeout(tick, delay));
    };
    this.#ticks.set(url, () => void tick());
    void tick();
  }

  /**
   * Heartbeat every root now rather than at the next period, for news the roots should have at once
   * (this member's repair finished). A beat already in flight is left alone; the next follows the period.
   */
  beatNow(): void {
    if (this.#stopped) return;
    for (const [url, timer] of this.#timers) {
      clearTimeout(timer);
      this.#timers.delete(url);
      this.#ticks.get(url)?.();
    }
  }

  async #beat(url: string): Promise<void> {
    const root = this.#o.localRoot;
    const req: HeartbeatRequest = { member: { ...this.#o.self(), lastHeartbeat: 0 }, ready: this.#ready, suspects: this.#o.suspects?.() };
    const known = this.#registries.get(url);
    if (known) req.registry = known;
    if (url === 'local') {
      const res = root!.heartbeat(req);
      this.merge(res.maps);
      this.#registries.set(url, res.registry!);
      this.#contact();
      return;
    }
    // Roots always push their members and states (that is the gossip), and their registry when it
    // changed since the last push there; members push their maps now and then, and when a root answers
    // again, so a root that lost its disk is refilled from the caches.
    const n = this.#beats.get(url) ?? 0;
    this.#beats.set(url, n + 1);
    // Also right after the root was unreachable: it may have come back with an empty disk.
    const pushAll = n % 30 === 0 || this.#needsPush.has(url);
    const ours = root?.registry;
    if (root) req.maps = pushAll || this.#gossiped.get(url) !== ours ? root.maps : withoutRegistry(root.maps);
    else if (pushAll) req.maps = this.maps;
    const res = await this.#o.rpc.json<MapsResponse>(url, {
      method: 'POST',
      path: '/rpc/v1/heartbeat',
      json: req,
      timeoutMs: Math.max(2000, 2 * this.#o.heartbeatMs),
      op: 'heartbeat',
    });
    if (res.rootId === this.selfId) {
      this.#selfUrls.add(url);
      return;
    } // our own root, handled locally
    // A different root at this address (a new pod, a lost disk): push our maps on the next beat.
    if (this.#rootIds.has(url) && this.#rootIds.get(url) !== res.rootId) {
      this.#needsPush.add(url);
      this.#registries.delete(url);
    }
    this.#rootIds.set(url, res.rootId);
    if (ours !== undefined && req.maps?.buckets) this.#gossiped.set(url, ours);
    if (root) await root.exchange(res.maps);
    this.merge(res.maps);
    if (typeof res.registry === 'string') this.#registries.set(url, res.registry);
    else this.#registries.delete(url);
    this.#contact();
  }

  #contact(): void {
    this.lastRootContact = Date.now();
    if (!this.#ready) log.info({ member: this.selfId }, 'registered with a root');
    this.#ready = true;
  }
}

function origin(url: string): string {
  return new URL(url).origin;
}
