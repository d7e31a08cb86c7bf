// Versioning handlers and the pieces every object handler shares for versions: Get/PutBucketVersioning,
// ListObjectVersions, the versionId parameter, and the x-amz-version-id / x-amz-delete-marker headers.
import type { BucketSettings } from '../cluster/types.ts';
import type { ObjectVersion } from '../data/types.ts';
import { s3VersionId } from '../meta/slots.ts';
import { s3Error, S3Error } from '../util/errors.ts';
import { versionOwnerXml } from './authz.ts';
import { authorizedRead, bucketOrThrow } from './object-access.ts';
import { readSmallBody } from './payload.ts';
import { quoteEtag, sendXml } from './respond.ts';
import { listVersionsPage, parseVersionIdParam } from './semantics/versioning.ts';
import { onlyChildren, parseDocument, textOf } from './semantics/document.ts';
import type { Handler, S3Context } from './types.ts';

/** The request's `versionId` parameter, checked (undefined: the current version). */
export function versionIdOf(ctx: S3Context): string | undefined {
  const v = ctx.route.params.get('versionId');
  return v === undefined ? undefined : parseVersionIdParam(v);
}

/**
 * The version an operation on a version's metadata (tagging, retention, legal hold) acts on, read and
 * authorized against its owner and ACL; `pinned` names it exactly, so a change lands on the version
 * that was authorized even if another becomes current meanwhile.
 */
export async function authorizedVersion(ctx: S3Context, operation: string): Promise<{ version: ObjectVersion; pinned: { versionId: string } }> {
  const bucket = ctx.route.bucket!,
    key = ctx.route.key!;
  const version = await authorizedRead(
    ctx,
    operation,
    { bucket, key },
    () => ctx.deps.objects.headObject(bucket, key, { versionId: versionIdOf(ctx) }),
    (v) => v,
  );
  return { version, pinned: { versionId: s3VersionId(version) } };
}

/** x-amz-version-id of a version read, once its bucket has versioning configured (or the version is one of its own). */
export function versionHeaders(b: BucketSettings | undefined, v: Pick<ObjectVersion, 'versioned' | 'versionId'>): Record<string, string> {
  return b?.versioning !== undefined || v.versioned ? { 'x-amz-version-id': s3VersionId(v) } : {};
}

/** x-amz-version-id of a version just written: only a version of its own (a suspended bucket's write, the null version, has none). */
export function writtenVersionHeaders(v: Pick<ObjectVersion, 'versioned' | 'versionId'>): Record<string, string> {
  return v.versioned ? { 'x-amz-version-id': s3VersionId(v) } : {};
}

export const getBucketVersioning: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  sendXml(res, 200, 'VersioningConfiguration', b.versioning ? { Status: b.versioning } : {});
};

export const putBucketVersioning: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const doc = parseDocument(await readSmallBody(req, ctx.caller, 64 * 1024), 'VersioningConfiguration', []);
  onlyChildren(doc, ['Status', 'MfaDelete']);
  const status = textOf(doc, 'Status');
  const mfa = textOf(doc, 'MfaDelete');
  if (mfa !== undefined && mfa !== 'Disabled' && mfa !== 'Enabled') throw s3Error('MalformedXML');
  if (mfa === 'Enabled') throw s3Error('NotImplemented', 'MFA delete is not implemented.');
  if (status === undefined) {
    res.status(200).end();
    return;
  } // nothing asked: nothing changes
  if (status !== 'Enabled' && status !== 'Suspended') throw s3Error('MalformedXML');
  if (status === 'Suspended' && b.objectLock) {
    throw new S3Error('InvalidBucketState', 409, 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
  }
  if (b.versioning !== status) await ctx.deps.putBucket({ ...b, versioning: status });
  res.status(200).end();
};

export const listObjectVersions: Handler = async (_req, res, ctx) => {
  const bucket = ctx.route.bucket!;
  const p = ctx.route.params;
  const maxText = p.get('max-keys');
  if (maxText !== undefined && maxText !== '' && !/^\d+$/.test(maxText))
    throw s3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range');
  const maxKeys = maxText ? Math.min(Number(maxText), 1000) : 1000;
  const encodingType = p.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') throw s3Error('InvalidArgument', 'Invalid Encoding Method specified in Request');
  const encode = encodingType === 'url' ? (s: string) => encodeURIComponent(s).replace(/%2F/g, '/') : (s: string) => s;
  const prefix = p.get('prefix') ?? '';
  const delimiter = p.get('delimiter') || undefined;
  const keyMarker = p.get('key-marker') || undefined;
  const versionIdMarker = p.get('version-id-marker') || undefined;
  if (versionIdMarker !== undefined) parseVersionIdParam(versionIdMarker);
  const params = { prefix, delimiter, keyMarker, versionIdMarker, maxKeys };
  listVersionsPage([], params); // the markers' own errors first
  await ctx.deps.objects.headBucket(bucket);
  // Whole keys are read until the page is full (or the bucket ends): a page needs every version of a
  // key. Entries carry their S3 version id (the null version's is `null`), which markers name.
  const listed = (vs: ObjectVersion[]) => vs.map((v) => ({ ...v, versionId: s3VersionId(v) }));
  let all: ObjectVersion[] = [];
  let batch =
    maxKeys === 0 ? { versions: [] } : await ctx.deps.objects.listVersionBatch(bucket, { prefix: prefix || undefined, from: keyMarker, limit: maxKeys + 1 });
  all = all.concat(listed(batch.versions));
  let page = listVersionsPage(all, params);
  while (!page.isTruncated && 'next' in batch && batch.next !== undefined) {
    batch = await ctx.deps.objects.listVersionBatch(bucket, { prefix: prefix || undefined, after: batch.next, limit: maxKeys + 1 });
    all = all.concat(listed(batch.versions));
    page = listVersionsPage(all, params);
  }
  const entry = (v: ObjectVersion & { isLatest: boolean }) => ({
    Key: encode(v.key),
    VersionId: v.versionId,
    IsLatest: v.isLatest,
    LastModified: new Date(v.timestamp).toISOString(),
    ...(v.deleted ? {} : { ETag: quoteEtag(v.etag), Size: v.size, StorageClass: 'STANDARD' }),
    Owner: versionOwnerXml(ctx, v),
  });
  sendXml(res, 200, 'ListVersionsResult', {
    Name: bucket,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker ?? ''),
    VersionIdMarker: versionIdMarker ?? '',
    NextKeyMarker: page.nextKeyMarker !== undefined ? encode(page.nextKeyMarker) : undefined,
    NextVersionIdMarker: page.nextVersionIdMarker,
    MaxKeys: maxKeys,
    Delimiter: delimiter !== undefined ? encode(delimiter) : undefined,
    IsTruncated: page.isTruncated,
    EncodingType: encodingType,
    Version: page.entries.filter((v) => !v.deleted).map(entry),
    DeleteMarker: page.entries.filter((v) => v.deleted).map(entry),
    CommonPrefixes: page.commonPrefixes.map((c) => ({ Prefix: encode(c) })),
  });
};
