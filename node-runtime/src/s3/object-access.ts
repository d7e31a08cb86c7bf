// Ownership and access on the object paths: who a new version belongs to and which ACL it gets,
// and reads that are authorized once the object they read is known.
import { aclFromHeaders, cannedAcl, type Acl } from '../access/acl.ts';
import { checkAclAllowed } from '../access/public-access.ts';
import type { BucketSettings } from '../cluster/types.ts';
import type { ObjectVersion } from '../data/types.ts';
import { isS3Error, S3Error } from '../util/errors.ts';
import { requireAccess } from './authz.ts';
import type { S3Context } from './types.ts';

type Headers = Record<string, string | string[] | undefined>;

/** The owner and ACL of a version written by this request into `bucket`. */
export function newObjectOwnership(ctx: S3Context, bucket: string, h: Headers): { owner?: string; acl?: Acl } {
  const b = ctx.deps.bucket(bucket);
  if (!b) return {}; // the write fails with NoSuchBucket
  // BucketOwnerEnforced: every object is the bucket owner's and ACLs are off (S3's modern default;
  // Cairn's Kubernetes Buckets use it). Otherwise the writer owns what it writes; an anonymous
  // writer (a public-read-write bucket) leaves it to the bucket owner.
  if (b.ownership === 'BucketOwnerEnforced') {
    const canned = h['x-amz-acl'];
    const grants = Object.keys(h).some((k) => k.startsWith('x-amz-grant-'));
    // Only the one ACL that says what is true anyway may be sent.
    if (grants || (canned !== undefined && canned !== 'bucket-owner-full-control')) {
      throw new S3Error('AccessControlListNotSupported', 400, 'The bucket does not allow ACLs');
    }
    return { owner: b.owner };
  }
  const owner = ctx.caller.user ?? b.owner;
  const acl = aclFromHeaders(h, owner, ctx.deps.users(), b.owner);
  checkAclAllowed(b.publicAccessBlock, acl);
  if (b.ownership === 'BucketOwnerPreferred' && h['x-amz-acl'] === 'bucket-owner-full-control') return { owner: b.owner, acl: cannedAcl('private', b.owner) };
  return { owner, ...(acl ? { acl } : {}) };
}

/**
 * Read an object (or its metadata) and authorize the read against it. A read of a key that is
 * not there is refused as AccessDenied to a caller who may not list the bucket (S3 tells only
 * listers that a key does not exist).
 */
export async function authorizedRead<T>(
  ctx: S3Context,
  operation: string,
  target: { bucket: string; key: string },
  read: () => Promise<T>,
  versionOf: (t: T) => ObjectVersion,
  dispose: (t: T) => void = () => {},
): Promise<T> {
  let got: T;
  try {
    got = await read();
  } catch (e) {
    if (isS3Error(e) && e.code === 'NoSuchKey') requireAccess(ctx, operation, { bucket: target.bucket, key: target.key });
    throw e;
  }
  try {
    requireAccess(ctx, operation, { bucket: target.bucket, key: target.key, object: versionOf(got) });
  } catch (e) {
    dispose(got);
    throw e;
  }
  return got;
}

/** The bucket's settings or NoSuchBucket. */
export function bucketOrThrow(ctx: S3Context, name: string): BucketSettings {
  const b = ctx.deps.bucket(name);
  if (!b) throw new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { resource: name, extra: { BucketName: name } });
  return b;
}
