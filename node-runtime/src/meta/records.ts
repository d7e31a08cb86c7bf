// The records the metadata store keeps, in the layer that stores them: object versions (with their
// chunk references), multipart uploads and their parts, and the query options of a version listing.
// The coordinators (data/) build and merge them; the API (s3/) reads them through data/types.ts.
import type { Acl } from '../access/acl.ts';
export interface ChunkRef {
  id: string; // hex sha256 of the chunk bytes
  size: number;
  /** Encrypted chunks only: their place in the object (part × 2^32 + index), the nonce of their cipher. */
  seq?: number;
}

/**
 * One version of an object as stored in metadata. A key holds one record per *slot*: the null
 * version (every write of a bucket that is not versioning, S3's version id `null`) and one slot per
 * version a versioning bucket made (`versioned`, its S3 version id is `versionId`). Within a slot the
 * newest record wins (meta/lww.ts); the key's current version is its newest slot that is not removed
 * (meta/slots.ts). A tombstone has deleted = true and no body: a *delete marker* (an S3 version of its
 * own) when `deleteMarker`, else the removal of its slot (a delete in a bucket that never versioned,
 * or of one version by id), kept so that no replica can bring the slot back.
 */
export interface ObjectVersion {
  bucket: string;
  key: string;
  versionId: string; // unique per write; the S3 version id of a versioned slot
  timestamp: number; // ms since epoch at the coordinator; newest wins
  writer: string; // coordinator member id; tie-break for equal timestamps
  deleted: boolean;
  /** Its own version (slot `versionId`), written while the bucket's versioning was Enabled; absent: the null version. */
  versioned?: boolean;
  /** A tombstone that is an S3 delete marker (listed, current while newest), not a removal. */
  deleteMarker?: boolean;
  size: number;
  etag: string; // quoted-less hex MD5, or "<md5>-<n>" for multipart
  contentType?: string;
  userMeta: Record<string, string>; // x-amz-meta-* without the prefix, lower-case names
  headers?: Record<string, string>; // other stored headers: cache-control, content-disposition, content-encoding, content-language, expires
  inline?: string; // base64 body when size <= inlineMax
  chunks: ChunkRef[]; // in order; empty when inline
  replicas: number; // R the chunks were written with
  /** R the write asked for with x-cairn-replicas, 0 when it asked for none; absent on versions written
   *  before it was recorded. Repair keeps max(bucket's current R, this) (repair/refs.ts). */
  requestedReplicas?: number;
  pin?: string[]; // member ids the chunks are pinned to
  /** multipart layout; a part's checksum (base64, the upload's algorithm) when the upload had one */
  parts?: { number: number; size: number; etag: string; checksum?: string }[];
  owner?: string; // user id of the writer (or the bucket's owner); absent: written before users
  acl?: Acl; // absent: private to its owner
  /** Encryption at rest (data/sse.ts): the wrapped data key; absent = stored in the clear. */
  encryption?: StoredEncryption;
  /** A change of this same write's metadata (ACL, ...): a higher rev replaces it without making it
   *  newer than a later write of the key (meta/lww.ts orders by timestamp first). */
  rev?: number;
  revBy?: string; // the member that made the rev, the tie-break between equal revs
  /** When the content was last written, if not `timestamp` (a rev keeps the content's time). */
  lastModified?: number;
  /** Object tags (x-amz-tagging, PutObjectTagging): at most 10, in the order given. */
  tags?: { key: string; value: string }[];
  /** Object lock: this version may not be removed before `until` (ms) — GOVERNANCE lets a permitted caller bypass it. */
  retention?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; until: number };
  legalHold?: boolean; // object lock: may not be removed while on, whatever its retention
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
export type StoredEncryption = { kind: 'SSE-S3'; wrappedKey: string } | { kind: 'SSE-C'; wrappedKey: string; keyMd5: string; keyHmac: string; salt: string };

export interface MultipartUpload {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: string; // ISO time
  contentType?: string;
  userMeta: Record<string, string>;
  headers?: Record<string, string>;
  replicas: number;
  requestedReplicas?: number; // as ObjectVersion's
  pin?: string[];
  owner: string;
  acl?: Acl; // the ACL the object gets when the upload completes
  encryption?: StoredEncryption;
  tags?: { key: string; value: string }[]; // the tags the object gets
  retention?: ObjectVersion['retention']; // and its object lock
  legalHold?: boolean;
  /** The checksum CreateMultipartUpload asked for: every part must carry one, the object gets one of this type. */
  checksum?: Pick<StoredChecksum, 'algorithm' | 'type'>;
}

export interface PartRecord {
  number: number;
  etag: string; // hex MD5 of the part body
  size: number;
  chunks: ChunkRef[];
  inline?: string;
  checksum?: string; // base64 flexible checksum of the part body (its upload's algorithm)
  lastModified: string;
  timestamp: number;
}

/** `bodies: false`: a key's current record without its inline body too (a read that takes the body from another replica). */
export interface GetVersionsOptions {
  bodies?: boolean;
}

export interface ListVersionsOptions {
  prefix?: string;
  startAfter?: string; // exclusive, by key: after every slot of that key
  /** With startAfter: resume inside that key, after this slot (meta/slots.ts slotOf) instead. */
  startAfterSlot?: string;
  startAt?: string; // inclusive, by key (instead of startAfter): from its first slot on
  limit: number; // maximum number of records returned (tombstones included)
  /**
   * Leave out what the caller does not need, so a page from another member is a few hundred bytes
   * per key instead of carrying every small object's body: `listing` drops inline bodies and chunk
   * lists (`chunks: []`, what a listing shows); `references` drops inline bodies only (what the chunk
   * reference index needs; partition repair compares with it and reads whole what it sends). Absent: whole versions.
   */
  fields?: 'listing' | 'references';
}

/** Which checks a coordinator's write passes on each metadata replica (meta/store.ts writeVersion). */
export interface WriteOptions {
  /** 'write': a new version, refused when the key has a change stamped at or after it; 'revision':
   *  a metadata change of an existing version (it keeps its stamp); 'commit': the second phase of a
   *  conditional write (its reservation checked the stamp; a replica that has none merges it). */
  fence: 'write' | 'revision' | 'commit';
  /** The reservation this write commits (a conditional write's second phase). */
  release?: string;
}

/** What a replica did with a coordinator's write: stored (the slot's winner), or refused without a trace. */
export type WriteOutcome =
  | { stored: ObjectVersion }
  | { staleAt: number } // the key changed at this stamp or later: stamp the write again, later
  | { held: true }; // a conditional write holds the key

/** The first phase of a conditional write (data/conditional.ts). */
export interface KeyReservation {
  id: string;
  timestamp: number; // the stamp the write will carry
  /** What the coordinator read: the key's last change (or the record of `slot`), null when nothing. */
  expected: Pick<ObjectVersion, 'timestamp' | 'writer' | 'versionId' | 'rev' | 'revBy'> | null;
  slot?: string;
  until: number; // ms: the lease
}

export type ReserveOutcome = { reserved: true } | { held: true } | { changed: true } | { staleAt: number };
