// An in-memory admin API for operator tests that run without node processes: it keeps members,
// buckets and keys, answers as the admin contract says (including 409 DrainRefused), and lets a
// test move members between states (e.g. draining → drained) the way real nodes would.
import { AdminApiError } from '../../node-runtime/src/admin/client.ts';
import type {
  AccessKeyRequest,
  AdminClient,
  BucketRequest,
  BucketStatus,
  ClusterStatus,
  MemberStatus,
  RepairProgress,
  UserRequest,
  UserStatus,
} from '../../node-runtime/src/admin/types.ts';
import type { MemberState } from '../../node-runtime/src/cluster/types.ts';

const idle: RepairProgress = { underReplicatedChunks: 0, misplacedChunks: 0, bytesRemaining: 0, bytesMoved: 0, rateBytesPerSec: 0, etaSeconds: null };

export class MemoryAdmin {
  members = new Map<string, MemberStatus>();
  buckets = new Map<string, BucketStatus>();
  keys = new Map<string, { secretAccessKey: string; user: string }>();
  users = new Map<string, UserStatus>([
    ['admin', { id: 'admin', displayName: 'admin', disabled: false, superuser: true, createdAt: '', keys: [], buckets: [] }],
  ]);
  claims = new Map<string, { namespace: string; name: string; uid: string }>();
  calls: string[] = [];
  /** The last request for each bucket, as the operator sent it. */
  requests = new Map<string, BucketRequest>();
  refuseDrain?: string; // when set, drain answers 409 with this reason
  /** Per bucket, what the cluster says about its convergence to its factor (absent: an older cluster). */
  replication = new Map<string, NonNullable<BucketStatus['replication']>>();
  reachable = true;
  /** The notification targets the cluster declares (bucket rules must name one). */
  notificationTargets = new Set<string>();
  /** The secret each bucket's replication rule was given, and the progress every bucket reports. */
  replicationSecrets = new Map<string, string>();
  replicationProgress = { backlog: 0, lagSeconds: 0, backfill: 'done' as const, membersAnswered: 3, membersAsked: 3 };
  urls = new Set<string>();

  setMembers(names: string[], state: MemberState = 'active'): void {
    for (const name of names) {
      this.members.set(name, {
        id: name,
        name,
        roles: [name.includes('-roots-') ? 'root' : 'node'],
        state,
        zone: '',
        weight: 1,
        api: '',
        cluster: '',
        capacityBytes: 10 * 2 ** 30,
        usedBytes: 2 ** 30,
        chunks: 1,
        heartbeatAgeMs: 10,
        repair: idle,
      });
    }
  }

  setState(name: string, state: MemberState): void {
    const m = this.members.get(name);
    if (m) m.state = state;
  }

  /** An AdminClientFactory for the operator. */
  factory = (opts: { url: string; secret: string }): AdminClient => {
    this.urls.add(opts.url);
    const check = () => {
      if (!this.reachable) throw new AdminApiError('Unreachable', 0, `admin API at ${opts.url} unreachable`);
    };
    const member = (name: string) => {
      const m = this.members.get(name);
      if (!m) throw new AdminApiError('NoSuchMember', 404, `no member ${name}`);
      return m;
    };
    return {
      status: async (): Promise<ClusterStatus> => {
        check();
        const members = [...this.members.values()].map((m) => ({ ...m }));
        const counts = { joining: 0, active: 0, draining: 0, drained: 0, down: 0 } as Record<MemberState, number>;
        for (const m of members) counts[m.state]++;
        return {
          clusterId: 'memory',
          endpoint: 'http://memory',
          region: 'us-east-1',
          members,
          buckets: [...this.buckets.values()],
          repair: idle,
          counts,
          capacityBytes: members.reduce((a, m) => a + m.capacityBytes, 0),
          usedBytes: members.reduce((a, m) => a + m.usedBytes, 0),
          writeQuorumAvailable: true,
        };
      },
      users: async () => {
        check();
        return [...this.users.values()].map((u) => ({ ...u }));
      },
      putUser: async (req: UserRequest) => {
        check();
        this.calls.push(`putUser ${req.id}`);
        const u: UserStatus = {
          ...(this.users.get(req.id) ?? { id: req.id, disabled: false, superuser: false, createdAt: new Date().toISOString(), keys: [], buckets: [] }),
          displayName: req.displayName ?? req.id,
        };
        this.users.set(req.id, u);
        return u;
      },
      putBucket: async (req: BucketRequest) => {
        check();
        this.calls.push(`putBucket ${req.name} r=${req.replicas} ${req.access}`);
        this.requests.set(req.name, req);
        const prev = this.buckets.get(req.name);
        const owner = req.owner ?? prev?.owner ?? 'admin';
        // As the node runtime's admin API (admin/buckets.ts): the owner must exist; a name is its first claim's.
        if (!this.users.has(owner)) throw new AdminApiError('NoSuchUser', 404, `no user ${owner}`);
        for (const g of req.grants ?? []) if (!this.users.has(g.user)) throw new AdminApiError('NoSuchUser', 404, `no user ${g.user} to grant ${g.access} to`);
        const held = this.claims.get(req.name);
        if (req.claim && held && held.uid !== req.claim.uid)
          throw new AdminApiError('NameTaken', 409, `bucket ${req.name} is claimed by Bucket ${held.namespace}/${held.name}`);
        if (req.claim && prev && !held && prev.owner !== owner)
          throw new AdminApiError('NameTaken', 409, `bucket ${req.name} already exists and belongs to user ${prev.owner}`);
        if (req.claim) this.claims.set(req.name, req.claim);
        const replication = this.replication.get(req.name);
        const shares = req.grants === undefined ? prev?.shares : req.grants.length ? req.grants.map((g) => ({ ...g })) : undefined;
        const encryption = req.encryption === undefined ? prev?.encryption : (req.encryption ?? undefined);
        const claim = this.claims.get(req.name);
        const b: BucketStatus = {
          name: req.name,
          owner,
          replicas: req.replicas ?? 1,
          access: req.access ?? 'private',
          ...(claim ? { claim } : {}),
          ...(shares ? { shares } : {}),
          ...(encryption ? { encryption } : {}),
          quotaBytes: req.quotaBytes,
          quotaObjects: req.quotaObjects,
          objects: prev?.objects ?? 0,
          bytes: prev?.bytes ?? 0,
          createdAt: prev?.createdAt ?? new Date().toISOString(),
          ...(replication ? { replication } : {}),
        };
        // As the node runtime: absent leaves the rules, [] clears them; targets must be declared.
        const undeclared = req.notifications?.find((n) => !this.notificationTargets.has(n.target));
        if (undeclared) throw new AdminApiError('InvalidArgument', 400, `notifications: no target ${undeclared.target} is declared on the cluster`);
        const notifications = req.notifications ?? prev?.notifications;
        if (notifications?.length) b.notifications = notifications;
        // Replication: the rule as the node runtime shows it (no secret); progress as a test sets it.
        const to =
          req.replicateTo === undefined
            ? prev?.replicateTo
            : req.replicateTo === null
              ? undefined
              : {
                  id: 'r1',
                  endpoint: req.replicateTo.endpoint,
                  bucket: req.replicateTo.bucket,
                  region: req.replicateTo.region ?? 'us-east-1',
                  deletes: req.replicateTo.deletes ?? false,
                  accessKeyId: req.replicateTo.accessKeyId,
                };
        if (req.replicateTo) this.replicationSecrets.set(req.name, req.replicateTo.secretAccessKey);
        if (to) b.replicateTo = { ...to, progress: this.replicationProgress };
        this.buckets.set(req.name, b);
        return b;
      },
      deleteBucket: async (name: string, o: { purge?: boolean } = {}) => {
        check();
        this.calls.push(`deleteBucket ${name} purge=${!!o.purge}`);
        if (!this.buckets.delete(name)) throw new AdminApiError('NoSuchBucket', 404, `no bucket ${name}`);
        this.claims.delete(name); // the claim is part of the bucket's settings: it goes with them
      },
      createKey: async (req: AccessKeyRequest) => {
        check();
        const accessKeyId = `KEY${this.keys.size + 1}`;
        const secretAccessKey = `secret-${accessKeyId}`;
        if (!this.users.has(req.user)) throw new AdminApiError('NoSuchUser', 404, `no user ${req.user}`);
        this.keys.set(accessKeyId, { secretAccessKey, user: req.user });
        this.calls.push(`createKey ${accessKeyId} ${req.user}`);
        return { accessKeyId, secretAccessKey, user: req.user };
      },
      deleteKey: async (id: string) => {
        check();
        this.calls.push(`deleteKey ${id}`);
        if (!this.keys.delete(id)) throw new AdminApiError('NoSuchKey', 404, `no key ${id}`);
      },
      drain: async (name: string) => {
        check();
        this.calls.push(`drain ${name}`);
        if (this.refuseDrain) throw new AdminApiError('DrainRefused', 409, this.refuseDrain);
        const m = member(name);
        if (m.state === 'active' || m.state === 'joining') m.state = 'draining';
        return { ...m };
      },
      undrain: async (name: string) => {
        check();
        this.calls.push(`undrain ${name}`);
        const m = member(name);
        m.state = 'active';
        return { ...m };
      },
      forget: async (name: string) => {
        check();
        this.calls.push(`forget ${name}`);
        this.members.delete(name);
      },
    };
  };
}
