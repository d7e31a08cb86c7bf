// Request headers that ask a write for something Cairn does not do (or cannot mean). Each is refused
// (NotImplemented, 501; InvalidRequest for a value that cannot apply) rather than ignored: a client that asked for a storage class, a website
// redirect or an append must not believe it got one. Pure, so the table is unit-tested.
import { s3Error } from '../util/errors.ts';

type HeaderBag = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

/** The operations that create an object or an upload, which these headers are about. */
const WRITES = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PostObject']);

/** Every class S3 names; only STANDARD is what Cairn stores (replicated, on its nodes' disks). */
const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
  'FSX_OPENZFS',
]);

/** Headers no Cairn operation implements, with what they would have asked for. */
const NEVER: Record<string, string> = {
  'x-amz-website-redirect-location': 'Website redirects',
  'x-amz-write-offset-bytes': 'Appending to an object',
};

/** `h`: a request's headers, or a form upload's fields (PostObject). */
export function refuseUnsupportedHeaders(operation: string, h: HeaderBag): void {
  if (!WRITES.has(operation)) return;
  for (const [name, what] of Object.entries(NEVER)) {
    if (h[name] !== undefined) throw s3Error('NotImplemented', `${what} (${name}) is not implemented.`);
  }
  // One body's checksum is of the whole body: a PUT cannot ask for a COMPOSITE one (that is multipart's).
  const checksumType = one(h['x-amz-checksum-type']);
  if (operation === 'PutObject' && checksumType !== undefined && checksumType !== 'FULL_OBJECT') {
    throw s3Error('InvalidRequest', `The ${checksumType} checksum type is not valid for PutObject.`);
  }
  const storageClass = one(h['x-amz-storage-class']);
  if (storageClass !== undefined) {
    if (!STORAGE_CLASSES.has(storageClass)) throw s3Error('InvalidStorageClass');
    if (storageClass !== 'STANDARD') throw s3Error('NotImplemented', `Storage class ${storageClass} is not implemented; every object is STANDARD.`);
  }
}
