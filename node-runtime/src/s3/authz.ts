// Authorization of one S3 request: the access layer's decision (access/authorize.ts) fed with this
// request's facts — the caller, the bucket's registry entry (owner, ACL, policy, public access
// block, shares), the object's owner and ACL when the operation touches an existing one, and the
// policy condition keys of the request. AccessDenied says nothing more, as in S3.
import type { IncomingMessage } from 'node:http';
import { cannedAcl, type Acl } from '../access/acl.ts';
import { authorize, type BucketAccess } from '../access/authorize.ts';
import { parsePolicy, type BucketPolicy } from '../access/policy.ts';
import type { BucketSettings } from '../cluster/types.ts';
import type { ObjectVersion } from '../data/types.ts';
import { s3Error } from '../util/errors.ts';
import type { S3Context } from './types.ts';

// Parsed policies by document: a policy is parsed when it is put (and refused then if malformed);
// here it is only looked up, so a node parses each document once.
const parsed = new Map<string, BucketPolicy | undefined>();
function policyOf(bucket: string, text: string | undefined): BucketPolicy | undefined {
  if (!text) return undefined;
  const key = `${bucket}\u0000${text}`;
  if (!parsed.has(key)) {
    let p: BucketPolicy | undefined;
    try {
      p = parsePolicy(text, bucket);
    } catch {
      p = undefined;
    } // stored, so it parsed once: never expected
    if (parsed.size > 1000) parsed.clear();
    parsed.set(key, p);
  }
  return parsed.get(key);
}

/** The ACL of a bucket: its own, or private to its owner. */
export function bucketAcl(b: BucketSettings): Acl {
  return b.acl ?? cannedAcl('private', b.owner);
}

/** Who owns an object: recorded at write; versions from before users belong to the bucket's owner. */
export const objectOwner = (v: ObjectVersion, b: BucketSettings) => v.owner ?? b.owner;

/** The ACL of an object version: its own, or private to its owner. */
export function objectAcl(v: ObjectVersion, b: BucketSettings): Acl {
  return v.acl ?? cannedAcl('private', objectOwner(v, b));
}

/** An Owner/Initiator element for a user. */
export const ownerXml = (ctx: S3Context, id: string) => ({ ID: id, DisplayName: ctx.deps.users().displayName(id) });

/** The Owner element of a version in a listing. */
export function versionOwnerXml(ctx: S3Context, v: ObjectVersion) {
  const b = ctx.deps.bucket(v.bucket);
  return ownerXml(ctx, b ? objectOwner(v, b) : (v.owner ?? ''));
}

/** The access facts of a bucket. `access: public-read` (set by the operator or the admin API, not by
 *  S3 ACLs) makes every object readable by anyone: the product's "public bucket". */
export function bucketAccess(b: BucketSettings): BucketAccess {
  const shares = b.access === 'public-read' ? [...(b.shares ?? []), { user: '*', access: 'read' as const }] : b.shares;
  return { name: b.name, owner: b.owner, acl: bucketAcl(b), policy: policyOf(b.name, b.policy), publicAccessBlock: b.publicAccessBlock, shares };
}

/** s3:ExistingObjectTag/<key> of the version a request acts on (keys lower case, as every condition key here). */
function existingTagContext(tags: { key: string; value: string }[]): Record<string, string[]> {
  return Object.fromEntries(tags.map((t) => [`s3:existingobjecttag/${t.key.toLowerCase()}`, [t.value]]));
}

/** Operations whose handler authorizes them, once it has the object (the version) they act on (a form
 *  upload: once it has read the form's signer and key). */
export const decidedByHandler = new Set([
  'GetObject',
  'HeadObject',
  'GetObjectAcl',
  'PutObjectAcl',
  'PostObject',
  'GetObjectAttributes',
  'GetObjectTagging',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'PutObjectLegalHold',
]);

/** Operations answered without credentials: browsers send preflights without them, and the
 *  bucket's CORS rules (not a caller) decide them. */
export const unauthenticated = new Set(['CorsPreflight']);

/** Throws AccessDenied unless the caller may do `operation` (on `bucket`, and the object when given). */
/** Operations that act on one version when the request names it by id (?versionId=). */
const BY_VERSION: Record<string, string> = {
  GetObject: 'GetObjectVersion',
  HeadObject: 'GetObjectVersion',
  GetObjectAttributes: 'GetObjectVersionAttributes',
  DeleteObject: 'DeleteObjectVersion',
};

export function requireAccess(ctx: S3Context, operation: string, target: { bucket?: string; key?: string; object?: ObjectVersion } = {}): void {
  if (ctx.route.params.get('versionId') !== undefined && BY_VERSION[operation]) operation = BY_VERSION[operation];
  const name = target.bucket ?? ctx.route.bucket;
  const settings = name !== undefined ? ctx.deps.bucket(name) : undefined;
  const decision = authorize({
    caller: { user: ctx.caller.user, superuser: ctx.caller.superuser },
    operation,
    bucket: settings ? bucketAccess(settings) : undefined,
    key: target.key ?? ctx.route.key,
    object: target.object && settings ? { owner: objectOwner(target.object, settings), acl: objectAcl(target.object, settings) } : undefined,
    context: target.object?.tags?.length ? { ...ctx.policyContext, ...existingTagContext(target.object.tags) } : ctx.policyContext,
  });
  if (!decision.allowed) throw s3Error('AccessDenied', undefined, { resource: name });
}

/** x-amz-expected-bucket-owner: a caller that names another owner than the bucket's is refused. */
export function requireExpectedOwner(ctx: S3Context, expected: string | string[] | undefined): void {
  if (expected === undefined || ctx.route.bucket === undefined) return;
  const b = ctx.deps.bucket(ctx.route.bucket);
  if (b && b.owner !== (Array.isArray(expected) ? expected[0] : expected)) throw s3Error('AccessDenied', undefined, { resource: b.name });
}

/** The policy condition keys of a request (lower case), as far as Cairn knows them. */
export function policyContext(
  req: Pick<IncomingMessage, 'headers' | 'socket'>,
  query: [string, string][],
  user: string | undefined,
  presigned: boolean,
): Record<string, string[] | undefined> {
  const h = req.headers;
  const one = (v: string | string[] | undefined) => (v === undefined ? undefined : [Array.isArray(v) ? v.join(',') : v]);
  const q = (name: string) => {
    const hit = query.find(([k]) => k === name);
    return hit ? [hit[1]] : undefined;
  };
  const now = new Date();
  const ctx: Record<string, string[] | undefined> = {
    'aws:sourceip': req.socket.remoteAddress ? [req.socket.remoteAddress.replace(/^::ffff:/, '')] : undefined,
    'aws:referer': one(h.referer),
    'aws:useragent': one(h['user-agent']),
    'aws:securetransport': ['false'],
    'aws:currenttime': [now.toISOString()],
    'aws:epochtime': [String(Math.floor(now.getTime() / 1000))],
    'aws:userid': user ? [user] : undefined,
    'aws:username': user ? [user] : undefined,
    'aws:principaltype': [user ? 'User' : 'Anonymous'],
    's3:prefix': q('prefix'),
    's3:delimiter': q('delimiter'),
    's3:max-keys': q('max-keys'),
    's3:versionid': q('versionId'),
    's3:signatureversion': user ? ['AWS4-HMAC-SHA256'] : undefined,
    's3:authtype': user ? [presigned ? 'REST-QUERY-STRING' : 'REST-HEADER'] : undefined,
    's3:x-amz-acl': one(h['x-amz-acl']),
    's3:x-amz-copy-source': one(h['x-amz-copy-source']),
    's3:x-amz-metadata-directive': one(h['x-amz-metadata-directive']),
    's3:x-amz-server-side-encryption': one(h['x-amz-server-side-encryption']),
    's3:x-amz-server-side-encryption-customer-algorithm': one(h['x-amz-server-side-encryption-customer-algorithm']),
    's3:x-amz-storage-class': one(h['x-amz-storage-class']),
  };
  for (const g of ['read', 'write', 'read-acp', 'write-acp', 'full-control']) ctx[`s3:x-amz-grant-${g}`] = one(h[`x-amz-grant-${g}`]);
  const tagging = h['x-amz-tagging'];
  if (typeof tagging === 'string') {
    const tags = new URLSearchParams(tagging);
    ctx['s3:requestobjecttagkeys'] = [...tags.keys()];
    for (const [k, v] of tags) ctx[`s3:requestobjecttag/${k.toLowerCase()}`] = [v];
  }
  return ctx;
}
