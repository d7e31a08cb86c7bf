// The console's JSON API contract (types only): the server (node-runtime/src/console) and the
// browser app (console/src) both import it, so one change shows up on both sides at type-check.
//
//   GET    /api/sign-in-options         → SignInOptions (no session needed)
//   GET    /oidc/start?next= , /oidc/callback   OpenID Connect sign-in, when configured (oidc.ts)
//   POST   /api/session                 SignInRequest → SessionInfo (sets the session cookie)
//   GET    /api/session                 → SessionInfo
//   DELETE /api/session                 → 204 (revokes the token, clears the cookie)
//   GET    /api/buckets                 → BucketEntry[]
//   POST   /api/buckets                 { name } → 201
//   GET    /api/buckets/:b/objects?prefix=&token=&max=&delimiter=0|1 → ObjectPage
//   GET    /api/buckets/:b/tagged?prefix=&tag=k=v|k&token=&max= → TagSearchPage (one page of keys searched)
//   POST   /api/buckets/:b/folders      { key } → 201
//   POST   /api/buckets/:b/move         MoveRequest → MoveResult
//   POST   /api/buckets/:b/delete       DeleteRequest → DeleteResult
//   POST   /api/buckets/:b/share        ShareRequest → ShareLink
//   GET    /api/buckets/:b/content?key=&disposition=inline|attachment → 302 to a presigned /s3/ URL
//   POST   /api/buckets/:b/uploads      UploadRequest → UploadPlan
//   POST   /api/buckets/:b/uploads/parts     PartUrlsRequest → { urls: string[] }
//   POST   /api/buckets/:b/uploads/complete  CompleteRequest → 200
//   POST   /api/buckets/:b/uploads/abort     { key, uploadId } → 204
//   GET    /api/cluster                 → ClusterStatus (admins only)
//   *      /s3/<bucket>/<key>?X-Amz-…   presigned S3 requests of the session's own key, passed through
// Mutating calls carry the header `x-csrf-token: <SessionInfo.csrfToken>`. Errors: ApiErrorBody.
import type { ClusterStatus } from '../admin/types.ts';

export type { ClusterStatus };
export type { BucketStatus, MemberStatus, RepairProgress } from '../admin/types.ts';

export const CSRF_HEADER = 'x-csrf-token';

export interface SignInRequest {
  accessKeyId: string;
  secretAccessKey: string;
}

/** How one may sign in here, besides a key: an OpenID Connect issuer's button. */
export interface SignInOptions {
  oidc?: { label: string };
}

export interface SessionInfo {
  userId: string;
  displayName: string;
  accessKeyId: string;
  isAdmin: boolean;
  csrfToken: string;
  expiresAt: string; // ISO time; the session is not extended (sign in again after it)
}

export interface BucketEntry {
  name: string;
  createdAt: string;
}

export interface ObjectEntry {
  key: string; // full key; for folders it ends with the delimiter
  folder: boolean;
  size: number;
  lastModified?: string;
  etag?: string;
}

export interface ObjectPage {
  prefix: string;
  entries: ObjectEntry[];
  nextToken?: string;
}

/** A tag to search for: `value` undefined matches any value of `key`. */
export interface TagQuery {
  key: string;
  value?: string;
}
export interface TaggedEntry extends ObjectEntry {
  tags: { key: string; value: string }[];
}
/** One step of a tag search: `scanned` keys under `prefix` were read, `entries` of them carry the tag. */
export interface TagSearchPage {
  prefix: string;
  tag: TagQuery;
  entries: TaggedEntry[];
  scanned: number;
  unreadable: number; // keys whose tags this user may not read (listed, but GetObjectTagging denied)
  nextToken?: string;
}

export interface MoveRequest {
  from: string;
  to: string;
} // a key, or a folder prefix ending in '/'
export interface MoveResult {
  moved: number;
}

export interface DeleteRequest {
  keys: string[];
} // keys, or folder prefixes ending in '/'
export interface DeleteResult {
  deleted: number;
  errors: { key: string; message: string }[];
}

export interface ShareRequest {
  key: string;
  expiresInSeconds: number;
}
export interface ShareLink {
  url: string;
  expiresAt: string;
}

export interface UploadRequest {
  key: string;
  size: number;
  contentType?: string;
}
export type UploadPlan = { kind: 'single'; url: string } | { kind: 'multipart'; uploadId: string; partSize: number; partCount: number };

export interface PartUrlsRequest {
  key: string;
  uploadId: string;
  partNumbers: number[];
}
export interface CompleteRequest {
  key: string;
  uploadId: string;
  parts: { partNumber: number; etag: string }[];
}

export interface ApiErrorBody {
  error: { code: string; message: string; retryAfterSeconds?: number };
}

/** Limits both sides agree on. */
export const SHARE_MAX_SECONDS = 7 * 24 * 3600; // SigV4's own ceiling
export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
export const PART_URL_BATCH = 100;
export const TAG_SEARCH_MAX_SCAN = 1000; // keys one tag-search call lists and reads the tags of
