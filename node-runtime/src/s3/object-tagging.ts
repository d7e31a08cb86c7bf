// Object tagging over HTTP: Get/Put/DeleteObjectTagging (of the current version or one named by
// versionId), x-amz-tagging on writes and x-amz-tagging-count on reads. Parsing and S3's limits are
// s3/semantics/tagging.ts; a tag change is a revision of one version (ObjectService.reviseVersion),
// so it never becomes newer than a later write of the key. Bucket tagging is not here.
import type { PutOptions } from '../data/types.ts';
import { readSmallBody } from './payload.ts';
import { setHeaders } from './respond.ts';
import { parseTaggingDirective, parseTaggingHeader, parseTaggingXml, renderTagging, type Tag } from './semantics/tagging.ts';
import { target, type Handler } from './types.ts';
import { authorizedVersion, versionHeaders } from './versions.ts';

type Headers = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The tags a write asks for (x-amz-tagging), as PutOptions. */
export function tagsFromHeaders(h: Headers): Pick<PutOptions, 'tags'> {
  const header = one(h['x-amz-tagging']);
  return header === undefined ? {} : { tags: parseTaggingHeader(header) };
}

/** CopyObject: COPY keeps the source's tags (x-amz-tagging is then ignored, as S3 does); REPLACE takes the header's. */
export function copyTagging(h: Headers): { taggingDirective: 'COPY' | 'REPLACE'; tags?: Tag[] } {
  const taggingDirective = parseTaggingDirective(one(h['x-amz-tagging-directive']));
  return taggingDirective === 'REPLACE' ? { taggingDirective, tags: tagsFromHeaders(h).tags ?? [] } : { taggingDirective };
}

/** x-amz-tagging-count of a GET/HEAD answer, when the version has tags. */
export function taggingCountHeader(tags: readonly Tag[] | undefined): Record<string, string> {
  return tags?.length ? { 'x-amz-tagging-count': String(tags.length) } : {};
}

export const getObjectTagging: Handler = async (_req, res, ctx) => {
  const { bucket } = target(ctx);
  const { version: v } = await authorizedVersion(ctx, 'GetObjectTagging');
  const xml = renderTagging(v.tags ?? []);
  setHeaders(res.status(200), { 'Content-Type': 'application/xml', ...versionHeaders(ctx.deps.bucket(bucket), v) }).end(xml);
};

export const putObjectTagging: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const { pinned } = await authorizedVersion(ctx, 'PutObjectTagging');
  const tags = parseTaggingXml(await readSmallBody(req, ctx.caller, 64 * 1024), 'object');
  const v = await ctx.deps.objects.reviseVersion(bucket, key, pinned, () => ({ tags }));
  setHeaders(res.status(200), versionHeaders(ctx.deps.bucket(bucket), v)).end();
};

export const deleteObjectTagging: Handler = async (_req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const { pinned } = await authorizedVersion(ctx, 'DeleteObjectTagging');
  const v = await ctx.deps.objects.reviseVersion(bucket, key, pinned, () => ({ tags: [] }));
  setHeaders(res.status(204), versionHeaders(ctx.deps.bucket(bucket), v)).end();
};
