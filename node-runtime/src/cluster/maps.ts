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

/** Merge `incoming` into `target` in place; true when anything changed. Unknown or missing maps are ignored. */
export function mergeMaps(target: ClusterMaps, incoming: Partial<ClusterMaps> | undefined): boolean {
  if (!incoming || typeof incoming !== 'object') return false;
  let changed = false;
  for (const name of mapNames) {
    const m = incoming[name];
    if (m && typeof m === 'object') changed = mergeInto(target[name] as LwwMap<unknown>, m as LwwMap<unknown>).length > 0 || changed;
  }
  return changed;
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
