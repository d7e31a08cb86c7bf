// Multipart upload handlers: Create, UploadPart (and UploadPartCopy), Complete, Abort, ListParts.
import type { CompletedPart } from '../data/types.ts';
import { s3Error } from '../util/errors.ts';
import { ownerXml } from './authz.ts';
import { copySource, withPayload, writeOptions } from './object.ts';
import { parseRange, resolveRange } from './object-headers.ts';
import { MAX_PUT_SIZE, readSmallBody, requestPayload } from './payload.ts';
import { quoteEtag, sendXml, setHeaders, unquoteEtag } from './respond.ts';
import { encryptionFromHeaders, encryptionHeaders } from '../data/sse.ts';
import { target, type Handler, type S3Context } from './types.ts';
import { list, parseXml, text } from './xml.ts';


function uploadIdOf(ctx: S3Context): string {
  const id = ctx.route.params.get('uploadId');
  if (!id) throw s3Error('NoSuchUpload');
  return id;
}

function partNumberOf(ctx: S3Context): number {
  const text = ctx.route.params.get('partNumber') ?? '';
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 10000) throw s3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
  return n;
}

/** Parse and validate a CompleteMultipartUpload document. */
export function parseCompleteParts(xml: string): CompletedPart[] {
  const doc = parseXml(xml, 'CompleteMultipartUpload');
  const parts = list(doc, 'Part').map((p) => {
    const numberText = text(p, 'PartNumber');
    const etag = text(p, 'ETag');
    if (numberText === undefined || etag === undefined || !/^\d+$/.test(numberText.trim())) throw s3Error('MalformedXML');
    return { number: Number(numberText.trim()), etag: unquoteEtag(etag) };
  });
  if (parts.length === 0) throw s3Error('MalformedXML', 'You must specify at least one part');
  for (let i = 1; i < parts.length; i++) {
    if (parts[i].number <= parts[i - 1].number) throw s3Error('InvalidPartOrder');
  }
  return parts;
}

export const createUpload: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const upload = await ctx.deps.objects.createUpload(bucket, key, writeOptions(ctx, req.headers));
  setHeaders(res, encryptionHeaders(upload.encryption));
  sendXml(res, 200, 'InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: upload.uploadId });
};

export const uploadPart: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  const partNumber = partNumberOf(ctx);
  const payload = requestPayload(req, ctx.caller, MAX_PUT_SIZE);
  const opts = { ...writeOptions(ctx, req.headers, payload.size, bucket, { bucketDefault: false }) };
  const part = await withPayload(payload, (body) => ctx.deps.objects.uploadPart(bucket, key, uploadId, partNumber, body, opts));
  const upload = await ctx.deps.objects.headUpload(bucket, key, uploadId);
  setHeaders(res.status(200).set('ETag', quoteEtag(part.etag)), encryptionHeaders(upload.encryption)).end();
};

export const uploadPartCopy: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  const partNumber = partNumberOf(ctx);
  const src = await copySource(req, ctx);
  const rangeHeader = req.headers['x-amz-copy-source-range'];
  const range = typeof rangeHeader === 'string' ? parseRange(rangeHeader) : undefined;
  if (typeof rangeHeader === 'string' && (!range || range.suffix !== undefined)) throw s3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last');
  const source = await ctx.deps.objects.getObject(src.bucket, src.key, { range, signal: ctx.signal, sse: encryptionFromHeaders(req.headers, { copySource: true }) });
  let size = source.version.size;
  try {
    if (range) {
      const r = source.range ?? resolveRange(range, source.version.size);
      size = r.end - r.start + 1;
    }
    if (size > MAX_PUT_SIZE) throw s3Error('EntityTooLarge');
  } catch (e) {
    source.body.destroy();
    throw e;
  }
  const opts = { size, sse: encryptionFromHeaders(req.headers), signal: ctx.signal };
  const part = await withPayload({ body: source.body }, (body) => ctx.deps.objects.uploadPart(bucket, key, uploadId, partNumber, body, opts));
  setHeaders(res, encryptionHeaders((await ctx.deps.objects.headUpload(bucket, key, uploadId)).encryption));
  sendXml(res, 200, 'CopyPartResult', { LastModified: new Date(part.timestamp).toISOString(), ETag: quoteEtag(part.etag) });
};

export const completeUpload: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  const parts = parseCompleteParts(await readSmallBody(req, ctx.caller));
  const version = await ctx.deps.objects.completeUpload(bucket, key, uploadId, parts);
  const location = `http://${req.headers.host ?? 'localhost'}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  setHeaders(res, encryptionHeaders(version.encryption));
  sendXml(res, 200, 'CompleteMultipartUploadResult', { Location: location, Bucket: bucket, Key: key, ETag: quoteEtag(version.etag) });
};

export const abortUpload: Handler = async (_req, res, ctx) => {
  const { bucket, key } = target(ctx);
  await ctx.deps.objects.abortUpload(bucket, key, uploadIdOf(ctx));
  res.status(204).end();
};

function boundedInt(params: Map<string, string>, name: string, dflt: number, max: number): number {
  const v = params.get(name);
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v)) throw s3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`);
  return Math.min(Number(v), max);
}

export const listParts: Handler = async (_req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  const maxParts = boundedInt(ctx.route.params, 'max-parts', 1000, 1000);
  const marker = boundedInt(ctx.route.params, 'part-number-marker', 0, 10000);
  const upload = await ctx.deps.objects.headUpload(bucket, key, uploadId);
  const all = (await ctx.deps.objects.listParts(bucket, key, uploadId)).filter((p) => p.number > marker).sort((a, b) => a.number - b.number);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  sendXml(res, 200, 'ListPartsResult', {
    Bucket: bucket, Key: key, UploadId: uploadId,
    Initiator: ownerXml(ctx, upload.owner), Owner: ownerXml(ctx, upload.owner), StorageClass: 'STANDARD',
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length ? page[page.length - 1].number : marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((p) => ({ PartNumber: p.number, LastModified: p.lastModified, ETag: quoteEtag(p.etag), Size: p.size })),
  });
};
