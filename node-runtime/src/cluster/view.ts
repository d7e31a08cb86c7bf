// The ClusterView of a multi-member cluster: the maps cached by the membership agent, and registry
// writes through the roots. The data path (data/) sees only the ClusterView interface.
import type { BucketSettings, ClusterControl, ClusterSettings, KeyRecord, Member, MemberState, StoredKey, UserRecord } from './types.ts';
import { bucketOf, bucketsOf, keyOf, membersOf, settingsOf, userOf } from './maps.ts';
import { get, values } from './crdt.ts';
import type { MembershipAgent } from './agent.ts';

export interface MultiViewOptions {
  agent: MembershipAgent;
  /** Settings from flags that win over the map's (e.g. a region fixed on the command line). */
  overrides?: Partial<ClusterSettings>;
}

export class MultiClusterView implements ClusterControl {
  readonly selfId: string;
  readonly agent: MembershipAgent;
  readonly #o: MultiViewOptions;
  #members: { version: number; list: Member[]; byId: Map<string, Member> } | undefined;
  #settings: ClusterSettings | undefined;
  #buckets: { version: number; list: BucketSettings[] } | undefined;

  constructor(o: MultiViewOptions) {
    this.#o = o;
    this.agent = o.agent;
    this.selfId = o.agent.selfId;
    o.agent.onChange(() => {
      this.#settings = undefined;
    });
  }

  settings(): ClusterSettings {
    if (!this.#settings) {
      const given = Object.fromEntries(Object.entries(this.#o.overrides ?? {}).filter(([, v]) => v !== undefined));
      this.#settings = { ...settingsOf(this.agent.maps), ...given };
    }
    return this.#settings;
  }

  members(): Member[] {
    return this.#memberIndex().list;
  }

  member(id: string): Member | undefined {
    return this.#memberIndex().byId.get(id);
  }

  // Placement calls members() per chunk: the list is rebuilt only when the maps changed.
  #memberIndex() {
    if (this.#members?.version !== this.agent.version) {
      const list = membersOf(this.agent.maps);
      this.#members = { version: this.agent.version, list, byId: new Map(list.map((m) => [m.id, m])) };
    }
    return this.#members;
  }

  bucket(name: string): BucketSettings | undefined {
    return bucketOf(this.agent.maps, name);
  }
  // A repair pass asks for every bucket, sorted, more than once: kept until the registry changes
  // (frozen: every caller shares it).
  buckets(): BucketSettings[] {
    if (this.#buckets?.version !== this.agent.registryVersion) {
      this.#buckets = { version: this.agent.registryVersion, list: Object.freeze(bucketsOf(this.agent.maps)) as BucketSettings[] };
    }
    return this.#buckets.list;
  }

  async putBucket(settings: BucketSettings): Promise<void> {
    await this.agent.propose((set) => set('buckets', settings.name, settings));
  }

  async removeBucket(name: string): Promise<void> {
    const cur = bucketOf(this.agent.maps, name);
    // A tombstone that keeps the settings, so a late replica of the old entry cannot resurrect it.
    await this.agent.propose((set) => set('buckets', name, cur ? { ...cur, deleted: true } : null));
  }

  users(): UserRecord[] {
    return values(this.agent.maps.users).filter((u) => !u.deleted);
  }
  user(id: string): UserRecord | undefined {
    return userOf(this.agent.maps, id);
  }

  /** Create or replace a user (admin API); no write when unchanged. */
  async putUser(user: UserRecord): Promise<void> {
    const cur = get(this.agent.maps.users, user.id);
    if (cur && JSON.stringify(cur) === JSON.stringify(user)) return;
    await this.agent.propose((set) => set('users', user.id, user));
  }

  keys(): StoredKey[] {
    return values(this.agent.maps.keys).filter((k) => !k.deleted);
  }
  key(accessKeyId: string): StoredKey | undefined {
    return keyOf(this.agent.maps, accessKeyId);
  }

  /** Create or replace an access key (root key, keys file, admin API); no write when unchanged. */
  async putKey(key: KeyRecord): Promise<void> {
    const cur = get(this.agent.maps.keys, key.accessKeyId);
    if (cur && JSON.stringify(cur) === JSON.stringify(key)) return;
    await this.agent.propose((set) => set('keys', key.accessKeyId, key));
  }

  async removeKey(accessKeyId: string): Promise<void> {
    await this.agent.propose((set) => set('keys', accessKeyId, null));
  }

  /** Mark a member draining/active/drained (admin API); recorded by the roots. */
  async setMemberState(memberId: string, state: MemberState): Promise<void> {
    await this.agent.propose((set) => set('states', memberId, state));
  }

  /**
   * Record that this member finished draining. Written as a consequence of the `draining` entry it
   * saw, so an undrain (or a new drain) made meanwhile wins over it on every root.
   */
  async markDrained(memberId: string): Promise<void> {
    if (get(this.agent.maps.states, memberId) !== 'draining') return;
    await this.agent.propose((set) => set('states', memberId, 'drained', true));
  }

  /** Remove a drained or down member from the map (it re-registers if it was still alive). */
  async forgetMember(memberId: string): Promise<void> {
    await this.agent.propose((set) => {
      set('members', memberId, null);
      set('states', memberId, null);
    });
  }

  /** Change cluster settings at run time (admin API); recorded by the roots, seen by every member. */
  async putSettings(changes: Partial<ClusterSettings>): Promise<void> {
    await this.agent.propose((set) => {
      for (const [k, v] of Object.entries(changes)) if (v !== undefined) set('settings', k, v);
    });
  }

  /** The cluster's id, chosen by the first root. */
  clusterId(): string {
    const v = this.agent.maps.settings.clusterId?.value;
    return typeof v === 'string' ? v : '';
  }

  onChange(listener: () => void): () => void {
    return this.agent.onChange(listener);
  }
}
