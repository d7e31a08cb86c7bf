// The admin API contract (cluster port, JSON under /admin/v1, authenticated with the cluster
// secret as `Authorization: Bearer <secret>`). The operator and the `cairn` CLI depend on these
// types and on admin/client.ts, never on the node runtime's internals.
import type { BucketAccess, BucketClaim, BucketShare, ClusterSettings, DiskState, MemberState, ObjectOwnership, RepairProgress } from '../cluster/types.ts';
import type { UserQuota } from '../access/users.ts';

export type { RepairProgress, UserQuota };

export interface MemberStatus {
  id: string;
  name: string;
  roles: ('root' | 'node')[];
  state: MemberState;
  zone: string;
  weight: number;
  api: string;
  cluster: string;
  capacityBytes: number;
  usedBytes: number;
  chunks: number;
  heartbeatAgeMs: number;
  repair: RepairProgress;
  /** Its data disk as last reported: `full` takes no new chunks (serves reads), `failed` is out of placement and readiness. Absent from members that hold no data or predate it. */
  disk?: DiskState;
  /** Bytes free on its data disk, as last reported. */
  freeBytes?: number;
  /** When the roots recorded its current state (joined, went down, came back, began draining): the cluster's recent events. */
  stateChangedAt?: string;
}

export interface BucketStatus {
  name: string;
  owner: string; // user id
  replicas: number;
  access: BucketAccess;
  claim?: BucketClaim;
  /** Users besides the owner who may read, or read and write, every object (BucketRequest.grants). */
  shares?: BucketShare[];
  /** Default encryption of new objects; absent: none. */
  encryption?: 'AES256';
  quotaBytes?: number;
  quotaObjects?: number;
  objects: number;
  bytes: number;
  createdAt: string;
  /** Its notification rules, when it has any. */
  notifications?: BucketNotification[];
  /** Where its objects are copied to (no secret), when they are. */
  replicateTo?: {
    id: string;
    endpoint: string;
    bucket: string;
    region: string;
    prefix?: string;
    deletes: boolean;
    accessKeyId: string;
    progress?: ReplicationProgress;
  };
  /** Whether every object holds `replicas` (admin/convergence.ts); absent from older servers. */
  replication?: { underReplicatedChunks: number; surplusChunks: number; converged: boolean; waitingFor: string[] };
}

export interface ClusterStatus {
  clusterId: string;
  endpoint: string; // a file API URL
  region: string;
  members: MemberStatus[];
  buckets: BucketStatus[];
  repair: RepairProgress; // cluster-wide sum
  counts: Record<MemberState, number>;
  capacityBytes: number;
  usedBytes: number;
  writeQuorumAvailable: boolean; // every bucket can reach W of its replicas
  /** Users with a quota: their plan and what they hold (absent from older servers). */
  users?: UserUsage[];
}

/** What a user holds across the buckets it owns, beside its plan. */
export interface UserUsage {
  id: string;
  quota?: UserQuota;
  buckets: number;
  objects: number;
  bytes: number;
}

export interface BucketRequest {
  name: string;
  /** The owning user (created with the bucket when unknown is an error: create the user first). Default: admin. */
  owner?: string;
  replicas?: number;
  access?: BucketAccess;
  /** Bind the name to a Kubernetes Bucket: a bucket claimed by another (namespace, name, uid) is 409 NameTaken. */
  claim?: BucketClaim;
  /** Users (besides the owner) that may read, or read and write, the bucket's objects. */
  grants?: { user: string; access: 'read' | 'read-write' }[];
  /** Default encryption of new objects; null turns it off. */
  encryption?: 'AES256' | null;
  /** Who owns objects written into it; a bucket made here defaults to BucketOwnerEnforced (every
   *  object is the bucket owner's, ACLs are off: S3's default for new buckets). */
  ownership?: ObjectOwnership;
  quotaBytes?: number;
  quotaObjects?: number;
  /** Where the bucket's events go (replaces the whole configuration, as PutBucketNotificationConfiguration
   *  does; [] turns notifications off; absent leaves them as they are). Targets are the cluster's declared ones. */
  notifications?: BucketNotification[];
  /** Copy the bucket's objects to another S3 store (null: stop). The same target again changes nothing. */
  replicateTo?: ReplicationRequest | null;
}

/** Replication of a bucket over every member that answered (best effort, bounded in time). */
export interface ReplicationProgress {
  backlog: number; // outbox entries not yet replicated, summed over members
  lagSeconds: number; // age of the oldest change not copied yet, the largest over members
  backfill: 'done' | 'running' | 'unknown';
  membersAnswered: number;
  membersAsked: number;
}

export interface ReplicationRequest {
  endpoint: string; // http(s)://host[:port]
  bucket: string;
  region?: string; // default us-east-1
  accessKeyId: string;
  secretAccessKey: string;
  prefix?: string;
  deletes?: boolean; // default false
}

/** One notification rule, as Bucket.spec.notifications and the admin API give it. */
export interface BucketNotification {
  id?: string; // default: generated
  target: string; // a target declared on the cluster
  events: string[]; // s3:ObjectCreated:*, s3:ObjectRemoved:Delete, ...
  prefix?: string;
  suffix?: string;
}

export interface UserRequest {
  id: string;
  displayName?: string;
  email?: string;
  disabled?: boolean;
}

export interface UserStatus {
  id: string;
  displayName: string;
  email?: string;
  disabled: boolean;
  superuser: boolean;
  createdAt: string;
  keys: KeyStatus[];
  buckets: string[]; // buckets the user owns
  /** Its plan (absent: no limits) and what it holds now. */
  quota?: UserQuota;
  usage?: { buckets: number; objects: number; bytes: number };
}

export interface KeyStatus {
  accessKeyId: string;
  user: string;
  disabled: boolean;
  createdAt: string;
}

export interface AccessKeyRequest {
  user: string; // the user the key belongs to (must exist)
  accessKeyId?: string; // chosen id, or generated
  secretAccessKey?: string; // chosen secret, or generated
}

/** The only answer that ever carries a secret key: the one that created it. */
export interface AccessKeyResponse {
  accessKeyId: string;
  secretAccessKey: string;
  user: string;
}

/** Drain refusal or other admin error body: `{ error: { code, message } }` with a 4xx/5xx status. */
export interface AdminError {
  error: { code: string; message: string };
}

/**
 * Routes (all JSON):
 *   GET    /admin/v1/status                      → ClusterStatus
 *   GET    /admin/v1/buckets                     → BucketStatus[]
 *   PUT    /admin/v1/buckets/:name   BucketRequest → BucketStatus   (create or update)
 *   DELETE /admin/v1/buckets/:name?purge=true    → 204  (purge deletes the objects; else BucketNotEmpty 409)
 *   GET    /admin/v1/users                       → UserStatus[]
 *   PUT    /admin/v1/users/:id      UserRequest  → UserStatus     (create or update; disabled: true stops its keys everywhere)
 *   DELETE /admin/v1/users/:id                   → 204  (its keys go too; 409 UserOwnsBuckets while it owns buckets)
 *   PUT    /admin/v1/users/:id/quota  UserQuota  → UserStatus     (limits over its buckets; {} removes them; seen everywhere within a heartbeat)
 *   POST   /admin/v1/keys            AccessKeyRequest → AccessKeyResponse
 *   PATCH  /admin/v1/keys/:id       { disabled }  → KeyStatus
 *   DELETE /admin/v1/keys/:id                    → 204
 *   POST   /admin/v1/members/:idOrName/drain     → MemberStatus (409 DrainRefused with the reason)
 *   POST   /admin/v1/members/:idOrName/undrain   → MemberStatus
 *   DELETE /admin/v1/members/:idOrName           → 204 (forget a drained or down member)
 *   GET    /admin/v1/settings                    → ClusterSettings
 *   PUT    /admin/v1/settings   Partial<ClusterSettings> → ClusterSettings (changed at run time; a root's flags win again when it restarts)
 */
export interface AdminClient {
  status(): Promise<ClusterStatus>;
  putBucket(req: BucketRequest): Promise<BucketStatus>;
  deleteBucket(name: string, opts?: { purge?: boolean }): Promise<void>;
  users?(): Promise<UserStatus[]>;
  putUser(req: UserRequest): Promise<UserStatus>;
  deleteUser?(id: string): Promise<void>;
  putUserQuota?(id: string, quota: UserQuota): Promise<UserStatus>;
  createKey(req: AccessKeyRequest): Promise<AccessKeyResponse>;
  setKeyDisabled?(accessKeyId: string, disabled: boolean): Promise<KeyStatus>;
  /** Console sessions of the key issued at or before notBefore (ms) end on every node. */
  endSessions?(accessKeyId: string, notBefore: number): Promise<KeyStatus>;
  deleteKey(accessKeyId: string): Promise<void>;
  drain(member: string): Promise<MemberStatus>;
  undrain(member: string): Promise<MemberStatus>;
  forget(member: string): Promise<void>;
  /** Cluster settings (failure timeout, repair bandwidth/concurrency, default R, ...). Optional for other implementations. */
  settings?(): Promise<ClusterSettings>;
  putSettings?(changes: Partial<ClusterSettings>): Promise<ClusterSettings>;
}
