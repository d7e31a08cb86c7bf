// The conditions of a write request (If-Match, If-None-Match, S3's x-amz-if-match-* on deletes), as
// the checks the data path runs against the key's current version when the write commits — atomically
// with respect to every other writer of the key (data/conditional.ts). The rules themselves are
// s3/semantics/conditional.ts; a condition header Cairn does not evaluate for an operation is refused.
import type { ObjectVersion, PutOptions, DeleteOptions } from '../data/types.ts';
import { s3Error } from '../util/errors.ts';
import { evaluateDelete, evaluatePut, hasPreconditions, writePreconditions, type WriteTarget } from './semantics/conditional.ts';

type Headers = Record<string, string | string[] | undefined>;

/** A stored version as the conditional rules see it. */
export function writeTarget(v: ObjectVersion | undefined): WriteTarget {
  if (!v) return { kind: 'absent' };
  if (v.deleted) return { kind: 'delete-marker', lastModified: v.timestamp };
  return { kind: 'object', etag: v.etag, lastModified: v.timestamp, size: v.size };
}

/** PutObject, CopyObject, CompleteMultipartUpload: If-Match / If-None-Match on the current version. */
export function putPrecondition(h: Headers): PutOptions['precondition'] {
  const p = writePreconditions(h);
  if (p.ifMatchLastModifiedTime !== undefined || p.ifMatchSize !== undefined) {
    throw s3Error('NotImplemented', 'x-amz-if-match-last-modified-time and x-amz-if-match-size apply to deletes only.');
  }
  if (!hasPreconditions(p)) return undefined;
  return (current) => evaluatePut(p, writeTarget(current));
}

/** DeleteObject and one object of DeleteObjects: its conditions on the version it removes or hides. */
export function deletePrecondition(h: Headers): DeleteOptions['precondition'] {
  const p = writePreconditions(h);
  if (!hasPreconditions(p)) return undefined;
  if (p.ifNoneMatch !== undefined) throw s3Error('NotImplemented', 'If-None-Match is not supported on DeleteObject.');
  return (target) => evaluateDelete(p, writeTarget(target));
}
