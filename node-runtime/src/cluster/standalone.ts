// The cluster view of a one-member cluster: this process is the only root and the only node.
// Its bucket registry, users, access keys and settings are LWW maps (cluster/crdt.ts, the same shape the
// roots gossip) persisted in the local metadata store, so they survive restarts and a later
// multi-member view can take them over as they are.
import type { BucketSettings, ClusterControl, ClusterSettings, DiskState, KeyRecord, Member, MemberState, Role, StoredKey, UserRecord } from './types.ts';
import { defaultSettings } from './types.ts';
import { get, values, write, type LwwMap } from './crdt.ts';
import { S3Error } from '../util/errors.ts';

const BUCKETS = 'registry.buckets';
const KEYS = 'registry.keys';
const USERS = 'registry.users';
const SETTINGS = 'settings';

/** Where the registry is kept: the key-value area of the member's metadata store (meta/store.ts). */
export interface RegistryStore {
  getKV<T>(name: string): T | undefined;
  putKV(name: string, value: unknown): Promise<void>;
}

/** The registry a standalone process kept in `meta`, as LWW maps (to seed a root that takes over). */
export function standaloneRegistry(meta: RegistryStore): { buckets: LwwMap<BucketSettings>; users: LwwMap<UserRecord>; keys: LwwMap<StoredKey> } {
  return {
    buckets: meta.getKV<LwwMap<BucketSettings>>(BUCKETS) ?? {},
    users: meta.getKV<LwwMap<UserRecord>>(USERS) ?? {},
    keys: meta.getKV<LwwMap<StoredKey>>(KEYS) ?? {},
  };
}

export interface StandaloneOptions {
  self: Omit<Member, 'state' | 'usedBytes' | 'lastHeartbeat' | 'roles'> & { roles?: Role[] };
  meta: RegistryStore;
  /** Bytes of chunks this member stores now (its member entry reports them). */
  usedBytes: () => number;
  /** Its data disk now (its member entry reports it: a full disk takes no new chunks). */
  disk?: () => { state: DiskState; freeBytes: number };
  /** Overrides from flags/env; they win over (and replace) the persisted settings. */
  settings?: Partial<ClusterSettings>;
}

// What a cluster of one cannot do is refused as a conflict (409) with the admin API's codes.
const refuse = (code: string, message: string) => Promise.reject(new S3Error(code, 409, message));

export class StandaloneClusterView implements ClusterControl {
  readonly selfId: string;
  private readonly self: Member;
  private readonly meta: RegistryStore;
  private readonly usedBytes: () => number;
  private readonly disk: StandaloneOptions['disk'];
  private bucketMap: LwwMap<BucketSettings>;
  private keyMap: LwwMap<StoredKey>;
  private userMap: LwwMap<UserRecord>;
  private currentSettings: ClusterSettings;
  private readonly listeners = new Set<() => void>();

  private constructor(opts: StandaloneOptions, settings: ClusterSettings) {
    this.selfId = opts.self.id;
    this.self = { roles: ['root', 'node'], ...opts.self, state: 'active', usedBytes: 0, lastHeartbeat: Date.now() };
    this.meta = opts.meta;
    this.usedBytes = opts.usedBytes;
    this.disk = opts.disk;
    const registry = standaloneRegistry(opts.meta);
    this.bucketMap = registry.buckets;
    this.keyMap = registry.keys;
    this.userMap = registry.users;
    this.currentSettings = settings;
  }

  static async open(opts: StandaloneOptions): Promise<StandaloneClusterView> {
    const stored = opts.meta.getKV<Partial<ClusterSettings>>(SETTINGS) ?? {};
    const given = Object.fromEntries(Object.entries(opts.settings ?? {}).filter(([, v]) => v !== undefined));
    const settings = { ...defaultSettings, ...stored, ...given };
    await opts.meta.putKV(SETTINGS, settings);
    return new StandaloneClusterView(opts, settings);
  }

  settings(): ClusterSettings {
    return this.currentSettings;
  }

  members(): Member[] {
    this.self.usedBytes = this.usedBytes();
    this.self.lastHeartbeat = Date.now();
    if (this.disk) {
      const d = this.disk();
      this.self.disk = d.state;
      this.self.freeBytes = d.freeBytes;
    }
    return [this.self];
  }

  member(id: string): Member | undefined {
    return id === this.selfId ? this.members()[0] : undefined;
  }

  bucket(name: string): BucketSettings | undefined {
    const b = get(this.bucketMap, name);
    return b && !b.deleted ? b : undefined;
  }

  buckets(): BucketSettings[] {
    return values(this.bucketMap)
      .filter((b) => !b.deleted)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async putBucket(settings: BucketSettings): Promise<void> {
    write(this.bucketMap, settings.name, settings, this.selfId);
    await this.meta.putKV(BUCKETS, this.bucketMap);
    this.changed();
  }

  async removeBucket(name: string): Promise<void> {
    write(this.bucketMap, name, null, this.selfId);
    await this.meta.putKV(BUCKETS, this.bucketMap);
    this.changed();
  }

  users(): UserRecord[] {
    return values(this.userMap).filter((u) => !u.deleted);
  }

  user(id: string): UserRecord | undefined {
    const u = get(this.userMap, id);
    return u && !u.deleted ? u : undefined;
  }

  async putUser(user: UserRecord): Promise<void> {
    const cur = get(this.userMap, user.id);
    if (cur && JSON.stringify(cur) === JSON.stringify(user)) return;
    write(this.userMap, user.id, user, this.selfId);
    await this.meta.putKV(USERS, this.userMap);
    this.changed();
  }

  keys(): StoredKey[] {
    return values(this.keyMap).filter((k) => !k.deleted);
  }

  key(accessKeyId: string): StoredKey | undefined {
    const k = get(this.keyMap, accessKeyId);
    return k && !k.deleted ? k : undefined;
  }

  /** Create or replace an access key (root key, keys file, admin API). */
  async putKey(key: KeyRecord): Promise<void> {
    const cur = get(this.keyMap, key.accessKeyId);
    if (cur && JSON.stringify(cur) === JSON.stringify(key)) return;
    write(this.keyMap, key.accessKeyId, key, this.selfId);
    await this.meta.putKV(KEYS, this.keyMap);
    this.changed();
  }

  async removeKey(accessKeyId: string): Promise<void> {
    write(this.keyMap, accessKeyId, null, this.selfId);
    await this.meta.putKV(KEYS, this.keyMap);
    this.changed();
  }

  /** A cluster of one is named after its only member. */
  clusterId(): string {
    return this.selfId;
  }

  setMemberState(_memberId: string, _state: MemberState): Promise<void> {
    return refuse('DrainRefused', 'a single-process cluster has no other member to move data to');
  }

  forgetMember(_memberId: string): Promise<void> {
    return refuse('InvalidMemberState', 'a single-process cluster cannot forget its only member');
  }

  putSettings(_changes: Partial<ClusterSettings>): Promise<void> {
    return refuse('NotSupported', 'a single-process cluster takes its settings from flags');
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
