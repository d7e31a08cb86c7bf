// Object-level records and the ObjectService the file API (s3/) calls. Metadata of bucket B lives
// on B's top-R members (placement by bucket name); chunks are placed by their SHA-256 id.
import type { Readable } from 'node:stream';

export interface ChunkRef {
  id: string;        // hex sha256 of the chunk bytes
  size: number;
}

/** One version of an object as stored in metadata; a tombstone has deleted = true and no body. */
export interface ObjectVersion {
  bucket: string;
  key: string;
  versionId: string;       // unique per write
  timestamp: number;       // ms since epoch at the coordinator; newest wins
  writer: string;          // coordinator member id; tie-break for equal timestamps
  deleted: boolean;
  size: number;
  etag: string;            // quoted-less hex MD5, or "<md5>-<n>" for multipart
  contentType?: string;
  userMeta: Record<string, string>;   // x-amz-meta-* without the prefix, lower-case names
  headers?: Record<string, string>;   // other stored headers: cache-control, content-disposition, content-encoding, content-language, expires
  inline?: string;         // base64 body when size <= inlineMax
  chunks: ChunkRef[];      // in order; empty when inline
  replicas: number;        // R the chunks were written with
  pin?: string[];          // member ids the chunks are pinned to
  parts?: { number: number; size: number; etag: string }[]; // multipart layout
}

export interface MultipartUpload {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: string;       // ISO time
  contentType?: string;
  userMeta: Record<string, string>;
  headers?: Record<string, string>;
  replicas: number;
  pin?: string[];
  owner: string;
}

export interface PartRecord {
  number: number;
  etag: string;            // hex MD5 of the part body
  size: number;
  chunks: ChunkRef[];
  inline?: string;
  lastModified: string;
  timestamp: number;
}

export interface BucketInfo {
  name: string;
  createdAt: string;
  replicas: number;
  access: 'private' | 'public-read';
}

export interface PutOptions {
  size?: number;                 // declared length when known (Content-Length / decoded length)
  contentType?: string;
  userMeta?: Record<string, string>;
  headers?: Record<string, string>;
  contentMd5?: string;           // base64, checked when present → BadDigest
  replicas?: number;             // x-cairn-replicas (only raises R)
  pin?: string[];                // x-cairn-pin (member ids or names)
  owner?: string;
  ifNoneMatch?: string;          // conditional write ('*')
  signal?: AbortSignal;          // aborted when the client disconnects
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;           // exclusive
  maxKeys: number;
}

export interface ListResult {
  objects: ObjectVersion[];      // live versions only
  commonPrefixes: string[];
  isTruncated: boolean;
  nextStartAfter?: string;       // pass back as startAfter for the next page
}

export interface GetResult {
  version: ObjectVersion;
  body: Readable;
  range?: { start: number; end: number };   // inclusive, when a range was served
  /** The same bytes as `body`, when they are already in memory (inline objects): a server may send
   *  them directly instead of piping the stream (no stream machinery per small GET). */
  bytes?: Buffer;
}

export interface CompletedPart { number: number; etag: string }

export interface ObjectService {
  listBuckets(): Promise<BucketInfo[]>;
  createBucket(name: string, opts: { owner: string; replicas?: number; access?: 'private' | 'public-read' }): Promise<BucketInfo>;
  headBucket(name: string): Promise<BucketInfo>;                       // NoSuchBucket
  deleteBucket(name: string): Promise<void>;                           // NoSuchBucket, BucketNotEmpty

  putObject(bucket: string, key: string, body: Readable, opts: PutOptions): Promise<ObjectVersion>;
  headObject(bucket: string, key: string): Promise<ObjectVersion>;     // NoSuchKey
  getObject(bucket: string, key: string, opts?: { range?: { start?: number; end?: number; suffix?: number }; signal?: AbortSignal }): Promise<GetResult>;
  deleteObject(bucket: string, key: string): Promise<void>;            // idempotent
  copyObject(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, opts: PutOptions & { metadataDirective?: 'COPY' | 'REPLACE' }): Promise<ObjectVersion>;
  /** Listed versions are lean: no inline body and an empty chunk list (read an object to get those). */
  listObjects(bucket: string, opts: ListOptions): Promise<ListResult>;

  createUpload(bucket: string, key: string, opts: PutOptions): Promise<MultipartUpload>;
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, opts: PutOptions): Promise<PartRecord>;
  completeUpload(bucket: string, key: string, uploadId: string, parts: CompletedPart[]): Promise<ObjectVersion>;
  abortUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string): Promise<PartRecord[]>;
  listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads: number }): Promise<MultipartUpload[]>;
}
