// Access configuration handlers: bucket and object ACLs, bucket policies and their status,
// PublicAccessBlock, Object Ownership and default encryption. Each checks the whole document
// before anything is written (a bad one changes nothing) and writes the bucket's registry entry.
import { aclFromHeaders, aclIsPublic, type Acl } from '../access/acl.ts';
import { aclXmlBody, parseAclXml } from '../access/acl-xml.ts';
import { parsePolicy, policyIsPublic } from '../access/policy.ts';
import { checkAclAllowed, checkPolicyAllowed, parsePublicAccessBlock, publicAccessBlockXmlBody } from '../access/public-access.ts';
import type { BucketSettings, ObjectOwnership } from '../cluster/types.ts';
import { s3Error, S3Error } from '../util/errors.ts';
import { bucketAcl, bucketAccess, objectAcl, objectOwner } from './authz.ts';
import { authorizedRead, bucketOrThrow } from './object-access.ts';
import { readSmallBody } from './payload.ts';
import { sendXml } from './respond.ts';
import { target, type Handler, type S3Context } from './types.ts';
import { parseXml, text, type XmlObject } from './xml.ts';

const noContent = (res: Parameters<Handler>[1]) => {
  res.status(204).end();
};
const update = (ctx: S3Context, b: BucketSettings, change: Partial<BucketSettings>, drop: (keyof BucketSettings)[] = []) => {
  const next = { ...b, ...change };
  for (const k of drop) delete next[k];
  return ctx.deps.putBucket(next);
};

/** The ACL a Put*Acl asks for: a document, or canned/grant headers, never both. */
async function requestedAcl(req: Parameters<Handler>[0], ctx: S3Context, owner: string, bucketOwner: string): Promise<Acl> {
  const body = await readSmallBody(req, ctx.caller, 64 * 1024);
  const fromHeaders = aclFromHeaders(req.headers, owner, ctx.deps.users(), bucketOwner);
  if (body.trim()) {
    if (fromHeaders) throw s3Error('InvalidRequest', 'Specifying both an AccessControlPolicy document and ACL headers is not allowed');
    return parseAclXml(body, owner, ctx.deps.users());
  }
  if (!fromHeaders)
    throw new S3Error('MissingSecurityHeader', 400, 'Your request was missing a required header: x-amz-acl, x-amz-grant-* or an AccessControlPolicy body');
  return fromHeaders;
}

/** BucketOwnerEnforced turns ACLs off: setting one is refused, whatever it says. */
function refuseAclsWhenEnforced(b: BucketSettings, req: Parameters<Handler>[0]): void {
  if (b.ownership === 'BucketOwnerEnforced' && req.headers['x-amz-acl'] !== 'bucket-owner-full-control') {
    throw new S3Error('AccessControlListNotSupported', 400, 'The bucket does not allow ACLs');
  }
}

const aclDocument = (ctx: S3Context, acl: Acl): XmlObject => aclXmlBody(acl, (id) => ctx.deps.users().displayName(id)) as XmlObject;

export const getBucketAcl: Handler = async (_req, res, ctx) => {
  sendXml(res, 200, 'AccessControlPolicy', aclDocument(ctx, bucketAcl(bucketOrThrow(ctx, ctx.route.bucket!))));
};

export const putBucketAcl: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  refuseAclsWhenEnforced(b, req);
  const acl = await requestedAcl(req, ctx, b.owner, b.owner);
  checkAclAllowed(b.publicAccessBlock, acl);
  await update(ctx, b, { acl });
  res.status(200).end();
};

export const getObjectAcl: Handler = async (_req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const v = await authorizedRead(
    ctx,
    'GetObjectAcl',
    { bucket, key },
    () => ctx.deps.objects.headObject(bucket, key),
    (x) => x,
  );
  sendXml(res, 200, 'AccessControlPolicy', aclDocument(ctx, objectAcl(v, bucketOrThrow(ctx, bucket))));
};

export const putObjectAcl: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const v = await authorizedRead(
    ctx,
    'PutObjectAcl',
    { bucket, key },
    () => ctx.deps.objects.headObject(bucket, key),
    (x) => x,
  );
  const b = bucketOrThrow(ctx, bucket);
  refuseAclsWhenEnforced(b, req);
  const acl = await requestedAcl(req, ctx, objectOwner(v, b), b.owner);
  checkAclAllowed(b.publicAccessBlock, acl);
  await ctx.deps.objects.putObjectAcl(bucket, key, acl);
  res.status(200).end();
};

export const getBucketPolicy: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.policy) throw new S3Error('NoSuchBucketPolicy', 404, 'The bucket policy does not exist', { resource: b.name, extra: { BucketName: b.name } });
  res
    .status(200)
    .set({ 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(b.policy)) })
    .end(b.policy);
};

export const putBucketPolicy: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const text = await readSmallBody(req, ctx.caller, 20 * 1024);
  const policy = parsePolicy(text, b.name); // MalformedPolicy: nothing is stored
  checkPolicyAllowed(b.publicAccessBlock, policy);
  await update(ctx, b, { policy: text });
  noContent(res);
};

export const deleteBucketPolicy: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (b.policy) await update(ctx, b, {}, ['policy']);
  noContent(res);
};

export const getBucketPolicyStatus: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  // Public when the policy or the bucket's ACL lets everyone in (S3 counts both).
  sendXml(res, 200, 'PolicyStatus', { IsPublic: policyIsPublic(bucketAccess(b).policy) || aclIsPublic(bucketAcl(b)) || b.access === 'public-read' });
};

export const getPublicAccessBlock: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.publicAccessBlock)
    throw new S3Error('NoSuchPublicAccessBlockConfiguration', 404, 'The public access block configuration was not found', {
      resource: b.name,
      extra: { BucketName: b.name },
    });
  sendXml(res, 200, 'PublicAccessBlockConfiguration', publicAccessBlockXmlBody(b.publicAccessBlock));
};

export const putPublicAccessBlock: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const pab = parsePublicAccessBlock(await readSmallBody(req, ctx.caller, 64 * 1024));
  await update(ctx, b, { publicAccessBlock: pab });
  res.status(200).end();
};

export const deletePublicAccessBlock: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (b.publicAccessBlock) await update(ctx, b, {}, ['publicAccessBlock']);
  noContent(res);
};

const OWNERSHIPS: ObjectOwnership[] = ['ObjectWriter', 'BucketOwnerPreferred', 'BucketOwnerEnforced'];

export const getOwnershipControls: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.ownership) throw new S3Error('OwnershipControlsNotFoundError', 404, 'The bucket ownership controls were not found', { resource: b.name });
  sendXml(res, 200, 'OwnershipControls', { Rule: { ObjectOwnership: b.ownership } });
};

export const putOwnershipControls: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const doc = parseXml(await readSmallBody(req, ctx.caller, 64 * 1024), 'OwnershipControls');
  const rule = doc.Rule;
  const value = rule && typeof rule === 'object' && !Array.isArray(rule) ? text(rule as XmlObject, 'ObjectOwnership') : undefined;
  if (!value || !OWNERSHIPS.includes(value as ObjectOwnership)) throw s3Error('MalformedXML');
  const ownership = value as ObjectOwnership;
  // Turning ACLs off while the bucket's own ACL grants others something would silently revoke it.
  if (ownership === 'BucketOwnerEnforced' && bucketAcl(b).grants.some((g) => g.grantee.type !== 'CanonicalUser' || g.grantee.id !== b.owner)) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership', 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
  }
  await update(ctx, b, { ownership });
  res.status(200).end();
};

export const deleteOwnershipControls: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (b.ownership) await update(ctx, b, {}, ['ownership']);
  noContent(res);
};

export const getBucketEncryption: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.encryption)
    throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', 404, 'The server side encryption configuration was not found', {
      resource: b.name,
      extra: { BucketName: b.name },
    });
  sendXml(res, 200, 'ServerSideEncryptionConfiguration', {
    Rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: b.encryption }, BucketKeyEnabled: false },
  });
};

export const putBucketEncryption: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const doc = parseXml(await readSmallBody(req, ctx.caller, 64 * 1024), 'ServerSideEncryptionConfiguration');
  const rule = doc.Rule as XmlObject | undefined;
  const apply = rule && typeof rule === 'object' ? (rule.ApplyServerSideEncryptionByDefault as XmlObject | undefined) : undefined;
  const algorithm = apply && typeof apply === 'object' ? text(apply, 'SSEAlgorithm') : undefined;
  if (algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse')
    throw new S3Error('NotImplemented', 501, 'SSE-KMS needs a key management service; none is configured in this cluster. Use AES256.');
  if (algorithm !== 'AES256') throw s3Error('MalformedXML');
  await update(ctx, b, { encryption: 'AES256' });
  res.status(200).end();
};

export const deleteBucketEncryption: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (b.encryption) await update(ctx, b, {}, ['encryption']);
  noContent(res);
};
