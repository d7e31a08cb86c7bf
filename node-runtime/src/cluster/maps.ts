// The replicated state of the cluster as LWW maps (crdt.ts): the cluster map (members), the bucket
// registry, users and their access keys, and cluster settings. A member is kept as two maps: `members` holds what the
// member reports about itself (address, zone, weight, usage, last heartbeat), rewritten on every
// heartbeat; `states` holds its state (joining/active/draining/drained/down), written only on a
// state change (registration, failure detection, drain). Separate registers mean a heartbeat landing
// on one root can never undo a drain written a moment earlier on another root.
import { mergeInto, values, get, type LwwMap } from './crdt.ts';
import {
  defaultSettings,
  type BucketSettings,
  type ClusterSettings,
  type Member,
  type MemberState,
  type RepairProgress,
  type StoredKey,
  type UserRecord,
} from './types.ts';

/** What a member reports in its heartbeats; `repair` is its repair worker's progress when it has one. */
export type MemberInfo = Omit<Member, 'state'> & { repair?: RepairProgress };

export interface ClusterMaps {
  members: LwwMap<MemberInfo>;
  states: LwwMap<MemberState>;
  buckets: LwwMap<BucketSettings>;
  users: LwwMap<UserRecord>;
  keys: LwwMap<StoredKey>;
  settings: LwwMap<unknown>; // one entry per ClusterSettings field
}

// A member of an older version ignores a map it does not know (mergeMaps skips unknown names).
export const mapNames = ['members', 'states', 'buckets', 'users', 'keys', 'settings'] as const;
export type MapName = (typeof mapNames)[number];

export function emptyMaps(): ClusterMaps {
  return { members: {}, states: {}, buckets: {}, users: {}, keys: {}, settings: {} };
}

/**
 * The maps without what every heartbeat rewrites (a member's liveness time and usage figures): what
 * counts as a change for listeners, and for how soon the maps are written to disk (map-store.ts).
 */
export function stableFingerprint(maps: ClusterMaps): string {
  const members = Object.entries(maps.members).map(([k, e]) => [k, e.value ? stableInfo(e.value) : null]);
  const plain = (m: Record<string, { value: unknown }>) => Object.entries(m).map(([k, e]) => [k, e.value]);
  return JSON.stringify([members, plain(maps.states), plain(maps.buckets), plain(maps.users), plain(maps.keys), plain(maps.settings)]);
}

/** What a member reports that is not rewritten by every heartbeat (its address, roles, zone, weight, disk). */
function stableInfo(info: MemberInfo): Partial<MemberInfo> {
  const { lastHeartbeat: _h, usedBytes: _u, capacityBytes: _c, chunks: _n, repair: _r, freeBytes: _f, ...stable } = info;
  return stable;
}

/** Whether two reports of a member differ only in what every heartbeat rewrites. */
export function sameStableInfo(a: MemberInfo | undefined, b: MemberInfo): boolean {
  return a !== undefined && JSON.stringify(stableInfo(a)) === JSON.stringify(stableInfo(b));
}

/** The registry: what a heartbeat's answer leaves out while the member already has all of it (root.ts). */
export const registryNames = ['buckets', 'users', 'keys', 'settings'] as const;

/** The maps without the registry: what a heartbeat's answer and a root's gossip carry while the other side has it. */
export function withoutRegistry(maps: ClusterMaps): Partial<ClusterMaps> {
  const out: Partial<ClusterMaps> = { ...maps };
  for (const name of registryNames) delete out[name];
  return out;
}

/** Merge `incoming` into `target` in place; true when anything changed. Unknown or missing maps are ignored. */
export function mergeMaps(target: ClusterMaps, incoming: Partial<ClusterMaps> | undefined): boolean {
  return mergeMapsDelta(target, incoming) !== undefined;
}

/** Merge `incoming` into `target` in place; the entries that changed, or undefined when none did. */
export function mergeMapsDelta(target: ClusterMaps, incoming: Partial<ClusterMaps> | undefined): Partial<ClusterMaps> | undefined {
  if (!incoming || typeof incoming !== 'object') return undefined;
  let delta: Partial<ClusterMaps> | undefined;
  for (const name of mapNames) {
    const m = incoming[name];
    if (!m || typeof m !== 'object') continue;
    const into = target[name] as LwwMap<unknown>;
    const keys = mergeInto(into, m as LwwMap<unknown>);
    if (keys.length === 0) continue;
    const part: LwwMap<unknown> = {};
    for (const k of keys) part[k] = into[k];
    delta ??= {};
    (delta as Record<MapName, LwwMap<unknown>>)[name] = part;
  }
  return delta;
}

/** Of `maps`, the entries under the keys `like` names (a root's answer to a write: its winners for what was written). */
export function entriesLike(maps: ClusterMaps, like: Partial<Record<MapName, object>>): Partial<ClusterMaps> {
  const out: Partial<ClusterMaps> = {};
  for (const name of mapNames) {
    const m = like[name];
    if (!m || typeof m !== 'object') continue;
    const part: LwwMap<unknown> = {};
    for (const k of Object.keys(m)) if (maps[name][k]) part[k] = maps[name][k];
    if (Object.keys(part).length) (out as Record<MapName, LwwMap<unknown>>)[name] = part;
  }
  return out;
}

/** Whether a merge's `delta` changed more than what heartbeats rewrite; `before`: a member's report before the merge. */
export function stableChange(delta: Partial<ClusterMaps>, before: (id: string) => MemberInfo | null | undefined): boolean {
  for (const name of mapNames) if (name !== 'members' && delta[name]) return true;
  for (const [id, e] of Object.entries(delta.members ?? {})) {
    const was = before(id);
    if (!was || !e.value || !sameStableInfo(was, e.value)) return true;
  }
  return false;
}

/** Whether a merge's `delta` changed the registry. */
export function registryChange(delta: Partial<ClusterMaps> | undefined): boolean {
  return delta !== undefined && registryNames.some((n) => delta[n] !== undefined);
}

/** Each member's report as it is now, for `stableChange` after merging `incoming`. */
export function reportsBefore(maps: ClusterMaps, incoming: Partial<ClusterMaps> | undefined): (id: string) => MemberInfo | null | undefined {
  const was = new Map<string, MemberInfo | null | undefined>();
  const m = incoming?.members;
  if (m && typeof m === 'object') for (const id of Object.keys(m)) was.set(id, maps.members[id]?.value);
  return (id) => was.get(id);
}

/** Members with their state; a member without a state entry yet is `joining`. */
export function membersOf(maps: ClusterMaps): (Member & { repair?: RepairProgress })[] {
  return values(maps.members)
    .map((info) => ({
      ...info,
      state: get(maps.states, info.id) ?? ('joining' as MemberState),
      ...(maps.states[info.id] ? { stateSince: Math.floor(maps.states[info.id]!.ts) } : {}),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
}

export function settingsOf(maps: ClusterMaps): ClusterSettings {
  const s: Record<string, unknown> = { ...defaultSettings };
  for (const [k, e] of Object.entries(maps.settings)) {
    if (e.value !== null && k in defaultSettings && typeof e.value === typeof (defaultSettings as unknown as Record<string, unknown>)[k]) s[k] = e.value;
  }
  return s as unknown as ClusterSettings;
}

export function bucketsOf(maps: ClusterMaps): BucketSettings[] {
  return values(maps.buckets)
    .filter((b) => !b.deleted)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export function bucketOf(maps: ClusterMaps, name: string): BucketSettings | undefined {
  const b = get(maps.buckets, name);
  return b && !b.deleted ? b : undefined;
}

export function keyOf(maps: ClusterMaps, id: string): StoredKey | undefined {
  const k = get(maps.keys, id);
  return k && !k.deleted ? k : undefined;
}

export function userOf(maps: ClusterMaps, id: string): UserRecord | undefined {
  const u = get(maps.users, id);
  return u && !u.deleted ? u : undefined;
}

/** Find a member by id, then by name. */
export function findMember(members: Member[], idOrName: string): Member | undefined {
  return members.find((m) => m.id === idOrName) ?? members.find((m) => m.name === idOrName);
}
