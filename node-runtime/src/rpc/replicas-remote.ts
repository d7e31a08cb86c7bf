// ChunkReplica and MetaReplica of another member, over the cluster port. Chunk bodies travel as raw
// bytes in both directions (streamed, never JSON or base64); metadata calls are JSON. The routes
// that answer them are in replicas-routes.ts.
import type { Readable } from 'node:stream';
import type { ChunkReplica, MetaReplica, ListVersionsOptions } from '../data/replicas.ts';
import type { MultipartUpload, ObjectVersion, PartRecord } from '../data/types.ts';
import type { RpcClient } from './client.ts';

export const metaMethods = ['putVersion', 'getVersion', 'listVersions', 'bucketUsage', 'putUpload', 'getUpload',
  'listUploads', 'putPart', 'listParts', 'deleteUpload', 'removeTombstone'] as const;
export type MetaMethod = (typeof metaMethods)[number];
/** Metadata calls that may be retried: all of them are merges, reads or removals keyed by id. */
const idempotentMeta = new Set<MetaMethod>(metaMethods);

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

  async putChunk(id: string, body: Buffer | Readable, size: number, signal?: AbortSignal): Promise<void> {
    const res = await this.#rpc.raw(this.#peer, {
      method: 'PUT', path: `/rpc/v1/chunks/${encodeURIComponent(id)}`, body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      idempotent: true, signal, peerName: this.#name, op: 'chunk.put',   // content-addressed: a retried put stores the same bytes (retried only for Buffers)
    });
    await res.body.dump();
  }

  async getChunk(id: string, range?: { start: number; end: number }, signal?: AbortSignal): Promise<Readable> {
    const q = range ? `?start=${range.start}&end=${range.end}` : '';
    const res = await this.#rpc.raw(this.#peer, { method: 'GET', path: `/rpc/v1/chunks/${encodeURIComponent(id)}${q}`, idempotent: true, signal, peerName: this.#name, op: 'chunk.get' });
    return res.body;
  }

  async hasChunks(ids: string[]): Promise<boolean[]> {
    const r = await this.#rpc.json<{ has: boolean[] }>(this.#peer, { method: 'POST', path: '/rpc/v1/chunks/has', json: { ids }, idempotent: true, peerName: this.#name, op: 'chunk.has' });
    return r.has;
  }

  async deleteChunk(id: string): Promise<void> {
    await this.#rpc.json(this.#peer, { method: 'DELETE', path: `/rpc/v1/chunks/${encodeURIComponent(id)}`, idempotent: true, peerName: this.#name, op: 'chunk.delete' });
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

  async #call<T>(method: MetaMethod, ...args: unknown[]): Promise<T> {
    const r = await this.#rpc.json<{ result?: T }>(this.#peer, {
      method: 'POST', path: `/rpc/v1/meta/${method}`, json: { args }, idempotent: idempotentMeta.has(method), peerName: this.#name, op: `meta.${method}`,
    });
    return r.result as T;
  }

  putVersion(v: ObjectVersion): Promise<ObjectVersion> { return this.#call('putVersion', v); }
  getVersion(bucket: string, key: string): Promise<ObjectVersion | undefined> { return this.#call('getVersion', bucket, key); }
  listVersions(bucket: string, opts: ListVersionsOptions): Promise<ObjectVersion[]> { return this.#call('listVersions', bucket, opts); }
  bucketUsage(bucket: string): Promise<{ objects: number; bytes: number }> { return this.#call('bucketUsage', bucket); }
  putUpload(u: MultipartUpload): Promise<void> { return this.#call('putUpload', u); }
  getUpload(bucket: string, uploadId: string): Promise<MultipartUpload | undefined> { return this.#call('getUpload', bucket, uploadId); }
  listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]> {
    return this.#call('listUploads', bucket, opts);
  }
  putPart(bucket: string, uploadId: string, part: PartRecord): Promise<void> { return this.#call('putPart', bucket, uploadId, part); }
  listParts(bucket: string, uploadId: string): Promise<PartRecord[]> { return this.#call('listParts', bucket, uploadId); }
  deleteUpload(bucket: string, uploadId: string): Promise<void> { return this.#call('deleteUpload', bucket, uploadId); }
  async removeTombstone(bucket: string, key: string, versionId: string): Promise<boolean> { return (await this.#call<boolean>('removeTombstone', bucket, key, versionId)) === true; }
}
