// Listing handlers: ListObjectsV2, ListObjects (V1), ListMultipartUploads (ListObjectVersions: versions.ts).
// All pages come from ObjectService.listObjects; the continuation token is the base64url of the
// engine's resume key, opaque to clients.
import type { ListResult, ObjectVersion } from '../data/types.ts';
import { s3Error } from '../util/errors.ts';
import { ownerXml, versionOwnerXml } from './authz.ts';
import { quoteEtag, sendXml } from './respond.ts';
import type { Handler, S3Context } from './types.ts';
import type { XmlObject } from './xml.ts';

interface ListParams {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  encode: (s: string) => string;
  encodingType?: 'url';
}

function listParams(ctx: S3Context): ListParams {
  const p = ctx.route.params;
  const maxText = p.get('max-keys') ?? p.get('max-uploads');
  let maxKeys = 1000;
  if (maxText !== undefined && maxText !== '') {
    if (!/^\d+$/.test(maxText)) throw s3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range');
    maxKeys = Math.min(Number(maxText), 1000);
  }
  const encodingType = p.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') throw s3Error('InvalidArgument', 'Invalid Encoding Method specified in Request');
  // encoding-type=url lets keys with characters XML cannot carry travel; clients decode them.
  const encode = encodingType === 'url' ? (s: string) => encodeURIComponent(s).replace(/%2F/g, '/') : (s: string) => s;
  const delimiter = p.get('delimiter') || undefined;
  return { prefix: p.get('prefix') ?? '', delimiter, maxKeys, encode, encodingType: encodingType as 'url' | undefined };
}

export function encodeToken(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw s3Error('InvalidArgument', 'The continuation token provided is incorrect');
  return Buffer.from(token, 'base64url').toString('utf8');
}

async function page(ctx: S3Context, lp: ListParams, startAfter: string | undefined): Promise<ListResult> {
  const bucket = ctx.route.bucket!;
  if (lp.maxKeys === 0) {
    await ctx.deps.objects.headBucket(bucket);
    return { objects: [], commonPrefixes: [], isTruncated: false };
  }
  return ctx.deps.objects.listObjects(bucket, {
    prefix: lp.prefix || undefined,
    delimiter: lp.delimiter,
    startAfter: startAfter || undefined,
    maxKeys: lp.maxKeys,
  });
}

/** Where the next page starts: the engine's resume key, else the last entry of this page. */
function resumeKey(r: ListResult): string | undefined {
  if (!r.isTruncated) return undefined;
  if (r.nextStartAfter !== undefined) return r.nextStartAfter;
  const last = [...r.objects.map((o) => o.key), ...r.commonPrefixes].sort().pop();
  return last;
}

function contents(ctx: S3Context, lp: ListParams, objects: ObjectVersion[], owner: boolean): XmlObject[] {
  return objects.map((o) => ({
    Key: lp.encode(o.key),
    LastModified: new Date(o.timestamp).toISOString(),
    ETag: quoteEtag(o.etag),
    Size: o.size,
    StorageClass: 'STANDARD',
    Owner: owner ? versionOwnerXml(ctx, o) : undefined,
    // Which checksum the object keeps (its value comes with GET/HEAD in checksum mode).
    ChecksumAlgorithm: o.checksum?.algorithm,
    ChecksumType: o.checksum?.type,
  }));
}

const prefixes = (lp: ListParams, list: string[]) => list.map((p) => ({ Prefix: lp.encode(p) }));

export const listObjectsV2: Handler = async (_req, res, ctx) => {
  const p = ctx.route.params;
  const lp = listParams(ctx);
  const token = p.get('continuation-token');
  const startAfter = p.get('start-after');
  // An empty token is no token (s3-tests test_bucket_listv2_continuationtoken_empty); it is echoed all the same.
  const from = token ? decodeToken(token) : startAfter;
  const r = await page(ctx, lp, from);
  const next = resumeKey(r);
  sendXml(res, 200, 'ListBucketResult', {
    Name: ctx.route.bucket!,
    Prefix: lp.encode(lp.prefix),
    Delimiter: lp.delimiter !== undefined ? lp.encode(lp.delimiter) : undefined,
    MaxKeys: lp.maxKeys,
    KeyCount: r.objects.length + r.commonPrefixes.length,
    IsTruncated: r.isTruncated,
    ContinuationToken: token,
    NextContinuationToken: next !== undefined ? encodeToken(next) : undefined,
    StartAfter: startAfter !== undefined ? lp.encode(startAfter) : undefined,
    EncodingType: lp.encodingType,
    Contents: contents(ctx, lp, r.objects, p.get('fetch-owner') === 'true'),
    CommonPrefixes: prefixes(lp, r.commonPrefixes),
  });
};

export const listObjectsV1: Handler = async (_req, res, ctx) => {
  const lp = listParams(ctx);
  const marker = ctx.route.params.get('marker') ?? '';
  const r = await page(ctx, lp, marker);
  const next = resumeKey(r);
  sendXml(res, 200, 'ListBucketResult', {
    Name: ctx.route.bucket!,
    // V1 never URL-encodes its Prefix (clients decode Marker, NextMarker, Delimiter, Key and the
    // common prefixes only: s3-tests test_bucket_list_prefix_unreadable).
    Prefix: lp.prefix,
    Marker: lp.encode(marker),
    // S3 sends NextMarker only with a delimiter; without one, clients resume from the last key.
    NextMarker: next !== undefined && lp.delimiter !== undefined ? lp.encode(next) : undefined,
    MaxKeys: lp.maxKeys,
    Delimiter: lp.delimiter !== undefined ? lp.encode(lp.delimiter) : undefined,
    IsTruncated: r.isTruncated,
    EncodingType: lp.encodingType,
    Contents: contents(ctx, lp, r.objects, true),
    CommonPrefixes: prefixes(lp, r.commonPrefixes),
  });
};

export const listUploads: Handler = async (_req, res, ctx) => {
  const p = ctx.route.params;
  const lp = listParams(ctx);
  const keyMarker = p.get('key-marker') || undefined;
  const uploadIdMarker = p.get('upload-id-marker') || undefined;
  // One extra tells whether the page is truncated.
  const uploads =
    lp.maxKeys === 0
      ? []
      : await ctx.deps.objects.listUploads(ctx.route.bucket!, { prefix: lp.prefix || undefined, keyMarker, uploadIdMarker, maxUploads: lp.maxKeys + 1 });
  const shown = uploads.slice(0, lp.maxKeys);
  const truncated = uploads.length > shown.length;
  const last = shown[shown.length - 1];
  sendXml(res, 200, 'ListMultipartUploadsResult', {
    Bucket: ctx.route.bucket!,
    KeyMarker: keyMarker ?? '',
    UploadIdMarker: uploadIdMarker ?? '',
    NextKeyMarker: truncated && last ? lp.encode(last.key) : undefined,
    NextUploadIdMarker: truncated && last ? last.uploadId : undefined,
    Prefix: lp.encode(lp.prefix),
    MaxUploads: lp.maxKeys,
    IsTruncated: truncated,
    EncodingType: lp.encodingType,
    Upload: shown.map((u) => ({
      Key: lp.encode(u.key),
      UploadId: u.uploadId,
      Initiator: ownerXml(ctx, u.owner),
      Owner: ownerXml(ctx, u.owner),
      StorageClass: 'STANDARD',
      Initiated: u.initiated,
    })),
  });
};
