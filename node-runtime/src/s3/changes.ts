// GET /<bucket>?changes[&prefix=P][&cursor=C]: the bucket's change feed (Server-Sent Events; docs/events.md).
// Signed like any S3 request (SigV4 header or a presigned URL, which is how EventSource reaches it);
// the caller needs s3:ListBucket (the feed names every key written or deleted). EventSource's
// `Last-Event-ID` header, when present, wins over `cursor`.
import { s3Error } from '../util/errors.ts';
import { bucketOrThrow } from './object-access.ts';
import type { Handler } from './types.ts';

export const getBucketChanges: Handler = async (req, res, ctx) => {
  const bucket = ctx.route.bucket!;
  bucketOrThrow(ctx, bucket);
  if (!ctx.deps.changeFeed) throw s3Error('NotImplemented', 'The change feed is not served by this node.');
  const q = new Map(ctx.route.query);
  const header = req.headers['last-event-id'];
  const cursor = (typeof header === 'string' && header !== '' ? header : undefined) ?? (q.get('cursor') || undefined);
  await ctx.deps.changeFeed(req, res, bucket, { prefix: q.get('prefix') ?? '', ...(cursor ? { cursor } : {}) });
};
