// Bucket CORS: Put/Get/DeleteBucketCors (the rules live in the bucket's registry entry), the
// preflight (OPTIONS) they answer, and the CORS headers every other answer of the bucket carries.
// The rules themselves (parse, match) are semantics/cors.ts.
import type { IncomingMessage } from 'node:http';
import { bucketOrThrow } from './object-access.ts';
import { readSmallBody } from './payload.ts';
import { setHeaders } from './respond.ts';
import {
  answerPreflight,
  corsResponseHeaders,
  MAX_CORS_DOCUMENT_BYTES,
  noSuchCorsConfiguration,
  parseCorsConfiguration,
  renderCorsConfiguration,
} from './semantics/cors.ts';
import type { Handler, S3Deps } from './types.ts';

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

export const getBucketCors: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.cors?.length) throw noSuchCorsConfiguration();
  const xml = renderCorsConfiguration(b.cors);
  setHeaders(res.status(200), { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(xml)) }).end(xml);
};

export const putBucketCors: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const cors = parseCorsConfiguration(await readSmallBody(req, ctx.caller, MAX_CORS_DOCUMENT_BYTES));
  await ctx.deps.putBucket({ ...b, cors });
  res.status(200).end();
};

export const deleteBucketCors: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (b.cors) {
    const { cors: _gone, ...rest } = b;
    await ctx.deps.putBucket(rest);
  }
  res.status(204).end();
};

/**
 * OPTIONS on a bucket or an object: browsers send it without credentials (a presigned URL's query
 * is not a signature of OPTIONS), so it is answered from the rules alone: 200 with the matched
 * rule's headers, 400 when it is not a preflight, 403 when no rule (or no bucket) allows it.
 */
export const corsPreflight: Handler = async (req, res, ctx) => {
  const name = ctx.route.bucket;
  const rules = name === undefined ? undefined : ctx.deps.bucket(name)?.cors;
  const headers = answerPreflight(rules, {
    origin: one(req.headers.origin),
    requestMethod: one(req.headers['access-control-request-method']),
    requestHeaders: one(req.headers['access-control-request-headers']),
  });
  setHeaders(res.status(200), { ...headers, 'Content-Length': '0' }).end();
};

/** The CORS headers of any answer (success or error) to a request on a bucket with rules. */
export function corsHeadersOf(deps: Pick<S3Deps, 'bucket'>, bucket: string | undefined, req: IncomingMessage): Record<string, string> {
  if (bucket === undefined) return {};
  const rules = deps.bucket(bucket)?.cors;
  if (!rules) return {};
  return corsResponseHeaders(rules, {
    origin: one(req.headers.origin),
    method: req.method ?? 'GET',
    requestMethod: one(req.headers['access-control-request-method']),
  });
}
