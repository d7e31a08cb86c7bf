// The root role: the membership authority. It keeps the authoritative cluster maps (maps.ts) on its
// disk, takes heartbeats (which register a member on first contact), merges maps pushed by members
// and by other roots (push-pull gossip rides on the roots' own heartbeats, see agent.ts), and marks a
// member `down` when its silence is no longer plausible (failure-detector.ts: phi accrual on its
// heartbeats, sooner when other members report that it does not answer them; never later than the
// cluster's failureTimeoutMs). Several roots need no coordination: every write is an LWW entry, so
// they converge whatever order updates arrive in.
import { randomUUID } from 'node:crypto';
import { get, write } from './crdt.ts';
import {
  emptyMaps,
  entriesLike,
  mergeMaps,
  mergeMapsDelta,
  membersOf,
  registryChange,
  reportsBefore,
  sameStableInfo,
  settingsOf,
  stableChange,
  withoutRegistry,
  type ClusterMaps,
  type MemberInfo,
  type MapName,
} from './maps.ts';
import { MapStore } from './map-store.ts';
import type { ClusterSettings, MemberState } from './types.ts';
import { FailureDetector } from './failure-detector.ts';
import { logger } from '../util/log.ts';

const log = logger('root');

export interface HeartbeatRequest {
  member: MemberInfo;
  /** The member has its maps and can serve: `joining` becomes `active` (a later repair step may delay this). */
  ready: boolean;
  /** The sender's maps (roots always send theirs: that is the gossip; nodes now and then, to refill a root that lost its disk). */
  maps?: Partial<ClusterMaps>;
  /** Members the sender's calls failed to reach lately (cluster/peer-health.ts): evidence for the failure detector. */
  suspects?: string[];
  /** The `registry` of this root's last answer the sender merged: while it is still current, the answer leaves the registry out. */
  registry?: string;
}

export interface MapsResponse {
  rootId: string;
  /** Whole, or without the registry maps when the member has them all (a heartbeat's `registry`). */
  maps: Partial<ClusterMaps>;
  /** Names this root's registry as of the answer (heartbeats; a root from before sends none). */
  registry?: string;
}

/** How a push to `POST /maps` is answered: the whole maps (the default, and all an older root knows),
 *  only the entries under the keys pushed (a member's write), or nothing (a root's broadcast). */
export type MapsAnswer = 'whole' | 'written' | 'none';

/** The states-map entry remembering that a member was draining when it was marked down. */
export const beforeDownKey = (memberId: string) => `${memberId}/before-down`;

// States a silent member leaves for `down`; drained members are expected to go away quietly.
const watched = new Set<MemberState>(['joining', 'active', 'draining']);

export class RootService {
  readonly selfId: string;
  readonly maps: ClusterMaps;
  readonly #store: MapStore;
  readonly #startedAt: number;
  readonly #listeners = new Set<(delta: Partial<ClusterMaps>) => void>();
  readonly #detector = new FailureDetector();
  #timer: NodeJS.Timeout | undefined;
  // The registry's name: this process's start and a count of its changes since. A member that merged an
  // answer naming the registry so has it all while the name holds, so heartbeats need not carry it: with
  // thousands of buckets, whole maps on every heartbeat of every member were most of an idle root's work.
  readonly #incarnation = randomUUID().slice(0, 8);
  #registryChanges = 0;

  private constructor(selfId: string, maps: ClusterMaps, store: MapStore) {
    this.selfId = selfId;
    this.maps = maps;
    this.#store = store;
    this.#startedAt = Date.now();
  }

  /** Open the root's maps from `<dataDir>/cluster/root-maps.json`; `settings` given by flags are written as new entries. */
  static async open(opts: { selfId: string; dataDir: string; settings?: Partial<ClusterSettings>; seed?: Partial<ClusterMaps> }): Promise<RootService> {
    const store = MapStore.forDataDir(opts.dataDir, 'root-maps');
    const root = new RootService(opts.selfId, await store.load(), store);
    // e.g. the registry of a data dir that ran as a single-process cluster before.
    let changed = mergeMaps(root.maps, opts.seed);
    const current = settingsOf(root.maps) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(opts.settings ?? {})) {
      if (v === undefined || current[k] === v) continue;
      write(root.maps.settings, k, v, opts.selfId);
      changed = true;
    }
    // The cluster's id: the first root picks one; if two fresh roots both do, LWW keeps one everywhere.
    if (!root.maps.settings.clusterId) {
      write(root.maps.settings, 'clusterId', randomUUID(), opts.selfId);
      changed = true;
    }
    if (changed) await store.save(root.maps);
    return root;
  }

  settings(): ClusterSettings {
    return settingsOf(this.maps);
  }

  /** Register or refresh a member; answers with the merged maps. */
  heartbeat(req: HeartbeatRequest, now = Date.now()): MapsResponse {
    const m = req.member;
    if (!m || typeof m.id !== 'string' || !m.id || typeof m.cluster !== 'string' || !Array.isArray(m.roles)) {
      throw Object.assign(new Error('heartbeat needs a member with id, roles and cluster URL'), { status: 400 });
    }
    // Gossip from another root rides on its heartbeat; tell this process's listeners at once.
    const before = reportsBefore(this.maps, req.maps);
    const gossip = this.#merge(req.maps);
    if (gossip) this.#changed(gossip);
    const was = get(this.maps.members, m.id);
    const info: MemberInfo = {
      id: m.id,
      name: String(m.name ?? m.id),
      roles: m.roles.filter((r) => r === 'root' || r === 'node'),
      api: String(m.api ?? ''),
      cluster: m.cluster,
      zone: String(m.zone ?? ''),
      weight: typeof m.weight === 'number' && m.weight > 0 ? m.weight : 1,
      capacityBytes: Number(m.capacityBytes) || 0,
      usedBytes: Number(m.usedBytes) || 0,
      ...(typeof m.chunks === 'number' ? { chunks: m.chunks } : {}),
      ...(m.disk === 'ok' || m.disk === 'full' || m.disk === 'failed' ? { disk: m.disk } : {}),
      ...(typeof m.freeBytes === 'number' ? { freeBytes: m.freeBytes } : {}),
      ...(m.repair && typeof m.repair === 'object' && typeof m.repair.underReplicatedChunks === 'number' ? { repair: m.repair } : {}),
      lastHeartbeat: now,
    };
    write(this.maps.members, m.id, info, this.selfId, now);
    this.#detector.heartbeat(m.id, now, Array.isArray(req.suspects) ? req.suspects.filter((x): x is string => typeof x === 'string') : []);
    const state = get(this.maps.states, m.id);
    // A member whose data disk failed holds nothing usable: down (its data is rebuilt elsewhere)
    // for as long as it says so, however regularly it beats.
    const diskFailed = info.disk === 'failed';
    const ready = req.ready && !diskFailed;
    let next: MemberState | undefined;
    if (state === undefined) next = ready ? 'active' : 'joining';
    else if (ready && state === 'joining') next = 'active';
    // A member that was draining when it went silent resumes draining: a transient failure must
    // not cancel a drain the operator asked for (only undrain does).
    else if (ready && state === 'down') next = get(this.maps.states, beforeDownKey(m.id)) === 'draining' ? 'draining' : 'active';
    else if (diskFailed && watched.has(state)) {
      next = 'down';
      if (state === 'draining') write(this.maps.states, beforeDownKey(m.id), 'draining', this.selfId, now);
      log.warn({ member: m.id, name: info.name }, 'member down: its data disk failed');
    }
    if (next) {
      write(this.maps.states, m.id, next, this.selfId, now);
      log.info({ member: m.id, name: info.name, from: state ?? 'new', to: next }, 'member state');
      const delta = entriesLike(this.maps, { members: { [m.id]: null }, states: { [m.id]: null, [beforeDownKey(m.id)]: null } });
      this.#changed(delta);
      void this.#broadcast(delta);
    }
    // Most heartbeats only refresh liveness and usage: the store then need not look at the whole maps.
    const stable = next || (gossip && stableChange(gossip, before)) || !sameStableInfo(was, info);
    this.#store.schedule(this.maps, { stable: stable ? 'changed' : 'unchanged' });
    const registry = this.registry;
    const maps = req.registry === registry ? withoutRegistry(this.maps) : this.maps;
    return { rootId: this.selfId, maps, registry };
  }

  /** Names the registry as it is now (see #incarnation). */
  get registry(): string {
    return `${this.#incarnation}.${this.#registryChanges}`;
  }

  /** Merge into the maps, counting registry changes; the entries that changed. */
  #merge(incoming: Partial<ClusterMaps> | undefined): Partial<ClusterMaps> | undefined {
    const delta = mergeMapsDelta(this.maps, incoming);
    if (registryChange(delta)) this.#registryChanges++;
    return delta;
  }

  /** Merge pushed maps (registry writes from members, gossip); a registry or state change is durable
   *  before it answers, what members report about themselves is written as heartbeats are. */
  async exchange(incoming: Partial<ClusterMaps> | undefined): Promise<MapsResponse> {
    const membersChanged = mergeMapsDelta(this.maps, incoming ? { members: incoming.members } : undefined);
    const changed = this.#merge(incoming ? { ...incoming, members: undefined } : undefined);
    if (changed) await this.#store.save(this.maps);
    else if (membersChanged) this.#store.schedule(this.maps);
    if (membersChanged || changed) this.#changed({ ...membersChanged, ...changed });
    // Registry and state changes reach every member before the writer gets its answer, so a bucket
    // created through one node is usable through any other at once (read-your-writes across nodes).
    // Only what changed is pushed: the rest every member has, or gets with its next heartbeat.
    if (changed) await this.#broadcast(changed);
    return { rootId: this.selfId, maps: this.maps };
  }

  /** The answer to a push of `incoming` that was merged into `maps` (`exchange`), as the pusher asked. */
  answer(incoming: Partial<ClusterMaps>, how: MapsAnswer | undefined): Partial<MapsResponse> {
    if (how === 'none') return { rootId: this.selfId };
    return { rootId: this.selfId, maps: how === 'written' ? entriesLike(this.maps, incoming) : this.maps };
  }

  /** Set by the process wiring: push entries of the maps (what changed) to every member (bounded time, failures ignored). */
  broadcast: ((delta: Partial<ClusterMaps>) => Promise<void>) | undefined;

  #broadcast(delta: Partial<ClusterMaps>): Promise<void> {
    return this.broadcast
      ? this.broadcast(delta).catch((e) => {
          log.debug({ err: e }, 'broadcast failed');
        })
      : Promise.resolve();
  }

  /** Write one entry as this root (admin writes made on a root process). */
  async set(name: MapName, key: string, value: unknown): Promise<void> {
    const delta = emptyMaps();
    const cur = this.maps[name][key];
    (delta[name] as Record<string, unknown>)[key] = write({ ...(cur ? { [key]: cur } : {}) }, key, value, this.selfId);
    await this.exchange(delta);
  }

  /**
   * Mark `down` the members the failure detector gives up on (seconds after their heartbeats stop)
   * and any silent for longer than the failure timeout. The timeout rule waits out the first timeout
   * after this root started: its stored heartbeat times are old and members have not had a chance to
   * reach it yet (the detector only judges members it has heard from). Returns the ids marked down.
   */
  detectFailures(now = Date.now()): string[] {
    const timeout = this.settings().failureTimeoutMs;
    const timeoutApplies = now - this.#startedAt >= timeout;
    const down: string[] = [];
    for (const m of membersOf(this.maps)) {
      if (m.id === this.selfId || !watched.has(m.state)) continue;
      const silent = timeoutApplies && now - m.lastHeartbeat > timeout;
      const verdict = silent ? undefined : this.#detector.verdict(m.id, now, m.lastHeartbeat);
      if (!silent && !verdict) continue;
      if (m.state === 'draining' || get(this.maps.states, beforeDownKey(m.id)) !== undefined) {
        write(this.maps.states, beforeDownKey(m.id), m.state === 'draining' ? 'draining' : null, this.selfId, now);
      }
      write(this.maps.states, m.id, 'down', this.selfId, now);
      this.#detector.forget(m.id);
      log.warn({ member: m.id, name: m.name, silentMs: now - m.lastHeartbeat, ...(verdict ?? { reason: 'failure timeout' }) }, 'member down');
      down.push(m.id);
    }
    if (down.length) {
      this.#store.schedule(this.maps, { delayMs: 0 });
      const delta = entriesLike(this.maps, {
        states: Object.fromEntries(
          down.flatMap((id) => [
            [id, null],
            [beforeDownKey(id), null],
          ]),
        ),
      });
      this.#changed(delta);
      void this.#broadcast(delta);
    }
    return down;
  }

  start(checkEveryMs = 500): void {
    this.#timer ??= setInterval(() => this.detectFailures(), checkEveryMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#store.close();
  }

  /** Told each change of the maps: the entries that changed. */
  onChange(listener: (delta: Partial<ClusterMaps>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(delta: Partial<ClusterMaps>): void {
    for (const l of this.#listeners) l(delta);
  }
}
