// Bucket tagging: Put/Get/DeleteBucketTagging. The tags are the bucket's own (cost allocation and
// the like), kept in its registry entry; the document and S3's limits are semantics/tagging.ts.
import { S3Error } from '../util/errors.ts';
import { bucketOrThrow } from './object-access.ts';
import { readSmallBody } from './payload.ts';
import { setHeaders } from './respond.ts';
import { parseTaggingXml, renderTagging } from './semantics/tagging.ts';
import type { Handler } from './types.ts';

const noSuchTagSet = (bucket: string) => new S3Error('NoSuchTagSet', 404, 'The TagSet does not exist', { resource: bucket, extra: { BucketName: bucket } });

export const getBucketTagging: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.tags) throw noSuchTagSet(b.name);
  const xml = renderTagging(b.tags);
  setHeaders(res.status(200), { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(xml)) }).end(xml);
};

/** The whole set is replaced; an empty TagSet leaves the bucket with no tags (as DeleteBucketTagging). */
export const putBucketTagging: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const tags = parseTaggingXml(await readSmallBody(req, ctx.caller, 64 * 1024), 'bucket');
  const { tags: _old, ...rest } = b;
  await ctx.deps.putBucket(tags.length ? { ...rest, tags } : rest);
  res.status(204).end();
};

export const deleteBucketTagging: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (b.tags) {
    const { tags: _gone, ...rest } = b;
    await ctx.deps.putBucket(rest);
  }
  res.status(204).end();
};
