// The internal chunk and metadata interfaces: what one member offers the coordinators. The local
// member implements them directly over its stores; other members through internal RPC with the
// same signatures, so the coordinators never know whether data is local. A ReplicaDirectory hands
// out the right one per member (replica-directory.ts); the cluster layer knows members, not replicas.
import type { Readable } from 'node:stream';
import type { ChunkBuffer } from '../chunks/buffer.ts';
import type { BufferMemory } from '../chunks/memory.ts';
import type { ClusterView } from '../cluster/types.ts';
import type { PeerHealth } from '../cluster/peer-health.ts';
import type { ListVersionsOptions, MultipartUpload, ObjectVersion, PartRecord } from '../meta/records.ts';

export type { ListVersionsOptions };

export interface ChunkReplica {
  readonly memberId: string;
  /**
   * Store a chunk; the receiver verifies sha256(body) === id and makes it durable before resolving.
   * Idempotent. A ChunkBuffer stays the caller's: it ends it once every replica write finished.
   */
  putChunk(id: string, body: ChunkBuffer | Readable, size: number, signal?: AbortSignal): Promise<void>;
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
  /** Merge a version: kept only if newer than what is stored (timestamp, then writer id). Returns the winner. */
  putVersion(v: ObjectVersion): Promise<ObjectVersion>;
  getVersion(bucket: string, key: string): Promise<ObjectVersion | undefined>;
  /** Latest version per key in key order, tombstones included (the coordinator merges replicas). */
  listVersions(bucket: string, opts: ListVersionsOptions): Promise<ObjectVersion[]>;
  /** Number of live objects and bytes in a bucket partition (for quotas, status and BucketNotEmpty). */
  bucketUsage(bucket: string): Promise<{ objects: number; bytes: number }>;

  putUpload(u: MultipartUpload): Promise<void>;
  getUpload(bucket: string, uploadId: string): Promise<MultipartUpload | undefined>;
  listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]>;
  putPart(bucket: string, uploadId: string, part: PartRecord): Promise<void>;
  listParts(bucket: string, uploadId: string): Promise<PartRecord[]>;
  /** Remove an upload and its part records (after completion or abort). */
  deleteUpload(bucket: string, uploadId: string): Promise<void>;
  /** Remove the tombstone `versionId` of a key if it is still the stored version (tombstone GC); true when removed. */
  removeTombstone(bucket: string, key: string, versionId: string): Promise<boolean>;
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
