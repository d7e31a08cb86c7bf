// Conditional requests as S3 evaluates them: reads (304/412), CopyObject sources (412 only) and writes (Put, Complete, Delete).
//
// Reads follow RFC 7232 §6: If-Match, else If-Unmodified-Since (412 when false); then If-None-Match,
// else If-Modified-Since (304 when false). A present etag condition silences its date partner,
// which is what AWS documents for the mixed cases. Copy sources use the same order, but every
// failure is 412 because a copy has nothing to answer "not modified" with. Writes compare with the
// key's current version only (S3 has no version-targeted conditional put): If-Match needs a
// current object (NoSuchKey otherwise), If-None-Match refuses one that matches. A delete of a key
// or version that is not there is a no-op 204 whatever its conditions, as the suite expects.
import { s3Error } from '../../util/errors.ts';

/** The four HTTP validators of a read, or the x-amz-copy-source-if-* set of a copy. */
export interface ReadPreconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/** Conditions of a write. The last two are S3's DeleteObject(s) extensions (x-amz-if-match-*). */
export interface WritePreconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifMatchLastModifiedTime?: string;
  ifMatchSize?: string;
}

/** What the conditions are evaluated against: the stored version (etag without quotes). */
export interface Validators {
  etag: string;
  lastModified: number; // ms since epoch; HTTP dates have second precision
}

/** The key's latest version (or the version a delete names) as a write sees it. */
export type WriteTarget =
  | { kind: 'absent' }
  | { kind: 'delete-marker'; lastModified: number }
  | { kind: 'object'; etag: string; lastModified: number; size: number };

type HeaderBag = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

/** Conditions of a GET/HEAD (prefix '') or of a copy source (prefix 'x-amz-copy-source-'). */
export function readPreconditions(headers: HeaderBag, prefix: '' | 'x-amz-copy-source-' = ''): ReadPreconditions {
  return {
    ifMatch: one(headers[prefix + 'if-match']),
    ifNoneMatch: one(headers[prefix + 'if-none-match']),
    ifModifiedSince: one(headers[prefix + 'if-modified-since']),
    ifUnmodifiedSince: one(headers[prefix + 'if-unmodified-since']),
  };
}

export function writePreconditions(headers: HeaderBag): WritePreconditions {
  return {
    ifMatch: one(headers['if-match']),
    ifNoneMatch: one(headers['if-none-match']),
    ifMatchLastModifiedTime: one(headers['x-amz-if-match-last-modified-time']),
    ifMatchSize: one(headers['x-amz-if-match-size']),
  };
}

/** True when any condition is present (a handler may skip the version lookup otherwise). */
export function hasPreconditions(p: ReadPreconditions | WritePreconditions): boolean {
  return Object.values(p).some((v) => v !== undefined);
}

/**
 * Whether an entity-tag list (`*`, or `"a", b, W/"c"`) names `etag`. S3 accepts etags without
 * quotes. `weak` is RFC 7232's weak comparison (If-None-Match): W/"x" matches x; the strong one
 * (If-Match, writes) never matches a weak tag.
 */
export function etagListMatches(list: string, etag: string, weak: boolean): boolean {
  return list.split(',').some((raw) => {
    let t = raw.trim();
    if (t === '*') return true;
    if (t.startsWith('W/')) {
      if (!weak) return false;
      t = t.slice(2);
    }
    if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
    return t !== '' && t === etag;
  });
}

/** An HTTP date as ms, or undefined when unparsable (RFC 7232: such a condition is ignored). */
function httpDate(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

function failed(condition: string): never {
  throw s3Error('PreconditionFailed', undefined, { extra: { Condition: condition } });
}

/**
 * GET/HEAD: 'serve', or 'not-modified' (answer 304 with ETag and Last-Modified, no body);
 * throws PreconditionFailed (412). An If-Modified-Since later than `now` is invalid and ignored.
 */
export function evaluateRead(p: ReadPreconditions, v: Validators, now: number): 'serve' | 'not-modified' {
  const lm = seconds(v.lastModified);
  if (p.ifMatch !== undefined) {
    if (!etagListMatches(p.ifMatch, v.etag, false)) failed('If-Match');
  } else {
    const ius = httpDate(p.ifUnmodifiedSince);
    if (ius !== undefined && lm > ius) failed('If-Unmodified-Since');
  }
  if (p.ifNoneMatch !== undefined) {
    if (etagListMatches(p.ifNoneMatch, v.etag, true)) return 'not-modified';
  } else {
    const ims = httpDate(p.ifModifiedSince);
    if (ims !== undefined && ims <= now && lm <= ims) return 'not-modified';
  }
  return 'serve';
}

/** CopyObject / UploadPartCopy source: the read rules with 412 in place of 304. */
export function evaluateCopySource(p: ReadPreconditions, v: Validators, now: number): void {
  const prefixed = (name: string) => `x-amz-copy-source-${name}`;
  const lm = seconds(v.lastModified);
  if (p.ifMatch !== undefined) {
    if (!etagListMatches(p.ifMatch, v.etag, false)) failed(prefixed('If-Match'));
  } else {
    const ius = httpDate(p.ifUnmodifiedSince);
    if (ius !== undefined && lm > ius) failed(prefixed('If-Unmodified-Since'));
  }
  if (p.ifNoneMatch !== undefined) {
    if (etagListMatches(p.ifNoneMatch, v.etag, true)) failed(prefixed('If-None-Match'));
  } else {
    const ims = httpDate(p.ifModifiedSince);
    if (ims !== undefined && ims <= now && lm <= ims) failed(prefixed('If-Modified-Since'));
  }
}

/**
 * PutObject, CompleteMultipartUpload (and CopyObject's destination): returns when the write may
 * go ahead. A delete marker as latest version counts as no object, as S3 does.
 */
export function evaluatePut(p: WritePreconditions, current: WriteTarget): void {
  const object = current.kind === 'object' ? current : undefined;
  if (p.ifMatch !== undefined) {
    if (!object) throw s3Error('NoSuchKey');
    if (!etagListMatches(p.ifMatch, object.etag, false)) failed('If-Match');
  }
  if (p.ifNoneMatch !== undefined && object && etagListMatches(p.ifNoneMatch, object.etag, false)) failed('If-None-Match');
}

/**
 * DeleteObject (and one entry of DeleteObjects, whose ETag/LastModifiedTime/Size elements map to
 * the same fields): 'delete' to go ahead, 'noop' to answer success without writing (the key or
 * version is not there). A delete marker has no etag or size: only `If-Match: *` and its own
 * last-modified time match it.
 */
export function evaluateDelete(p: WritePreconditions, target: WriteTarget): 'delete' | 'noop' {
  if (p.ifNoneMatch !== undefined) throw s3Error('NotImplemented', 'If-None-Match is not supported on DeleteObject.');
  if (target.kind === 'absent') return 'noop';
  if (p.ifMatch !== undefined) {
    const ok = target.kind === 'object' ? etagListMatches(p.ifMatch, target.etag, false) : p.ifMatch.trim() === '*';
    if (!ok) failed('If-Match');
  }
  if (p.ifMatchLastModifiedTime !== undefined) {
    const t = httpDate(p.ifMatchLastModifiedTime);
    if (t === undefined) throw s3Error('InvalidArgument', 'x-amz-if-match-last-modified-time is not a valid date.');
    if (seconds(target.lastModified) !== seconds(t)) failed('x-amz-if-match-last-modified-time');
  }
  if (p.ifMatchSize !== undefined) {
    if (!/^\d+$/.test(p.ifMatchSize.trim())) throw s3Error('InvalidArgument', 'x-amz-if-match-size must be a non-negative integer.');
    if (target.kind !== 'object' || target.size !== Number(p.ifMatchSize)) failed('x-amz-if-match-size');
  }
  return 'delete';
}
