// ChunkReplica and MetaReplica of another member, over the cluster port. Chunk bodies travel as raw
// bytes in both directions (streamed, never JSON or base64); metadata calls are JSON. The routes
// that answer them are in replica-routes.ts.
import type { Readable } from 'node:stream';
import { ChunkBuffer } from '../chunks/buffer.ts';
import { fillFrom } from '../chunks/chunker.ts';
import type {
  BucketUsage,
  ChunkReplica,
  KeyReservation,
  MetaReplica,
  ListVersionsOptions,
  PartitionDigest,
  ReserveOutcome,
  WriteOptions,
  WriteOutcome,
  GetVersionsOptions,
} from './replicas.ts';
import type { MultipartUpload, ObjectVersion, PartRecord } from '../meta/records.ts';
import type { RpcClient } from '../rpc/client.ts';
import type { WireError } from '../rpc/wire.ts';
import { replicaErrorFromWire as errorFromWire } from './replica-wire.ts';

export const metaMethods = [
  'putVersion',
  'getVersion',
  'listVersions',
  'bucketUsage',
  'putUpload',
  'getUpload',
  'listUploads',
  'putPart',
  'listParts',
  'deleteUpload',
  'removeTombstone',
  'writeVersion',
  'getVersions',
  'reserveKey',
  'releaseKey',
  'partitionDigests',
] as const;
export type MetaMethod = (typeof metaMethods)[number];
/** Metadata calls that may be retried: all of them are merges, reads or removals keyed by id (a
 *  coordinator's write or reservation retried finds itself already there, and answers as the first did). */
const idempotentMeta = new Set<MetaMethod>(metaMethods);
/**
 * The per-object calls of the small-object path. Those made to one peer in the same event-loop turn
 * travel as one request (`/rpc/v1/meta/batch`) and are answered one by one: at 32 concurrent small
 * PUTs or GETs, one HTTP exchange per call was most of a node's CPU (an express request and an
 * undici request each). On the peer, the puts of one batch land in one lmdb commit.
 */
export const batchedMeta = new Set<MetaMethod>(['putVersion', 'getVersion', 'writeVersion', 'getVersions']);
/** How long a peer that did not know batches gets plain calls before it is asked again. */
const NO_BATCH_MS = 60_000;
/** No chunk is larger (the chunk size setting's limit): a bigger announced body is refused unread. */
const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
/** Calls in one batch at most (a body of a few hundred KiB at most). */
export const MAX_BATCH = 64;

/** One call's outcome inside a batch answer. */
export type BatchOutcome = { result?: unknown } | { error: WireError; status: number };

interface Queued {
  method: MetaMethod;
  args: unknown[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class RemoteChunkReplica implements ChunkReplica {
  readonly memberId: string;
  readonly #rpc: RpcClient;
  readonly #peer: string;
  readonly #name: string | undefined;
  constructor(memberId: string, peer: string, rpc: RpcClient, peerName?: string) {
    this.memberId = memberId;
    this.#peer = peer;
    this.#rpc = rpc;
    this.#name = peerName;
  }

  async putChunk(id: string, body: ChunkBuffer | Readable, size: number, signal?: AbortSignal): Promise<void> {
    const res = await this.#rpc.raw(this.#peer, {
      method: 'PUT',
      path: `/rpc/v1/chunks/${encodeURIComponent(id)}`,
      body: body instanceof ChunkBuffer ? body.bytes : body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      idempotent: true,
      signal,
      peerName: this.#name,
      op: 'chunk.put',
      errorFromWire, // content-addressed: a retried put stores the same bytes (retried only for Buffers)
    });
    await res.body.dump();
  }

  async getChunk(id: string, range?: { start: number; end: number }, signal?: AbortSignal, callerVerifies = false): Promise<ChunkBuffer> {
    // A member from before `verify=caller` ignores it and verifies as it always did.
    const q = range ? `?start=${range.start}&end=${range.end}` : callerVerifies ? '?verify=caller' : '';
    const res = await this.#rpc.raw(this.#peer, {
      method: 'GET',
      path: `/rpc/v1/chunks/${encodeURIComponent(id)}${q}`,
      idempotent: true,
      signal,
      peerName: this.#name,
      op: 'chunk.get',
      errorFromWire,
    });
    return gather(res.body as AsyncIterable<Buffer>, Number(res.headers['content-length'] ?? NaN));
  }

  async hasChunks(ids: string[]): Promise<boolean[]> {
    const r = await this.#rpc.json<{ has: boolean[] }>(this.#peer, {
      method: 'POST',
      path: '/rpc/v1/chunks/has',
      json: { ids },
      idempotent: true,
      peerName: this.#name,
      op: 'chunk.has',
      errorFromWire,
    });
    return r.has;
  }

  async deleteChunk(id: string): Promise<void> {
    await this.#rpc.json(this.#peer, {
      method: 'DELETE',
      path: `/rpc/v1/chunks/${encodeURIComponent(id)}`,
      idempotent: true,
      peerName: this.#name,
      op: 'chunk.delete',
      errorFromWire,
    });
  }
}

export class RemoteMetaReplica implements MetaReplica {
  readonly memberId: string;
  readonly #rpc: RpcClient;
  readonly #peer: string;
  readonly #name: string | undefined;
  constructor(memberId: string, peer: string, rpc: RpcClient, peerName?: string) {
    this.memberId = memberId;
    this.#peer = peer;
    this.#rpc = rpc;
    this.#name = peerName;
  }

  #queue: Queued[] = [];
  /** Until then, this peer gets plain calls: it answered a batch as an unknown call (an older version, mid rolling update). */
  #noBatchUntil = 0;

  #call<T>(method: MetaMethod, ...args: unknown[]): Promise<T> {
    if (!batchedMeta.has(method)) return this.#single<T>(method, args);
    return new Promise<T>((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => this.#flush());
      this.#queue.push({ method, args, resolve: resolve as (v: unknown) => void, reject });
      if (this.#queue.length >= MAX_BATCH) this.#flush();
    });
  }

  async #single<T>(method: MetaMethod, args: unknown[]): Promise<T> {
    const r = await this.#rpc.json<{ result?: T }>(this.#peer, {
      method: 'POST',
      path: `/rpc/v1/meta/${method}`,
      json: { args },
      idempotent: idempotentMeta.has(method),
      peerName: this.#name,
      op: `meta.${method}`,
      errorFromWire,
    });
    return r.result as T;
  }

  /** Send what was queued this turn: alone as a plain call, else as one batch (all retryable merges and reads). */
  #flush(): void {
    const calls = this.#queue.splice(0);
    if (calls.length === 0) return;
    const singly = () => {
      for (const c of calls) this.#single(c.method, c.args).then(c.resolve, c.reject);
    };
    if (calls.length === 1 || Date.now() < this.#noBatchUntil) {
      singly();
      return;
    }
    this.#rpc
      .json<{ results?: BatchOutcome[] }>(this.#peer, {
        method: 'POST',
        path: '/rpc/v1/meta/batch',
        json: { calls: calls.map((c) => ({ method: c.method, args: c.args })) },
        idempotent: true,
        peerName: this.#name,
        op: 'meta.batch',
        errorFromWire,
      })
      .then(
        (r) => {
          calls.forEach((c, i) => {
            const out = r?.results?.[i];
            if (!out) c.reject(errorFromWire({ code: 'InternalError', message: `batch answer lacks call ${i}` }, 500));
            else if ('error' in out) c.reject(errorFromWire(out.error, out.status));
            else c.resolve(out.result);
          });
        },
        (e: unknown) => {
          // A member from before batches answers 400 "unknown metadata call batch" (or 404): the calls
          // were not run; send them one by one, and keep doing so with this peer for a while.
          const err = e as { status?: number; message?: string };
          if (err?.status === 404 || (err?.status === 400 && /unknown metadata call/.test(String(err.message)))) {
            this.#noBatchUntil = Date.now() + NO_BATCH_MS;
            singly();
            return;
          }
          for (const c of calls) c.reject(e);
        },
      );
  }

  putVersion(v: ObjectVersion): Promise<ObjectVersion> {
    return this.#call('putVersion', v);
  }
  writeVersion(v: ObjectVersion, opts: WriteOptions): Promise<WriteOutcome> {
    return this.#call('writeVersion', v, opts);
  }
  getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
    return versionId === undefined ? this.#call('getVersion', bucket, key) : this.#call('getVersion', bucket, key, versionId);
  }
  getVersions(bucket: string, key: string, opts?: GetVersionsOptions): Promise<ObjectVersion[]> {
    // A member from before `bodies` ignores the third argument and sends the body: still a right answer.
    return opts ? this.#call('getVersions', bucket, key, opts) : this.#call('getVersions', bucket, key);
  }
  listVersions(bucket: string, opts: ListVersionsOptions): Promise<ObjectVersion[]> {
    return this.#call('listVersions', bucket, opts);
  }
  bucketUsage(bucket: string): Promise<Partial<BucketUsage> & { objects: number; bytes: number }> {
    return this.#call('bucketUsage', bucket);
  }
  reserveKey(bucket: string, key: string, r: KeyReservation): Promise<ReserveOutcome> {
    return this.#call('reserveKey', bucket, key, r);
  }
  async releaseKey(bucket: string, key: string, id: string): Promise<void> {
    await this.#call('releaseKey', bucket, key, id);
  }
  putUpload(u: MultipartUpload): Promise<void> {
    return this.#call('putUpload', u);
  }
  getUpload(bucket: string, uploadId: string): Promise<MultipartUpload | undefined> {
    return this.#call('getUpload', bucket, uploadId);
  }
  listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]> {
    return this.#call('listUploads', bucket, opts);
  }
  putPart(bucket: string, uploadId: string, part: PartRecord): Promise<void> {
    return this.#call('putPart', bucket, uploadId, part);
  }
  listParts(bucket: string, uploadId: string): Promise<PartRecord[]> {
    return this.#call('listParts', bucket, uploadId);
  }
  deleteUpload(bucket: string, uploadId: string): Promise<void> {
    return this.#call('deleteUpload', bucket, uploadId);
  }
  async removeTombstone(bucket: string, key: string, versionId: string): Promise<boolean> {
    return (await this.#call<boolean>('removeTombstone', bucket, key, versionId)) === true;
  }
  partitionDigests(): Promise<Record<string, PartitionDigest>> {
    return this.#call('partitionDigests');
  }
}

/**
 * A chunk body from the network in one buffer: with its length known (the routes send it), the
 * pieces are copied straight into a pool buffer, which a hash worker can then take by transfer;
 * a member that sent no length (an older one) gets its pieces joined.
 */
async function gather(body: AsyncIterable<Buffer>, length: number): Promise<ChunkBuffer> {
  if (length > MAX_CHUNK_BYTES) throw new Error(`a chunk of ${length} bytes is larger than any chunk can be`);
  if (!Number.isSafeInteger(length) || length < 0) {
    const parts: Buffer[] = [];
    for await (const b of body) parts.push(b);
    return ChunkBuffer.of(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }
  const out = ChunkBuffer.take(length);
  try {
    const at = await fillFrom(body, out.bytes);
    if (at === undefined) throw new Error(`got more than the ${length} bytes announced`);
    if (at !== length) throw new Error(`got ${at} of the ${length} bytes announced`);
    return out;
  } catch (e) {
    out.release(); // only this function saw it
    throw e;
  }
}
