// Stored flexible checksums on the way out: the headers of GET/HEAD with x-amz-checksum-mode:
// ENABLED, the Checksum<ALGO> elements of XML answers, and a completed multipart upload's checksum
// from its parts' (COMPOSITE or FULL_OBJECT, semantics/checksums.ts), checked against what the
// CompleteMultipartUpload request says the parts' and the object's checksums are.
import type { CompletedPart, MultipartUpload, ObjectVersion, PartRecord, StoredChecksum } from '../data/types.ts';
import { s3Error } from '../util/errors.ts';
import {
  CHECKSUM_ALGORITHMS,
  checksumHeader,
  checksumModeEnabled,
  checksumResponseHeaders,
  multipartChecksum,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from './semantics/checksums.ts';

type HeaderBag = Record<string, string | string[] | undefined>;

/** The XML element of an algorithm's value: ChecksumCRC32, ChecksumSHA256, ... */
export const checksumElement = (a: ChecksumAlgorithm) => `Checksum${a}`;

/** The stored checksum as XML elements (value and type), or nothing. */
export function checksumXml(c: StoredChecksum | undefined): Record<string, string> {
  return c ? { [checksumElement(c.algorithm)]: c.value, ChecksumType: c.type } : {};
}

/** GET/HEAD: the stored checksum when the client asked for it and gets the whole object. */
export function storedChecksumHeaders(h: HeaderBag, v: ObjectVersion, wholeObject: boolean): Record<string, string> {
  if (!checksumModeEnabled(h) || !v.checksum || !wholeObject) return {};
  return checksumResponseHeaders(v.checksum);
}

/** A part in a CompleteMultipartUpload document, with the checksum it names (if any). */
export interface CompletedPartWithChecksum extends CompletedPart {
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

/**
 * CompleteMultipartUpload's checksum headers must describe the upload's checksum: a type or an
 * algorithm other than the one it was created with (or any, for an upload created without one,
 * whose parts' checksums cannot be combined) is InvalidRequest rather than left unchecked.
 */
export function checkCompletionChecksumHeaders(upload: MultipartUpload, h: HeaderBag): void {
  const spec = upload.checksum;
  const type = one(h['x-amz-checksum-type']);
  const sent = CHECKSUM_ALGORITHMS.filter((a) => h[checksumHeader(a)] !== undefined);
  if (!spec) {
    if (type !== undefined || sent.length)
      throw s3Error('InvalidRequest', 'The upload was created without a checksum algorithm; CompleteMultipartUpload cannot name one.');
    return;
  }
  if (type !== undefined && type !== spec.type) throw s3Error('InvalidRequest', `The upload was created with the ${spec.type} checksum type, not ${type}.`);
  const other = sent.find((a) => a !== spec.algorithm);
  if (other) throw s3Error('InvalidRequest', `The upload was created with the ${spec.algorithm} checksum algorithm, not ${other}.`);
}

/**
 * The object's checksum at CompleteMultipartUpload: from the stored parts the request names, when
 * the upload was created with an algorithm. A part checksum the request names must be the stored
 * one (InvalidPart), and an object checksum it sends (x-amz-checksum-<algo>) must be the result
 * (BadDigest).
 */
export function completedChecksum(
  upload: MultipartUpload,
  requested: CompletedPartWithChecksum[],
  stored: PartRecord[],
  h: HeaderBag,
): StoredChecksum | undefined {
  const spec = upload.checksum;
  if (!spec) return undefined;
  const byNumber = new Map(stored.map((p) => [p.number, p]));
  const parts = requested.map((r) => {
    const p = byNumber.get(r.number);
    // A part that is missing or has another ETag fails the completion itself (data/multipart.ts).
    if (!p || p.checksum === undefined) return undefined;
    if (r.checksum && (r.checksum.algorithm !== spec.algorithm || r.checksum.value !== p.checksum)) {
      throw s3Error('InvalidPart', `The ${r.checksum.algorithm.toLowerCase()} checksum of part ${r.number} does not match the uploaded part's.`, {
        extra: { PartNumber: String(r.number) },
      });
    }
    return { checksum: p.checksum, size: p.size };
  });
  if (parts.some((p) => p === undefined)) return undefined;
  const value = multipartChecksum(spec.algorithm, spec.type, parts as { checksum: string; size: number }[]);
  const sent = one(h[checksumHeader(spec.algorithm)]);
  if (sent !== undefined && sent !== value) throw s3Error('BadDigest', `The ${spec.algorithm} you specified did not match the calculated checksum.`);
  return { algorithm: spec.algorithm, type: spec.type, value };
}

/**
 * CopyObject with x-amz-checksum-algorithm: the copy keeps the source's bytes and so its whole-object
 * checksum; one of another algorithm would need every byte read again, which a server-side copy does
 * not do — refused rather than answered without it.
 */
export function checkCopyChecksum(wanted: string | string[] | undefined, source: StoredChecksum | undefined): void {
  const w = one(wanted);
  if (w === undefined) return;
  const algorithm = parseChecksumAlgorithm(w, 'x-amz-checksum-algorithm');
  if (source?.algorithm !== algorithm || source.type !== 'FULL_OBJECT') {
    throw s3Error('NotImplemented', `A copy keeps its source's checksum; computing a new ${algorithm} checksum on copy is not implemented.`);
  }
}
