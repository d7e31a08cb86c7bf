// Service and bucket handlers: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, GetBucketVersioning, DeleteObjects.
import { isS3Error, s3Error } from '../util/errors.ts';
import { OWNER } from './multipart.ts';
import { placementFromHeaders } from './object-headers.ts';
import { readSmallBody } from './payload.ts';
import { sendXml, setHeaders } from './respond.ts';
import type { Handler } from './types.ts';
import { buildXml, list, parseXml, text } from './xml.ts';

/** S3's bucket naming rules (3-63 chars, lower-case letters, digits, dots, hyphens). */
export function validBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)
    && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name) && !name.startsWith('xn--') && !name.endsWith('-s3alias');
}

export const listBuckets: Handler = async (_req, res, ctx) => {
  const allowed = ctx.caller.buckets;
  const buckets = (await ctx.deps.objects.listBuckets())
    .filter((b) => !allowed || allowed.includes(b.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  sendXml(res, 200, 'ListAllMyBucketsResult', {
    Owner: OWNER,
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.createdAt })) },
  });
};

export const createBucket: Handler = async (req, res, ctx) => {
  const bucket = ctx.route.bucket!;
  if (!validBucketName(bucket)) throw s3Error('InvalidBucketName');
  const body = await readSmallBody(req, ctx.caller, 64 * 1024);
  if (body.trim()) parseXml(body, 'CreateBucketConfiguration');   // LocationConstraint is accepted as given
  const acl = String(req.headers['x-amz-acl'] ?? 'private');
  if (acl !== 'private' && acl !== 'public-read') throw s3Error('NotImplemented', `The canned ACL ${acl} is not supported; use private or public-read.`);
  const { replicas } = placementFromHeaders(req.headers);
  await ctx.deps.objects.createBucket(bucket, { owner: ctx.caller.accessKeyId ?? 'anonymous', replicas, access: acl });
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
  // us-east-1 is spelled as an empty constraint, as S3 does.
  const region = ctx.deps.region === 'us-east-1' ? '' : ctx.deps.region;
  const xml = buildXml('LocationConstraint', { '#text': region });
  setHeaders(res.status(200), { 'Content-Type': 'application/xml' }).end(xml);
};

export const getBucketVersioning: Handler = async (_req, res, ctx) => {
  await ctx.deps.objects.headBucket(ctx.route.bucket!);
  sendXml(res, 200, 'VersioningConfiguration', {});
};

/** Parse a Delete document: the keys (at most 1000) and the quiet flag. */
export function parseDeleteRequest(xml: string): { quiet: boolean; keys: string[] } {
  const doc = parseXml(xml, 'Delete');
  const keys = list(doc, 'Object').map((o) => {
    const key = text(o, 'Key');
    if (key === undefined) throw s3Error('MalformedXML');
    return key;
  });
  if (keys.length === 0 || keys.length > 1000) throw s3Error('MalformedXML');
  return { quiet: (text(doc, 'Quiet') ?? 'false').trim() === 'true', keys };
}

export const deleteObjects: Handler = async (req, res, ctx) => {
  const bucket = ctx.route.bucket!;
  const { quiet, keys } = parseDeleteRequest(await readSmallBody(req, ctx.caller));
  await ctx.deps.objects.headBucket(bucket);
  const deleted: { Key: string }[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  for (const key of keys) {
    try {
      if (Buffer.byteLength(key) > 1024) throw s3Error('KeyTooLongError');
      await ctx.deps.objects.deleteObject(bucket, key);
      deleted.push({ Key: key });
    } catch (e) {
      if (!isS3Error(e) || e.status >= 500) throw e;   // a broken store fails the request, not one key
      errors.push({ Key: key, Code: e.code, Message: e.message });
    }
  }
  sendXml(res, 200, 'DeleteResult', { Deleted: quiet ? [] : deleted, Error: errors });
};
