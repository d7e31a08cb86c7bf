// Bucket lifecycle over HTTP: Put/Get/DeleteBucketLifecycleConfiguration. The rules are parsed and
// checked by s3/semantics/lifecycle.ts and kept in the bucket's registry entry as their rendered
// document (so a GET answers what was put, with generated IDs filled in); the lifecycle worker
// (s3/lifecycle-worker.ts) carries them out.
import { S3Error } from '../util/errors.ts';
import { bucketOrThrow } from './object-access.ts';
import { readSmallBody } from './payload.ts';
import { setHeaders } from './respond.ts';
import { parseLifecycleConfiguration, renderLifecycleConfiguration, type LifecycleRule } from './semantics/lifecycle.ts';
import { expirationHeader } from './semantics/lifecycle-due.ts';
import type { BucketSettings } from '../cluster/types.ts';
import type { ObjectVersion } from '../data/types.ts';
import type { Handler } from './types.ts';

let cached: { xml: string; rules: LifecycleRule[] } | undefined;

/** A bucket's stored rules (parsed once per distinct document: every GET/HEAD may ask). */
export function lifecycleRules(xml: string | undefined): LifecycleRule[] {
  if (!xml) return [];
  if (cached?.xml !== xml) cached = { xml, rules: parseLifecycleConfiguration(xml) };
  return cached.rules;
}

/** x-amz-expiration of a current version (PUT, GET, HEAD): when and by which rule it expires, if any. */
export function expirationHeaders(b: BucketSettings | undefined, v: ObjectVersion): Record<string, string> {
  if (!b?.lifecycle || v.deleted) return {};
  const header = expirationHeader(lifecycleRules(b.lifecycle), { key: v.key, size: v.size, tags: v.tags ?? [], lastModified: v.timestamp });
  return header ? { 'x-amz-expiration': header } : {};
}

export const putBucketLifecycle: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const rules = parseLifecycleConfiguration(await readSmallBody(req, ctx.caller, 1024 * 1024));
  await ctx.deps.putBucket({ ...b, lifecycle: renderLifecycleConfiguration(rules) });
  res.status(200).end();
};

export const getBucketLifecycle: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.lifecycle) throw new S3Error('NoSuchLifecycleConfiguration', 404, 'The lifecycle configuration does not exist', { extra: { BucketName: b.name } });
  setHeaders(res.status(200), { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(b.lifecycle)) }).end(b.lifecycle);
};

export const deleteBucketLifecycle: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (b.lifecycle !== undefined) {
    const { lifecycle: _gone, ...rest } = b;
    await ctx.deps.putBucket(rest);
  }
  res.status(204).end();
};
