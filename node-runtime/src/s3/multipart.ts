// Multipart upload handlers: Create, UploadPart (and UploadPartCopy), Complete, Abort, ListParts.
import { Transform, type TransformCallback } from 'node:stream';
import { multipartEtag } from '../data/multipart.ts';
import type { ObjectVersion, PartRecord } from '../data/types.ts';
import { isS3Error, s3Error } from '../util/errors.ts';
import { BodyChecksum } from './body-checksum.ts';
import { checkCompletionChecksumHeaders, checksumElement, checksumXml, completedChecksum, type CompletedPartWithChecksum } from './object-checksums.ts';
import { CHECKSUM_ALGORITHMS, checksumHeader, multipartChecksumOf, type ChecksumAlgorithm } from './semantics/checksums.ts';
import { ownerXml } from './authz.ts';
import { copySource, withPayload, writeOptions } from './object.ts';
import { parseRange, resolveRange } from './object-headers.ts';
import { MAX_PUT_SIZE, readSmallBody, requestPayload } from './payload.ts';
import { quoteEtag, sendXml, setHeaders, unquoteEtag } from './respond.ts';
import { checkCustomerKey, encryptionFromHeaders, encryptionHeaders } from '../data/sse.ts';
import { target, type Handler, type S3Context } from './types.ts';
import { list, parseXml, text } from './xml.ts';
import { putPrecondition } from './write-conditions.ts';
import { writtenVersionHeaders } from './versions.ts';

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

/**
 * Parse and validate a CompleteMultipartUpload document. A part number listed more than once in a
 * row counts once, as its last entry (the part uploaded last: s3-tests
 * test_multipart_resend_first_finishes_last); a number lower than the one before is InvalidPartOrder.
 */
export function parseCompleteParts(xml: string): CompletedPartWithChecksum[] {
  const doc = parseXml(xml, 'CompleteMultipartUpload');
  const parts = list(doc, 'Part').map((p) => {
    const numberText = text(p, 'PartNumber');
    const etag = text(p, 'ETag');
    if (numberText === undefined || etag === undefined || !/^\d+$/.test(numberText.trim())) throw s3Error('MalformedXML');
    const part: CompletedPartWithChecksum = { number: Number(numberText.trim()), etag: unquoteEtag(etag) };
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = text(p, checksumElement(algorithm));
      if (value !== undefined) part.checksum = { algorithm, value: value.trim() };
    }
    return part;
  });
  if (parts.length === 0) throw s3Error('MalformedXML', 'You must specify at least one part');
  const kept: CompletedPartWithChecksum[] = [];
  for (const part of parts) {
    const last = kept[kept.length - 1];
    if (last && part.number < last.number) throw s3Error('InvalidPartOrder');
    if (last && part.number === last.number) kept[kept.length - 1] = part;
    else kept.push(part);
  }
  return kept;
}

/** The headers that say an upload's checksum (CreateMultipartUpload, ListParts' answer has elements instead). */
const uploadChecksumHeaders = (c: { algorithm: ChecksumAlgorithm; type: string } | undefined): Record<string, string> =>
  c ? { 'x-amz-checksum-algorithm': c.algorithm, 'x-amz-checksum-type': c.type } : {};

export const createUpload: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const uploadChecksum = multipartChecksumOf(req.headers);
  const upload = await ctx.deps.objects.createUpload(bucket, key, { ...writeOptions(ctx, req.headers), ...(uploadChecksum ? { uploadChecksum } : {}) });
  setHeaders(res, { ...encryptionHeaders(upload.encryption), ...uploadChecksumHeaders(upload.checksum) });
  sendXml(res, 200, 'InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: upload.uploadId });
};

export const uploadPart: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  const partNumber = partNumberOf(ctx);
  // The upload says which checksum every part needs (computed here when the client sent none).
  const upload = await ctx.deps.objects.headUpload(bucket, key, uploadId);
  const payload = requestPayload(req, ctx.caller, MAX_PUT_SIZE, { checksum: upload.checksum?.algorithm });
  const opts = { ...writeOptions(ctx, req.headers, payload.size, bucket, { bucketDefault: false }), checksum: () => payload.checksum?.stored() };
  const part = await withPayload(payload, (body) => ctx.deps.objects.uploadPart(bucket, key, uploadId, partNumber, body, opts));
  setHeaders(res.status(200).set('ETag', quoteEtag(part.etag)), { ...encryptionHeaders(upload.encryption), ...partChecksumHeaders(payload.checksum) }).end();
};

const partChecksumHeaders = (c: BodyChecksum | undefined): Record<string, string> => (c?.value ? { [checksumHeader(c.algorithm)]: c.value } : {});

/** Computes a checksum of the bytes that pass (a copied part, which no client sent a checksum of). */
class Checksummed extends Transform {
  readonly checksum: BodyChecksum;
  constructor(algorithm: ChecksumAlgorithm) {
    super();
    this.checksum = new BodyChecksum({ algorithm, source: 'computed' });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.checksum.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.checksum.finish();
    cb();
  }
}

export const uploadPartCopy: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  const partNumber = partNumberOf(ctx);
  const src = await copySource(req, ctx);
  const rangeHeader = req.headers['x-amz-copy-source-range'];
  const range = typeof rangeHeader === 'string' ? parseRange(rangeHeader) : undefined;
  if (typeof rangeHeader === 'string' && (!range || range.suffix !== undefined))
    throw s3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last');
  const upload = await ctx.deps.objects.headUpload(bucket, key, uploadId);
  const source = await ctx.deps.objects.getObject(src.bucket, src.key, {
    versionId: src.versionId,
    range,
    signal: ctx.signal,
    sse: encryptionFromHeaders(req.headers, { copySource: true }),
  });
  let size = source.version.size;
  try {
    if (range) {
      // A copied range must lie inside the source (a GET's range is cut at the end; a copy's is refused).
      if (range.end !== undefined && range.end >= source.version.size) {
        throw s3Error('InvalidRange', undefined, { extra: { RangeRequested: String(rangeHeader), ActualObjectSize: String(source.version.size) } });
      }
      const r = source.range ?? resolveRange(range, source.version.size);
      size = r.end - r.start + 1;
    }
    if (size > MAX_PUT_SIZE) throw s3Error('EntityTooLarge');
  } catch (e) {
    source.body.destroy();
    throw e;
  }
  const summed = upload.checksum ? new Checksummed(upload.checksum.algorithm) : undefined;
  const body = summed ? source.body.pipe(summed) : source.body;
  if (summed) source.body.on('error', (e) => summed.destroy(e));
  const opts = { size, sse: encryptionFromHeaders(req.headers), signal: ctx.signal, checksum: () => summed?.checksum.stored() };
  const part = await withPayload({ body }, (b) => ctx.deps.objects.uploadPart(bucket, key, uploadId, partNumber, b, opts));
  setHeaders(res, encryptionHeaders(upload.encryption));
  const checksum = summed?.checksum.value ? { [checksumElement(summed.checksum.algorithm)]: summed.checksum.value } : {};
  sendXml(res, 200, 'CopyPartResult', { LastModified: new Date(part.timestamp).toISOString(), ETag: quoteEtag(part.etag), ...checksum });
};

export const completeUpload: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  const precondition = putPrecondition(req.headers);
  // Its x-amz-checksum-* headers are the object's checksum, not the document's.
  const parts = parseCompleteParts(await readSmallBody(req, ctx.caller, undefined, { objectChecksum: true }));
  let version: ObjectVersion;
  try {
    const upload = await ctx.deps.objects.headUpload(bucket, key, uploadId);
    // An SSE-C upload is completed by whoever holds its key, as each part was uploaded.
    if (upload.encryption?.kind === 'SSE-C') checkCustomerKey(upload.encryption, encryptionFromHeaders(req.headers));
    checkCompletionChecksumHeaders(upload, req.headers);
    const objectSize = req.headers['x-amz-mp-object-size'];
    const stored = upload.checksum || objectSize !== undefined ? await ctx.deps.objects.listParts(bucket, key, uploadId) : [];
    if (objectSize !== undefined) checkObjectSize(objectSize, parts, stored);
    const checksum = upload.checksum ? completedChecksum(upload, parts, stored, req.headers) : undefined;
    version = await ctx.deps.objects.completeUpload(bucket, key, uploadId, parts, { checksum, precondition });
  } catch (e) {
    // Completing an upload again (a retry whose first answer was lost) answers as the first did.
    const done = isS3Error(e) && e.code === 'NoSuchUpload' ? await completedBefore(ctx, bucket, key, parts) : undefined;
    if (!done) throw e;
    version = done;
  }
  const location = `http://${req.headers.host ?? 'localhost'}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  setHeaders(res, { ...encryptionHeaders(version.encryption), ...writtenVersionHeaders(version) });
  sendXml(res, 200, 'CompleteMultipartUploadResult', {
    Location: location,
    Bucket: bucket,
    Key: key,
    ETag: quoteEtag(version.etag),
    ...checksumXml(version.checksum),
  });
};

/** x-amz-mp-object-size: the size the client says the object has must be the named parts' sum. */
function checkObjectSize(value: string | string[], parts: CompletedPartWithChecksum[], stored: PartRecord[]): void {
  const v = Array.isArray(value) ? value[0] : value;
  if (!/^\d+$/.test(v.trim()))
    throw s3Error('InvalidArgument', 'x-amz-mp-object-size must be a whole number of bytes.', {
      extra: { ArgumentName: 'x-amz-mp-object-size', ArgumentValue: v },
    });
  const sizes = new Map(stored.map((p) => [p.number, p.size]));
  // A part that is not there fails the completion itself (InvalidPart), with its own message.
  if (parts.some((p) => !sizes.has(p.number))) return;
  const total = parts.reduce((n, p) => n + sizes.get(p.number)!, 0);
  if (total !== Number(v)) throw s3Error('InvalidRequest', `The provided x-amz-mp-object-size (${v}) does not match the size of the parts (${total}).`);
}

/**
 * The object an upload already made, if the key's current version is exactly these parts: its ETag
 * is the MD5 of the parts' MD5s, so it names the parts (an upload gone for any other reason, or
 * whose object was replaced since, stays NoSuchUpload).
 */
async function completedBefore(ctx: S3Context, bucket: string, key: string, parts: CompletedPartWithChecksum[]): Promise<ObjectVersion | undefined> {
  const current = await ctx.deps.objects.headObject(bucket, key).catch((e) => {
    if (isS3Error(e) && e.code === 'NoSuchKey') return undefined;
    throw e;
  });
  return current?.parts && current.etag === multipartEtag(parts.map((p) => p.etag)) ? current : undefined;
}

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
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    Initiator: ownerXml(ctx, upload.owner),
    Owner: ownerXml(ctx, upload.owner),
    StorageClass: 'STANDARD',
    ...(upload.checksum ? { ChecksumAlgorithm: upload.checksum.algorithm, ChecksumType: upload.checksum.type } : {}),
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length ? page[page.length - 1].number : marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((p) => ({
      PartNumber: p.number,
      LastModified: p.lastModified,
      ETag: quoteEtag(p.etag),
      Size: p.size,
      ...(p.checksum && upload.checksum ? { [checksumElement(upload.checksum.algorithm)]: p.checksum } : {}),
    })),
  });
};
