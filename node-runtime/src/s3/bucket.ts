// Service and bucket handlers: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, DeleteObjects.
import { aclFromHeaders, cannedAcl } from '../access/acl.ts';
import { bucketAcl } from './authz.ts';
import type { BucketSettings } from '../cluster/types.ts';
import { isS3Error, s3Error, S3Error } from '../util/errors.ts';
import { bucketNameProblem } from '../data/names.ts';
import { placementFromHeaders } from './object-headers.ts';
import { readSmallBody } from './payload.ts';
import { sendXml, setHeaders } from './respond.ts';
import type { Handler } from './types.ts';
import { buildXml, list, parseXml, text, type XmlObject } from './xml.ts';
import { bypassGovernance } from './object.ts';
import { parseVersionIdParam } from './semantics/versioning.ts';
import { deletePrecondition } from './write-conditions.ts';

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** S3's bucket naming rules (data/names.ts). */
export const validBucketName = (name: string): boolean => bucketNameProblem(name) === undefined;

/** ListBuckets: the caller's own buckets (the admin user sees all), paged by MaxBuckets and ContinuationToken. */
export const listBuckets: Handler = async (_req, res, ctx) => {
  const { user, superuser } = ctx.caller;
  const p = ctx.route.params;
  const max = p.has('max-buckets') ? Number(p.get('max-buckets')) : 10_000;
  if (!Number.isInteger(max) || max < 1 || max > 10_000) throw s3Error('InvalidArgument', 'max-buckets must be an integer from 1 to 10000');
  const after = p.get('continuation-token') ?? undefined;
  const prefix = p.get('prefix') ?? '';
  const mine = (await ctx.deps.objects.listBuckets())
    .filter((b) => superuser || ctx.deps.bucket(b.name)?.owner === user)
    .filter((b) => b.name.startsWith(prefix) && (after === undefined || b.name > after))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const page = mine.slice(0, max);
  const owner = user ?? '';
  sendXml(res, 200, 'ListAllMyBucketsResult', {
    Owner: { ID: owner, DisplayName: ctx.deps.users().displayName(owner) },
    Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: b.createdAt, BucketRegion: ctx.deps.region })) },
    ...(mine.length > page.length ? { ContinuationToken: page[page.length - 1].name } : {}),
    ...(prefix ? { Prefix: prefix } : {}),
  });
};

export const createBucket: Handler = async (req, res, ctx) => {
  const bucket = ctx.route.bucket!;
  if (!validBucketName(bucket)) throw s3Error('InvalidBucketName');
  const body = await readSmallBody(req, ctx.caller, 64 * 1024);
  // LocationConstraint is accepted as given and kept for GetBucketLocation (s3-tests names its own, `default`).
  const location = body.trim() ? text(parseXml(body, 'CreateBucketConfiguration'), 'LocationConstraint')?.trim() || undefined : undefined;
  const owner = ctx.caller.user!; // authorize() lets only authenticated callers create buckets
  const existing = ctx.deps.bucket(bucket);
  if (existing) {
    // In us-east-1 a repeat of your own create is 200 and changes nothing, as long as it asks for the
    // ACL the bucket has; one that would change it is BucketAlreadyExists (RGW and the suite agree).
    const asked = aclFromHeaders(req.headers, owner, ctx.deps.users()) ?? cannedAcl('private', owner);
    const same = JSON.stringify(asked.grants) === JSON.stringify(bucketAcl(existing).grants);
    if (existing.owner === owner && same && ctx.deps.region === 'us-east-1') {
      res.status(200).set('Location', `/${bucket}`).end();
      return;
    }
    throw s3Error(existing.owner === owner && same ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists', undefined, { resource: bucket });
  }
  const acl = aclFromHeaders(req.headers, owner, ctx.deps.users());
  const ownership = header(req.headers['x-amz-object-ownership']);
  if (ownership !== undefined && !['ObjectWriter', 'BucketOwnerPreferred', 'BucketOwnerEnforced'].includes(ownership))
    throw s3Error('InvalidArgument', `Invalid x-amz-object-ownership: ${ownership}`);
  if (ownership === 'BucketOwnerEnforced' && acl && acl.grants.some((g) => g.grantee.type !== 'CanonicalUser' || g.grantee.id !== owner)) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership', 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
  }
  const lock = header(req.headers['x-amz-bucket-object-lock-enabled']);
  if (lock !== undefined && !['true', 'false'].includes(lock.toLowerCase()))
    throw s3Error('InvalidArgument', `Invalid x-amz-bucket-object-lock-enabled: ${lock}`);
  const locked = lock?.toLowerCase() === 'true';
  const { replicas } = placementFromHeaders(req.headers);
  await ctx.deps.objects.createBucket(bucket, { owner, replicas, access: 'private', acl });
  // Object lock is chosen at creation and needs versioning on for good (a locked version must stay a version).
  if (ownership || location || locked) {
    await ctx.deps.putBucket({
      ...ctx.deps.bucket(bucket)!,
      ...(ownership ? { ownership: ownership as BucketSettings['ownership'] } : {}),
      ...(location ? { location } : {}),
      ...(locked ? { objectLock: { enabled: true }, versioning: 'Enabled' as const } : {}),
    });
  }
  res.status(200).set('Location', `/${bucket}`).end();
};

export const headBucket: Handler = async (_req, res, ctx) => {
  await ctx.deps.objects.headBucket(ctx.route.bucket!);
  res.status(200).set('x-amz-bucket-region', ctx.deps.region).end();
};

export const deleteBucket: Handler = async (_req, res, ctx) => {
  await ctx.deps.objects.deleteBucket(ctx.route.bucket!);
  res.status(204).end();
};

export const getBucketLocation: Handler = async (_req, res, ctx) => {
  await ctx.deps.objects.headBucket(ctx.route.bucket!);
  // The constraint the bucket was created with; else the region, us-east-1 spelled as an empty constraint, as S3 does.
  const region = ctx.deps.bucket(ctx.route.bucket!)?.location ?? (ctx.deps.region === 'us-east-1' ? '' : ctx.deps.region);
  const xml = buildXml('LocationConstraint', { '#text': region });
  setHeaders(res.status(200), { 'Content-Type': 'application/xml' }).end(xml);
};

/** One object of a Delete document: its key, version and the conditions S3 lets each carry. */
export interface DeleteEntry {
  key: string;
  versionId?: string;
  etag?: string;
  lastModifiedTime?: string;
  size?: string;
}

/** Parse a Delete document: the objects (at most 1000) and the quiet flag. */
export function parseDeleteRequest(xml: string): { quiet: boolean; keys: string[]; entries: DeleteEntry[] } {
  const doc = parseXml(xml, 'Delete');
  const entries = list(doc, 'Object').map((o): DeleteEntry => {
    const key = text(o, 'Key');
    if (key === undefined) throw s3Error('MalformedXML');
    const versionId = text(o, 'VersionId');
    const etag = text(o, 'ETag');
    const lastModifiedTime = text(o, 'LastModifiedTime');
    const size = text(o, 'Size');
    return {
      key,
      ...(versionId !== undefined ? { versionId } : {}),
      ...(etag !== undefined ? { etag } : {}),
      ...(lastModifiedTime !== undefined ? { lastModifiedTime } : {}),
      ...(size !== undefined ? { size } : {}),
    };
  });
  if (entries.length === 0 || entries.length > 1000) throw s3Error('MalformedXML');
  return { quiet: (text(doc, 'Quiet') ?? 'false').trim() === 'true', keys: entries.map((e) => e.key), entries };
}

export const deleteObjects: Handler = async (req, res, ctx) => {
  const bucket = ctx.route.bucket!;
  const { quiet, entries } = parseDeleteRequest(await readSmallBody(req, ctx.caller));
  await ctx.deps.objects.headBucket(bucket);
  const bypass = bypassGovernance(req.headers, ctx);
  const deleted: XmlObject[] = [];
  const errors: { Key: string; VersionId?: string; Code: string; Message: string }[] = [];
  for (const e of entries) {
    try {
      if (Buffer.byteLength(e.key) > 1024) throw s3Error('KeyTooLongError');
      const versionId = e.versionId !== undefined ? parseVersionIdParam(e.versionId) : undefined;
      // Each object's ETag, LastModifiedTime and Size are its If-Match and x-amz-if-match-* (per object, atomic).
      const precondition = deletePrecondition({ 'if-match': e.etag, 'x-amz-if-match-last-modified-time': e.lastModifiedTime, 'x-amz-if-match-size': e.size });
      const r = await ctx.deps.objects.deleteObject(bucket, e.key, { versionId, bypassGovernance: bypass, precondition });
      deleted.push({
        Key: e.key,
        VersionId: versionId,
        ...(r.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: r.versionId } : {}),
      });
    } catch (err) {
      if (!isS3Error(err) || err.status >= 500) throw err; // a broken store fails the request, not one key
      errors.push({ Key: e.key, ...(e.versionId !== undefined ? { VersionId: e.versionId } : {}), Code: err.code, Message: err.message });
    }
  }
  sendXml(res, 200, 'DeleteResult', { Deleted: quiet ? [] : deleted, Error: errors });
};
