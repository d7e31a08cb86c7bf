// The internal chunk and metadata interfaces: what one member offers the coordinators. The local
// member implements them directly over its stores; other members through internal RPC with the
// same signatures, so the coordinators never know whether data is local. A ReplicaDirectory hands
// out the right one per member (replica-directory.ts); the cluster layer knows members, not replicas.
import type { Readable } from 'node:stream';
import type { ChunkBuffer } from '../chunks/buffer.ts';
import type { BufferMemory } from '../chunks/memory.ts';
import type { ClusterView } from '../cluster/types.ts';
import type { PeerHealth } from '../cluster/peer-health.ts';
import type {
  GetVersionsOptions,
  KeyReservation,
  ListVersionsOptions,
  MultipartUpload,
  ObjectVersion,
  PartRecord,
  ReserveOutcome,
  WriteOptions,
  WriteOutcome,
} from '../meta/records.ts';
import type { BucketUsage } from '../meta/store.ts';
import type { PartitionDigest } from '../meta/digest.ts';

export type { BucketUsage, PartitionDigest, GetVersionsOptions, KeyReservation, ListVersionsOptions, ReserveOutcome, WriteOptions, WriteOutcome };

export interface ChunkReplica {
  readonly memberId: string;
  /**
   * Store a chunk; the receiver verifies sha256(body) === id and makes it durable before resolving.
   * Idempotent. A ChunkBuffer stays the caller's: it ends it once every replica write finished, or,
   * sooner, once each told `written` (at most once: its bytes are no longer read, only made durable;
   * a member across the network does not tell, its request reads them until it is answered).
   */
  putChunk(id: string, body: ChunkBuffer | Readable, size: number, signal?: AbortSignal, written?: () => void): Promise<void>;
  /**
   * The chunk's verified bytes (or [start, end] inclusive of them), in a buffer the caller owns and
   * ends (release once nothing holds the bytes). Rejects with NotFound if absent.
   * `callerVerifies`: the caller hashes the whole chunk it receives anyway (every caller across the
   * network does), so the member may send it without hashing it first — one SHA-256 per chunk
   * instead of two. A corrupt copy then fails the caller's check (it tries another replica) instead
   * of the member's; scrub finds and replaces it either way. Ignored for ranges, which only the
   * member can verify.
   */
  getChunk(id: string, range?: { start: number; end: number }, signal?: AbortSignal, callerVerifies?: boolean): Promise<ChunkBuffer>;
  /** Which of these chunks the member holds. */
  hasChunks(ids: string[]): Promise<boolean[]>;
  deleteChunk(id: string): Promise<void>;
}

export interface MetaReplica {
  readonly memberId: string;
  /** Merge a record into its slot: kept only if newer than the slot's (meta/lww.ts). Returns the slot's winner. */
  putVersion(v: ObjectVersion): Promise<ObjectVersion>;
  /** A coordinator's write: merged as putVersion, unless refused by its fences (meta/store.ts writeVersion). */
  writeVersion(v: ObjectVersion, opts: WriteOptions): Promise<WriteOutcome>;
  /** One slot's record (`versionId` an S3 version id, 'null' included); without one, the key's newest record. */
  getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersion | undefined>;
  /** Every record of a key (the current one whole, the others without body); `bodies: false`: the
   *  current one without its inline body too (a read that takes the body from another replica). */
  getVersions(bucket: string, key: string, opts?: GetVersionsOptions): Promise<ObjectVersion[]>;
  /** Records in (key, slot) order, tombstones included (the coordinator merges replicas slot by slot). */
  listVersions(bucket: string, opts: ListVersionsOptions): Promise<ObjectVersion[]>;
  /** Live objects, versions and bytes in a bucket partition (for quotas, status and BucketNotEmpty). */
  bucketUsage(bucket: string): Promise<Partial<BucketUsage> & { objects: number; bytes: number }>;
  /** The first phase of a conditional write: hold a key (data/conditional.ts). */
  reserveKey(bucket: string, key: string, r: KeyReservation): Promise<ReserveOutcome>;
  releaseKey(bucket: string, key: string, id: string): Promise<void>;

  putUpload(u: MultipartUpload): Promise<void>;
  getUpload(bucket: string, uploadId: string): Promise<MultipartUpload | undefined>;
  listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]>;
  putPart(bucket: string, uploadId: string, part: PartRecord): Promise<void>;
  listParts(bucket: string, uploadId: string): Promise<PartRecord[]>;
  /** Remove an upload and its part records (after completion or abort). */
  deleteUpload(bucket: string, uploadId: string): Promise<void>;
  /** Remove the tombstone `versionId` of a key if it is still its slot's record (tombstone GC); true when removed. */
  removeTombstone(bucket: string, key: string, versionId: string): Promise<boolean>;
  /** The digest of every partition held (meta/digest.ts): repair skips a holder whose digest equals its own. */
  partitionDigests(): Promise<Record<string, PartitionDigest>>;
}

/** The replica of each member a coordinator calls: this member's own stores, the others' over RPC. */
export interface ReplicaDirectory {
  chunks(memberId: string): ChunkReplica;
  meta(memberId: string): MetaReplica;
}

/** The cluster as this member sees it and every member's replicas (what repair walks). */
export interface ClusterReplicas {
  view: ClusterView;
  replicas: ReplicaDirectory;
}

/** What a coordinator works with: the cluster, every member's replicas, and this node's buffer memory. */
export interface DataPlane extends ClusterReplicas {
  memory: BufferMemory;
  /** Members that failed to answer lately: writes go around them, reads ask them last (none: trust the map). */
  health?: PeerHealth;
}
