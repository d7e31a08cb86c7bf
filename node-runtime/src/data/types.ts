// The ObjectService the file API (s3/) calls, with its options and results. Metadata of bucket B
// lives on B's top-R members (placement by bucket name); chunks are placed by their SHA-256 id. The
// records themselves belong to the store that keeps them (meta/records.ts) and are re-exported here.
import type { Readable } from 'node:stream';
import type { ChunkRef, MultipartUpload, ObjectVersion, PartRecord, StoredChecksum } from '../meta/records.ts';
import type { Acl } from '../access/acl.ts';
import type { EncryptionRequest } from './sse.ts';
import type { ChunkBuffer } from '../chunks/buffer.ts';

export type { ChunkRef, MultipartUpload, ObjectVersion, PartRecord, StoredChecksum };

export interface BucketInfo {
  name: string;
  createdAt: string;
  replicas: number;
  access: 'private' | 'public-read';
}

export interface PutOptions {
  size?: number; // declared length when known (Content-Length / decoded length)
  contentType?: string;
  userMeta?: Record<string, string>;
  headers?: Record<string, string>;
  contentMd5?: string; // base64, checked when present → BadDigest
  replicas?: number; // x-cairn-replicas (only raises R)
  pin?: string[]; // x-cairn-pin (member ids or names)
  owner?: string; // user id the new version belongs to
  acl?: Acl; // its ACL (absent: private to its owner)
  sse?: EncryptionRequest; // encrypt at rest (SSE-S3 or SSE-C; data/sse.ts); for an upload part, the key it was started with
  sourceSse?: EncryptionRequest; // CopyObject: the key that opens an SSE-C source
  tags?: Tag[]; // x-amz-tagging (CopyObject: with the REPLACE tagging directive)
  retention?: ObjectVersion['retention']; // object lock of the new version (else the bucket's default)
  legalHold?: boolean;
  /**
   * A condition on the key's current version (undefined: absent; it may be a delete marker), checked
   * as the write commits, atomically with respect to every other writer of the key
   * (data/conditional.ts): throw to refuse (PreconditionFailed, NoSuchKey, ...).
   */
  precondition?: (current: ObjectVersion | undefined) => void;
  /** The body's flexible checksum (s3/body-checksum.ts), known once the body has ended: a trailer comes last. */
  checksum?: () => StoredChecksum | undefined;
  /** CreateMultipartUpload: the checksum every part carries and the completed object gets. */
  uploadChecksum?: Pick<StoredChecksum, 'algorithm' | 'type'>;
  signal?: AbortSignal; // aborted when the client disconnects
}

export interface Tag {
  key: string;
  value: string;
}

/** Which version a request names: `versionId` an S3 version id ('null' for the null version); absent: the current one. */
export interface VersionSelector {
  versionId?: string;
}

export interface DeleteOptions extends VersionSelector {
  /** x-amz-bypass-governance-retention from a caller allowed to (s3/ decides who). */
  bypassGovernance?: boolean;
  /** A condition on what the delete removes (the current version, or the named one); 'noop' answers
   *  success without writing (s3/semantics/conditional.ts evaluateDelete). Checked atomically. */
  precondition?: (target: ObjectVersion | undefined) => 'delete' | 'noop';
}

/** What a delete did: the version it made (a delete marker) or removed, as S3 reports it. */
export interface DeleteResult {
  versionId?: string;
  deleteMarker: boolean;
}

/** A change of one version's metadata (a revision: it keeps its place among the key's versions). */
export type VersionChange = (v: ObjectVersion) => Partial<Pick<ObjectVersion, 'acl' | 'tags' | 'retention' | 'legalHold'>>;

/** Every version of some keys, in ListObjectVersions order (key, then newest first), delete markers included. */
export interface VersionBatch {
  versions: ObjectVersion[];
  next?: string;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  startAfter?: string; // exclusive
  maxKeys: number;
}

export interface ListResult {
  objects: ObjectVersion[]; // live versions only
  commonPrefixes: string[];
  isTruncated: boolean;
  nextStartAfter?: string; // pass back as startAfter for the next page
}

export interface GetResult {
  version: ObjectVersion;
  body: Readable;
  range?: { start: number; end: number }; // inclusive, when a range was served
  /** The same bytes as `body`, when they are already in memory (inline objects): a server may send
   *  them directly instead of piping the stream (no stream machinery per small GET). */
  bytes?: Buffer;
  /** The same body as pieces the reader owns (chunked objects): a reader that knows when its
   *  socket took a piece ends it then (`release()`), so its memory is reused. Read this or `body`. */
  pieces?: AsyncIterable<ChunkBuffer>;
}

export interface CompletedPart {
  number: number;
  etag: string;
}

export interface ObjectService {
  listBuckets(): Promise<BucketInfo[]>;
  createBucket(name: string, opts: { owner: string; replicas?: number; access?: 'private' | 'public-read'; acl?: Acl }): Promise<BucketInfo>;
  headBucket(name: string): Promise<BucketInfo>; // NoSuchBucket
  deleteBucket(name: string): Promise<void>; // NoSuchBucket, BucketNotEmpty

  putObject(bucket: string, key: string, body: Readable, opts: PutOptions): Promise<ObjectVersion>;
  /** NoSuchKey (a current delete marker: with its headers), NoSuchVersion, or a delete marker named by id: MethodNotAllowed. */
  headObject(bucket: string, key: string, opts?: VersionSelector): Promise<ObjectVersion>;
  getObject(
    bucket: string,
    key: string,
    opts?: VersionSelector & { range?: { start?: number; end?: number; suffix?: number }; partNumber?: number; signal?: AbortSignal; sse?: EncryptionRequest },
  ): Promise<GetResult>;
  /** Idempotent: a delete of what is not there succeeds (in a versioning bucket it still adds a delete marker). */
  deleteObject(bucket: string, key: string, opts?: DeleteOptions): Promise<DeleteResult>;
  /** Replace the ACL of a version (a metadata revision: never newer than a later write). */
  putObjectAcl(bucket: string, key: string, acl: Acl, opts?: VersionSelector): Promise<ObjectVersion>;
  /** Change a version's tags, retention, legal hold or ACL (a revision, as putObjectAcl); `change` may throw to refuse. */
  reviseVersion(bucket: string, key: string, opts: VersionSelector, change: VersionChange): Promise<ObjectVersion>;
  copyObject(
    src: { bucket: string; key: string } & VersionSelector,
    dst: { bucket: string; key: string },
    opts: PutOptions & { metadataDirective?: 'COPY' | 'REPLACE'; taggingDirective?: 'COPY' | 'REPLACE' },
  ): Promise<ObjectVersion>;
  /** Listed versions are lean: no inline body and an empty chunk list (read an object to get those). */
  listObjects(bucket: string, opts: ListOptions): Promise<ListResult>;
  /** Every version of the keys from `keyMarker` on (that key included), at least `limit` of them when
   *  there are (whole keys; lean records); `next`: the last key read, to go on after it. */
  listVersionBatch(bucket: string, opts: { prefix?: string; from?: string; after?: string; limit: number }): Promise<VersionBatch>;

  createUpload(bucket: string, key: string, opts: PutOptions): Promise<MultipartUpload>;
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, opts: PutOptions): Promise<PartRecord>;
  /** `checksum`: the object's, from its parts' (the API computes it, s3/object-checksums.ts); `precondition` as PutOptions'. */
  completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    opts?: Pick<PutOptions, 'precondition'> & { checksum?: StoredChecksum },
  ): Promise<ObjectVersion>;
  abortUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string): Promise<PartRecord[]>;
  /** The upload record (owner, encryption, ...): NoSuchUpload when it is not there. */
  headUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUpload>;
  listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads: number }): Promise<MultipartUpload[]>;
}
