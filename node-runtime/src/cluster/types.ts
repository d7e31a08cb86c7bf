// The cluster's shared vocabulary: members of the cluster map, bucket settings of the bucket
// registry, cluster-wide settings, and the ClusterView through which the data path sees them.
// Roots hold the authoritative (CRDT-merged) copies; every node caches them (see DESIGN.md).
import type { Acl } from '../access/acl.ts';
import type { PublicAccessBlock } from '../access/authorize.ts';
import type { KeyRecord, UserRecord } from '../access/users.ts';

export type { KeyRecord, UserRecord };

export type MemberState = 'joining' | 'active' | 'draining' | 'drained' | 'down';
/** A member's data disk (chunks/disk.ts): `full` takes no new chunks but serves reads; `failed` holds nothing usable. */
export type DiskState = 'ok' | 'full' | 'failed';
export type Role = 'root' | 'node';

export interface Member {
  id: string; // stable node id, kept in the data dir
  name: string; // human name, e.g. the pod name "nodes-2"
  roles: Role[]; // a process may be both (single-process clusters)
  api: string; // file API base URL, e.g. http://127.0.0.2:9000
  cluster: string; // cluster port base URL, e.g. http://127.0.0.2:9100
  zone: string; // failure domain; '' when unset
  weight: number; // capacity weight for placement (> 0)
  state: MemberState;
  capacityBytes: number;
  usedBytes: number;
  lastHeartbeat: number; // ms since epoch, as seen by the root that wrote the entry
  chunks?: number; // chunks stored, as last reported in a heartbeat
  disk?: DiskState; // its data disk, as last reported (absent: ok)
  freeBytes?: number; // free on its data disk, as last reported
  stateSince?: number; // ms since epoch: when a root recorded its current state (the state's LWW time)
}

/** A member's repair progress, as its repair worker reports it in heartbeats (and the admin API shows it). */
export interface RepairProgress {
  underReplicatedChunks: number;
  misplacedChunks: number;
  bytesRemaining: number;
  bytesMoved: number;
  rateBytesPerSec: number;
  etaSeconds: number | null; // null when idle or unknown
  /** Per member: when its last complete repair pass started (ms since epoch; 0 = none yet). A zero
   *  under-replicated count only speaks for the map of a pass that started after a change. */
  lastPassAt?: number;
  passes?: number;
  /** Every bucket of the registry as this member's current pass planned it (counts left out when 0). */
  buckets?: Record<string, BucketRepair>;
}

/** One bucket in a member's repair pass: the R it planned with, the bucket's items below their R that
 *  this member repairs, and surplus copies held here that wait to be dropped (an R lowered, a move). */
export interface BucketRepair {
  r: number;
  under?: number;
  surplus?: number;
}

export type BucketAccess = 'private' | 'public-read';

/** Who owns the objects written into a bucket (S3's Object Ownership). */
export type ObjectOwnership = 'ObjectWriter' | 'BucketOwnerPreferred' | 'BucketOwnerEnforced';

/** The Kubernetes Bucket that claimed a bucket name first (a later claim elsewhere is refused). */
export interface BucketClaim {
  namespace: string;
  name: string;
  uid: string;
}

export interface BucketShare {
  user: string;
  access: 'read' | 'read-write';
}

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

/** A bucket's object lock: enabled at creation, with the retention new versions get by default. */
export interface ObjectLockSettings {
  enabled: true;
  defaultRetention?: { mode: RetentionMode; days?: number; years?: number };
}
/** One rule of a bucket's notification configuration: which events go to which declared target (events/notification-config.ts). */
export interface BucketNotificationRule {
  id: string;
  destination: 'Queue' | 'Topic' | 'CloudFunction';
  arn: string;
  target: string;
  events: string[];
  prefix?: string;
  suffix?: string;
}

export interface BucketSettings {
  name: string;
  createdAt: string; // ISO time
  owner: string; // user id of the owner (access/users.ts)
  replicas: number; // R for this bucket
  /** What anonymous callers may do, as the operator and the admin API speak of it; the ACL is the truth. */
  access: BucketAccess;
  acl?: Acl; // absent: the canned ACL `access` names, for the owner
  policy?: string; // the bucket policy document, exactly as put (access/policy.ts parses it)
  publicAccessBlock?: PublicAccessBlock;
  encryption?: 'AES256'; // default encryption of new objects (SSE-S3)
  ownership?: ObjectOwnership;
  claim?: BucketClaim;
  /** Other users who may read (or read and write) every object, as Kubernetes Buckets share data. */
  shares?: BucketShare[];
  quotaBytes?: number;
  quotaObjects?: number;
  /** S3 versioning: absent = never enabled (only null versions); once Enabled it can only be Suspended. */
  versioning?: 'Enabled' | 'Suspended';
  /** Object lock (WORM), chosen at creation only; needs versioning Enabled. */
  objectLock?: ObjectLockSettings;
  /** The lifecycle configuration, as its rules were normalised when put (s3/semantics/lifecycle.ts renders and parses it). */
  lifecycle?: string;
  /** CORS rules (PutBucketCors); absent: browsers on other origins are refused. */
  cors?: BucketCorsRule[];
  /** The LocationConstraint it was created with, answered by GetBucketLocation. */
  location?: string;
  /** The bucket's own tags (PutBucketTagging), not its objects'. */
  tags?: { key: string; value: string }[];
  /** Where its events go (PutBucketNotificationConfiguration, Bucket.spec.notifications); absent: the change feed only. */
  notifications?: BucketNotificationRule[];
  /** Copy its objects to another S3 store (Bucket.spec.replication.to, the admin API); events/replication.ts. */
  replicateTo?: ReplicationRule;
  deleted?: boolean; // tombstone in the registry (LWW map entries are never physically removed at once)
}

/** Where a bucket's objects are copied to. A new `id` (a changed target) copies every object again. */
export interface ReplicationRule {
  id: string;
  endpoint: string; // http(s)://host[:port] of the other store's S3 API
  bucket: string;
  region: string;
  accessKeyId: string;
  sealedSecret: string; // the secret key, sealed under the master key (access/users.ts sealSecret)
  prefix?: string; // only keys under it
  deletes: boolean; // replicate deletions too
  createdAt: number; // ms: changes recorded from then on are copied as they come; older ones by the backfill
}

/** One CORS rule, as s3/semantics/cors.ts parses and matches it. */
export interface BucketCorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: ('GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD')[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** An access key as stored before users existed: the secret in clear, optionally limited to some
 *  buckets. Still read (an unrestricted one is a key of the admin user), never written again. */
export interface LegacyAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  name?: string;
  buckets?: string[];
  deleted?: boolean;
}

export type StoredKey = KeyRecord | LegacyAccessKey;

export interface ClusterSettings {
  chunkSize: number; // bytes, default 4 MiB
  inlineMax: number; // bodies up to this size are stored inline in metadata, default 64 KiB
  defaultReplicas: number; // R for new buckets
  failureTimeoutMs: number; // heartbeat silence before a member is `down`
  repairBandwidthBytes: number; // per-node repair bandwidth limit (bytes/s), 0 = unlimited
  repairConcurrency: number;
  gcGraceMs: number; // grace before unreferenced chunks are deleted
  region: string;
}

export const defaultSettings: ClusterSettings = {
  chunkSize: 4 * 1024 * 1024,
  inlineMax: 64 * 1024,
  defaultReplicas: 1,
  failureTimeoutMs: 30_000,
  repairBandwidthBytes: 0,
  repairConcurrency: 8, // chunk copies in flight per node; each holds a chunk from the node's buffer memory budget
  gcGraceMs: 10 * 60_000,
  region: 'us-east-1',
};

/**
 * What the data path (data/) needs from the cluster layer: the cached cluster map, the bucket
 * registry and the settings. Where a member's chunks and metadata are reached is the data layer's
 * business (data/replica-directory.ts). A single-process cluster is just a view with one member.
 */
export interface ClusterView {
  readonly selfId: string;
  settings(): ClusterSettings;
  members(): Member[];
  member(id: string): Member | undefined;
  bucket(name: string): BucketSettings | undefined;
  buckets(): BucketSettings[];
  putBucket(settings: BucketSettings): Promise<void>; // create/update in the registry (via roots)
  removeBucket(name: string): Promise<void>; // tombstone in the registry
  /** Called whenever the map or registry changes (repair and caches listen). */
  onChange(listener: () => void): () => void;
}

/**
 * The view plus the writes the admin API makes: users and their keys, member states and settings,
 * recorded by the roots (a cluster of one records them itself and refuses what it cannot do).
 */
export interface ClusterControl extends ClusterView {
  clusterId(): string;
  users(): UserRecord[];
  user(id: string): UserRecord | undefined;
  putUser(user: UserRecord): Promise<void>;
  keys(): StoredKey[];
  key(accessKeyId: string): StoredKey | undefined;
  putKey(key: KeyRecord): Promise<void>;
  removeKey(accessKeyId: string): Promise<void>;
  setMemberState(memberId: string, state: MemberState): Promise<void>;
  forgetMember(memberId: string): Promise<void>;
  putSettings(changes: Partial<ClusterSettings>): Promise<void>;
}
