// The admin API contract (cluster port, JSON under /admin/v1, authenticated with the cluster
// secret as `Authorization: Bearer <secret>`). The operator and the `cairn` CLI depend on these
// types and on admin/client.ts, never on the node runtime's internals.
import type { BucketAccess, ClusterSettings, DiskState, MemberState, RepairProgress } from '../cluster/types.ts';

export type { RepairProgress };

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
}

export interface BucketStatus {
  name: string;
  replicas: number;
  access: BucketAccess;
  quotaBytes?: number;
  quotaObjects?: number;
  objects: number;
  bytes: number;
  createdAt: string;
}

export interface ClusterStatus {
  clusterId: string;
  endpoint: string;                 // a file API URL
  region: string;
  members: MemberStatus[];
  buckets: BucketStatus[];
  repair: RepairProgress;           // cluster-wide sum
  counts: Record<MemberState, number>;
  capacityBytes: number;
  usedBytes: number;
  writeQuorumAvailable: boolean;    // every bucket can reach W of its replicas
}

export interface BucketRequest {
  name: string;
  replicas?: number;
  access?: BucketAccess;
  quotaBytes?: number;
  quotaObjects?: number;
}

export interface AccessKeyRequest {
  accessKeyId?: string;             // chosen id, or generated
  secretAccessKey?: string;         // chosen secret, or generated
  name?: string;
  buckets?: string[];               // restrict to these buckets; omitted = all
}

export interface AccessKeyResponse { accessKeyId: string; secretAccessKey: string; name?: string; buckets?: string[] }

/** Drain refusal or other admin error body: `{ error: { code, message } }` with a 4xx/5xx status. */
export interface AdminError { error: { code: string; message: string } }

/**
 * Routes (all JSON):
 *   GET    /admin/v1/status                      → ClusterStatus
 *   GET    /admin/v1/buckets                     → BucketStatus[]
 *   PUT    /admin/v1/buckets/:name   BucketRequest → BucketStatus   (create or update)
 *   DELETE /admin/v1/buckets/:name?purge=true    → 204  (purge deletes the objects; else BucketNotEmpty 409)
 *   POST   /admin/v1/keys            AccessKeyRequest → AccessKeyResponse
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
  createKey(req: AccessKeyRequest): Promise<AccessKeyResponse>;
  deleteKey(accessKeyId: string): Promise<void>;
  drain(member: string): Promise<MemberStatus>;
  undrain(member: string): Promise<MemberStatus>;
  forget(member: string): Promise<void>;
  /** Cluster settings (failure timeout, repair bandwidth/concurrency, default R, ...). Optional for other implementations. */
  settings?(): Promise<ClusterSettings>;
  putSettings?(changes: Partial<ClusterSettings>): Promise<ClusterSettings>;
}
