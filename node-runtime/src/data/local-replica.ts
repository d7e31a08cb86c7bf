// The local member's side of the replica interfaces (data/replicas.ts), directly over its stores.
// Remote members implement the same interfaces over internal RPC.
import type { Readable } from 'node:stream';
import type {
  BucketUsage,
  ChunkReplica,
  KeyReservation,
  ListVersionsOptions,
  MetaReplica,
  PartitionDigest,
  ReserveOutcome,
  WriteOptions,
  WriteOutcome,
  GetVersionsOptions,
} from './replicas.ts';
import type { MultipartUpload, ObjectVersion, PartRecord } from './types.ts';
import { ChunkBuffer } from '../chunks/buffer.ts';
import { ChunkError } from '../chunks/errors.ts';
import { OFF_THREAD_MIN } from '../chunks/hasher.ts';
import type { MemoryBudget } from '../chunks/memory.ts';
import { fillFrom } from '../chunks/chunker.ts';
import type { ChunkStore } from '../chunks/store.ts';
import type { DiskMonitor } from '../chunks/disk.ts';
import { s3Error } from '../util/errors.ts';
import type { MetaStore } from '../meta/store.ts';

export class LocalChunkReplica implements ChunkReplica {
  readonly memberId: string;
  private readonly store: ChunkStore;
  private readonly disk: DiskMonitor | undefined;
  private readonly memory: MemoryBudget | undefined;
  /** `memory`: the node's chunk budget; a chunk sent by another member is gathered under it when it has room. */
  constructor(memberId: string, store: ChunkStore, disk?: DiskMonitor, memory?: MemoryBudget) {
    this.memberId = memberId;
    this.store = store;
    this.disk = disk;
    this.memory = memory;
  }

  /**
   * Refused while the data disk is full or failed (a coordinator with an older map then writes the
   * next member of the placement order); an error of the disk itself is reported to its monitor.
   */
  async putChunk(id: string, body: ChunkBuffer | Readable, size: number, signal?: AbortSignal, written?: () => void): Promise<void> {
    const disk = this.disk?.status;
    if (disk && disk.state !== 'ok') {
      throw s3Error(disk.state === 'full' ? 'InsufficientStorage' : 'ServiceUnavailable', `this member takes no new chunks: ${disk.reason}`);
    }
    try {
      const grant = !(body instanceof ChunkBuffer) && size >= OFF_THREAD_MIN ? this.memory?.tryTake(size) : undefined;
      if (grant) await this.putGathered(id, body as Readable, ChunkBuffer.take(size, grant), signal);
      else await this.store.put(id, body, size, signal, written);
    } catch (e) {
      this.disk?.sawError(e);
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC')
        throw s3Error('InsufficientStorage', `no space left on this member's data disk (chunk ${id.slice(0, 12)})`, { cause: e });
      throw e;
    }
  }

  /**
   * A chunk another member sends, gathered whole in `into` (memory the node's budget had free: only
   * tried for, never waited for, so members sending to each other cannot wait on each other's
   * memory), then hashed on a hash worker and written like a local one (direct to the disk, see
   * chunks/store.ts). Without room it is streamed to disk through the page cache instead, hashed here.
   */
  private async putGathered(id: string, body: Readable, into: ChunkBuffer, signal?: AbortSignal): Promise<void> {
    try {
      const declared = into.length;
      const filled = await fillFrom(body as AsyncIterable<Buffer>, into.bytes);
      if (filled === undefined) throw new ChunkError('ChunkSizeMismatch', id, `chunk ${id} longer than declared ${declared} bytes`);
      if (filled !== declared) throw new ChunkError('ChunkSizeMismatch', id, `chunk ${id}: got ${filled} bytes, declared ${declared}`);
      await into.hash();
      await this.store.put(id, into, filled, signal);
      into.release();
    } catch (e) {
      into.discard();
      body.destroy();
      throw e;
    }
  }

  /** The chunk is verified as a whole before any of it is returned (ChunkNotFound / ChunkCorrupt), unless the caller verifies it. */
  async getChunk(id: string, range?: { start: number; end: number }, signal?: AbortSignal, callerVerifies = false): Promise<ChunkBuffer> {
    signal?.throwIfAborted();
    return callerVerifies && !range ? this.store.getUnverified(id) : this.store.read(id, range);
  }

  hasChunks(ids: string[]): Promise<boolean[]> {
    return Promise.all(ids.map((id) => this.store.has(id)));
  }

  deleteChunk(id: string): Promise<void> {
    return this.store.delete(id);
  }
}

export class LocalMetaReplica implements MetaReplica {
  readonly memberId: string;
  private readonly store: MetaStore;
  constructor(memberId: string, store: MetaStore) {
    this.memberId = memberId;
    this.store = store;
  }

  putVersion(v: ObjectVersion): Promise<ObjectVersion> {
    return this.store.putVersion(v);
  }
  writeVersion(v: ObjectVersion, opts: WriteOptions): Promise<WriteOutcome> {
    return this.store.writeVersion(v, opts);
  }
  getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
    return this.store.getVersion(bucket, key, versionId);
  }
  getVersions(bucket: string, key: string, opts?: GetVersionsOptions): Promise<ObjectVersion[]> {
    return this.store.getVersions(bucket, key, opts);
  }
  listVersions(bucket: string, opts: ListVersionsOptions): Promise<ObjectVersion[]> {
    return this.store.listVersions(bucket, opts);
  }
  bucketUsage(bucket: string): Promise<BucketUsage> {
    return this.store.bucketUsage(bucket);
  }
  reserveKey(bucket: string, key: string, r: KeyReservation): Promise<ReserveOutcome> {
    return this.store.reserveKey(bucket, key, r);
  }
  releaseKey(bucket: string, key: string, id: string): Promise<void> {
    return this.store.releaseKey(bucket, key, id);
  }
  putUpload(u: MultipartUpload): Promise<void> {
    return this.store.putUpload(u);
  }
  getUpload(bucket: string, uploadId: string): Promise<MultipartUpload | undefined> {
    return this.store.getUpload(bucket, uploadId);
  }
  listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]> {
    return this.store.listUploads(bucket, opts);
  }
  putPart(bucket: string, uploadId: string, part: PartRecord): Promise<void> {
    return this.store.putPart(bucket, uploadId, part);
  }
  listParts(bucket: string, uploadId: string): Promise<PartRecord[]> {
    return this.store.listParts(bucket, uploadId);
  }
  deleteUpload(bucket: string, uploadId: string): Promise<void> {
    return this.store.deleteUpload(bucket, uploadId);
  }
  removeTombstone(bucket: string, key: string, versionId: string): Promise<boolean> {
    return this.store.removeTombstone(bucket, key, versionId);
  }
  async partitionDigests(): Promise<Record<string, PartitionDigest>> {
    return this.store.partitionDigests();
  }
}
