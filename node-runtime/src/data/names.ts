// Validation of bucket names and object keys at the edge of the data path. Keys are opaque
// strings: they are only ever bytes in metadata keys, never file paths, so `../x` is just a key.
import { s3Error } from '../util/errors.ts';

export const MAX_KEY_BYTES = 1024;

// Names S3 keeps for itself (punycode, access point and Outposts aliases, directory and table
// buckets, its documentation): a client that sees one expects it to mean what it means on AWS.
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/** S3 bucket naming rules (the DNS-compatible subset every client accepts). */
export function bucketNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length < 3 || name.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    return 'may contain only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit';
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return 'must not contain "..", ".-" or "-."';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'must not be formatted as an IP address';
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p)) || RESERVED_SUFFIXES.some((x) => name.endsWith(x))) return 'uses a reserved prefix or suffix';
  return undefined;
}

export function checkBucketName(name: string): void {
  const p = bucketNameProblem(name);
  if (p) throw s3Error('InvalidBucketName', `The specified bucket is not valid: ${p}.`, { resource: String(name) });
}

export function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw s3Error('InvalidArgument', 'Object key must not be empty.');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw s3Error('KeyTooLongError', undefined, { resource: key.slice(0, 64) + '…' });
  // NUL separates a key from its version in the metadata store's order (meta/store.ts).
  if (key.includes('\u0000')) throw s3Error('InvalidArgument', 'Object key must not contain NUL.');
}
