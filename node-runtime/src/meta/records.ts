// The records the metadata store keeps, in the layer that stores them: object versions (with their
// chunk references), multipart uploads and their parts, and the query options of a version listing.
// The coordinators (data/) build and merge them; the API (s3/) reads them through data/types.ts.
import type { Acl } from '../access/acl.ts';
export interface ChunkRef {
  id: string;        // hex sha256 of the chunk bytes
  size: number;
  /** Encrypted chunks only: their place in the object (part × 2^32 + index), the nonce of their cipher. */
  seq?: number;
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
  /** R the write asked for with x-cairn-replicas, 0 when it asked for none; absent on versions written
   *  before it was recorded. Repair keeps max(bucket's current R, this) (repair/refs.ts). */
  requestedReplicas?: number;
  pin?: string[];          // member ids the chunks are pinned to
  /** multipart layout; a part's checksum (base64, the upload's algorithm) when the upload had one */
  parts?: { number: number; size: number; etag: string; checksum?: string }[];
  owner?: string;          // user id of the writer (or the bucket's owner); absent: written before users
  acl?: Acl;               // absent: private to its owner
  /** Encryption at rest (data/sse.ts): the wrapped data key; absent = stored in the clear. */
  encryption?: StoredEncryption;
  /** A change of this same write's metadata (ACL, ...): a higher rev replaces it without making it
   *  newer than a later write of the key (meta/lww.ts orders by timestamp first). */
  rev?: number;
  revBy?: string;          // the member that made the rev, the tie-break between equal revs
  /** When the content was last written, if not `timestamp` (a rev keeps the content's time). */
  lastModified?: number;
  /** The flexible checksum of the content (x-amz-checksum-*), when the write sent or asked for one. */
  checksum?: StoredChecksum;
}

/** A flexible checksum as stored: the algorithm, whole-object or per-part, and its base64 value
 *  ("<base64>-<parts>" for a COMPOSITE multipart checksum), as s3/semantics/checksums.ts makes it. */
export interface StoredChecksum {
  algorithm: 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
  type: 'COMPOSITE' | 'FULL_OBJECT';
  value: string;
}

/** How an object is encrypted at rest, as its record keeps it (data/sse.ts makes and reads it). */
export type StoredEncryption =
  | { kind: 'SSE-S3'; wrappedKey: string }
  | { kind: 'SSE-C'; wrappedKey: string; keyMd5: string; keyHmac: string; salt: string };

export interface MultipartUpload {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: string;       // ISO time
  contentType?: string;
  userMeta: Record<string, string>;
  headers?: Record<string, string>;
  replicas: number;
  requestedReplicas?: number;   // as ObjectVersion's
  pin?: string[];
  owner: string;
  acl?: Acl;               // the ACL the object gets when the upload completes
  encryption?: StoredEncryption;
  /** The checksum CreateMultipartUpload asked for: every part must carry one, the object gets one of this type. */
  checksum?: Pick<StoredChecksum, 'algorithm' | 'type'>;
}

export interface PartRecord {
  number: number;
  etag: string;            // hex MD5 of the part body
  size: number;
  chunks: ChunkRef[];
  inline?: string;
  checksum?: string;       // base64 flexible checksum of the part body (its upload's algorithm)
  lastModified: string;
  timestamp: number;
}

export interface ListVersionsOptions {
  prefix?: string;
  startAfter?: string;     // exclusive, by key
  limit: number;           // maximum number of versions returned (tombstones included)
  /**
   * Leave out what the caller does not need, so a page from another member is a few hundred bytes
   * per key instead of carrying every small object's body: `listing` drops inline bodies and chunk
   * lists (`chunks: []`, what a listing shows); `references` drops inline bodies only (what the chunk
   * reference index needs). Absent: whole versions (partition repair copies them).
   */
  fields?: 'listing' | 'references';
}
