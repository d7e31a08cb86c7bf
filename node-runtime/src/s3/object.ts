// Object handlers: PutObject, GetObject, HeadObject, DeleteObject, CopyObject. Bodies stream
// between the socket and the ObjectService; nothing here buffers an object.
import type { Readable } from 'node:stream';
import type { ObjectVersion, PutOptions } from '../data/types.ts';
import { DATA_KEY_CONTEXT, encryptionFromHeaders, encryptionHeaders, openDataKey } from '../data/sse.ts';
import { isS3Error, s3Error, S3Error } from '../util/errors.ts';
import { authorizedRead, newObjectOwnership } from './object-access.ts';
import { requireAccess } from './authz.ts';
import { metadataFromHeaders, objectHeaders, parseRange, placementFromHeaders, resolveRange, responseOverrides, type RangeSpec } from './object-headers.ts';
import { requestPayload, type Payload } from './payload.ts';
import { checkCopyChecksum, checksumXml, storedChecksumHeaders } from './object-checksums.ts';
import { checksumResponseHeaders } from './semantics/checksums.ts';
import { quoteEtag, sendXml, setHeaders } from './respond.ts';
import { target, type Handler, type S3Context } from './types.ts';
import { evaluateCopySource, evaluateRead, hasPreconditions, readPreconditions } from './semantics/conditional.ts';
import { parseVersionIdParam } from './semantics/versioning.ts';
import { deletePrecondition, putPrecondition } from './write-conditions.ts';
import { versionHeaders, versionIdOf, writtenVersionHeaders } from './versions.ts';
import { s3VersionId } from '../meta/slots.ts';
import { lockFromHeaders, lockHeaders } from './object-lock.ts';
import { copyTagging, taggingCountHeader, tagsFromHeaders } from './object-tagging.ts';
import { expirationHeaders } from './lifecycle.ts';
import { partNumberParam, partRange, refuseRangeWithPart } from './part-number.ts';

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Content-MD5 must be base64 of 16 bytes when sent (the engine checks it against the body). */
export function contentMd5Of(v: string | string[] | undefined): string | undefined {
  const md5 = header(v);
  if (md5 === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(md5.trim())) throw s3Error('InvalidDigest');
  return md5.trim();
}

/**
 * Run a write that consumes `payload`. When the body itself failed (bad signature, checksum, or the
 * client went away) that is the error to report, whatever the engine made of the broken stream.
 */
export async function withPayload<T>(payload: Pick<Payload, 'body'>, run: (body: Readable) => Promise<T>): Promise<T> {
  let bodyError: unknown;
  // An AbortError is the engine itself letting go of the body (it failed first and left its
  // `for await` early): its own error is the one to report, not a broken body.
  payload.body.on('error', (e) => {
    if ((e as Error)?.name !== 'AbortError') bodyError ??= e;
  });
  try {
    const result = await run(payload.body);
    if (bodyError) throw bodyError;
    return result;
  } catch (e) {
    if (bodyError) throw isS3Error(bodyError) ? bodyError : s3Error('IncompleteBody', undefined, { cause: bodyError });
    throw e;
  }
}

export function writeOptions(
  ctx: S3Context,
  h: Record<string, string | string[] | undefined>,
  size?: number,
  bucket = ctx.route.bucket!,
  opts: { bucketDefault?: boolean } = {},
): PutOptions {
  // Encryption asked for by the request, else the bucket's default (not for a part: it follows its upload).
  const sse = encryptionFromHeaders(h) ?? (opts.bucketDefault !== false && ctx.deps.bucket(bucket)?.encryption ? { kind: 'SSE-S3' as const } : undefined);
  return {
    size,
    ...metadataFromHeaders(h),
    ...placementFromHeaders(h),
    contentMd5: contentMd5Of(h['content-md5']),
    ...newObjectOwnership(ctx, bucket, h),
    ...(sse ? { sse } : {}),
    ...tagsFromHeaders(h),
    ...lockFromHeaders(h),
    signal: ctx.signal,
  };
}

export const putObject: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const precondition = putPrecondition(req.headers);
  const payload = requestPayload(req, ctx.caller);
  const opts = { ...writeOptions(ctx, req.headers, payload.size), precondition, checksum: () => payload.checksum?.stored() };
  const version = await withPayload(payload, (body) => ctx.deps.objects.putObject(bucket, key, body, opts));
  setHeaders(res.status(200).set('ETag', quoteEtag(version.etag)), {
    ...encryptionHeaders(version.encryption),
    ...writtenChecksumHeaders(version),
    ...writtenVersionHeaders(version),
    ...expirationHeaders(ctx.deps.bucket(bucket), version),
  }).end();
};

/** The headers of a GET/HEAD answer: the object's own, its version, tag count and lock. */
function readHeaders(ctx: S3Context, v: ObjectVersion, current: boolean): Record<string, string> {
  const b = ctx.deps.bucket(v.bucket);
  return { ...objectHeaders(v), ...versionHeaders(b, v), ...taggingCountHeader(v.tags), ...lockHeaders(v, b), ...(current ? expirationHeaders(b, v) : {}) };
}

/**
 * A HEAD of a key that is simply absent says so: `x-amz-delete-marker: false`, as RGW answers and the
 * conformance suite expects (a current delete marker's NoSuchKey carries `true` and its id).
 */
function notAMarker(e: unknown): never {
  if (isS3Error(e) && e.code === 'NoSuchKey' && !e.headers) {
    throw new S3Error(e.code, e.status, e.message, { resource: e.resource, extra: e.extra, headers: { 'x-amz-delete-marker': 'false' }, cause: e });
  }
  throw e;
}

/** 304 for a read whose If-None-Match / If-Modified-Since says the client has it (412s are thrown). */
function notModified(req: { headers: Record<string, string | string[] | undefined> }, res: Parameters<Handler>[1], ctx: S3Context, v: ObjectVersion): boolean {
  if (evaluateRead(readPreconditions(req.headers), { etag: v.etag, lastModified: v.timestamp }, Date.now()) !== 'not-modified') return false;
  setHeaders(res.status(304), {
    ETag: quoteEtag(v.etag),
    'Last-Modified': new Date(v.timestamp).toUTCString(),
    ...versionHeaders(ctx.deps.bucket(v.bucket), v),
  }).end();
  return true;
}

export const getObject: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const objects = ctx.deps.objects;
  const versionId = versionIdOf(ctx);
  if (hasPreconditions(readPreconditions(req.headers))) {
    const current = await authorizedRead(
      ctx,
      'GetObject',
      { bucket, key },
      () => objects.headObject(bucket, key, { versionId }),
      (v) => v,
    );
    if (notModified(req, res, ctx, current)) return;
  }
  let range: RangeSpec | undefined = parseRange(header(req.headers.range));
  refuseSseOnRead(req.headers);
  let pinned = versionId;
  const partNumber = partNumberParam(ctx.route.params);
  if (partNumber !== undefined) {
    // The part's bytes are known from the version's layout; the read is pinned to that version.
    refuseRangeWithPart(req.headers.range);
    const v = await authorizedRead(
      ctx,
      'GetObject',
      { bucket, key },
      () => objects.headObject(bucket, key, { versionId }),
      (x) => x,
    );
    range = partRange(v, partNumber);
    pinned = s3VersionId(v);
  }
  const result = await authorizedRead(
    ctx,
    'GetObject',
    { bucket, key },
    () => objects.getObject(bucket, key, { versionId: pinned, range, signal: ctx.signal, sse: encryptionFromHeaders(req.headers) }),
    (r) => r.version,
    (r) => r.body.destroy(),
  );
  const { version, body } = result;
  let served: { start: number; end: number } | undefined;
  try {
    // Checked again here so an engine that serves a range loosely cannot produce a wrong 206.
    served = range ? (result.range ?? resolveRange(range, version.size)) : undefined;
  } catch (e) {
    body.destroy();
    throw e;
  }
  setHeaders(
    setHeaders(res, { ...readHeaders(ctx, version, versionId === undefined), ...storedChecksumHeaders(req.headers, version, !served) }),
    responseOverrides(ctx.route.params),
  );
  if (served) {
    res
      .status(206)
      .set('Content-Range', `bytes ${served.start}-${served.end}/${version.size}`)
      .set('Content-Length', String(served.end - served.start + 1));
  } else {
    res.status(200).set('Content-Length', String(version.size));
  }
  if (result.bytes) {
    // Small bodies already in memory (inline objects) go out with the headers in one write.
    body.destroy();
    res.end(result.bytes);
    return;
  }
  res.flushHeaders();
  try {
    // Piece by piece (back pressure: the next is taken once the socket took this one). Owned pieces
    // are released exactly when the socket took them, so their memory is reused; a write that
    // failed may still hold its piece, which is then left to the GC.
    if (result.pieces) {
      for await (const piece of result.pieces) {
        try {
          await written(res, piece.bytes, ctx.signal);
        } catch (e) {
          piece.discard();
          throw e;
        }
        piece.release();
      }
    } else {
      for await (const piece of body as AsyncIterable<Buffer>) await written(res, piece, ctx.signal);
    }
    await written(res, undefined, ctx.signal);
  } catch (e) {
    // A failure after the headers went out can only be signalled by cutting the connection.
    body.destroy();
    res.destroy();
    if (!ctx.signal.aborted) throw e;
  }
};

/** A write's answer names the checksum it stored. */
const writtenChecksumHeaders = (v: ObjectVersion): Record<string, string> => (v.checksum ? checksumResponseHeaders(v.checksum) : {});

/** An SSE-C object answers even a HEAD only to the holder of its key (S3: 400 without it). */
export function requireCustomerKey(ctx: S3Context, v: ObjectVersion, h: Record<string, string | string[] | undefined>): void {
  refuseSseOnRead(h);
  if (v.encryption?.kind === 'SSE-C') openDataKey(v.encryption, encryptionFromHeaders(h), ctx.deps.masterKey, DATA_KEY_CONTEXT);
}

/** A read names a customer key, never an encryption method: S3 refuses x-amz-server-side-encryption on GET and HEAD. */
export function refuseSseOnRead(h: Record<string, string | string[] | undefined>): void {
  if (h['x-amz-server-side-encryption'] !== undefined) throw s3Error('InvalidArgument', 'x-amz-server-side-encryption is not allowed on a read');
}

/** Resolves when the socket took `data` (undefined: the end of the response); rejects if the client
 *  goes away first. */
function written(res: import('node:http').ServerResponse, data: Buffer | undefined, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const gone = () => reject(signal.reason instanceof Error ? signal.reason : new Error('client went away'));
    if (signal.aborted) return gone();
    signal.addEventListener('abort', gone, { once: true });
    const done = (e?: Error | null) => {
      signal.removeEventListener('abort', gone);
      if (e) reject(e);
      else resolve();
    };
    if (data) res.write(data, done);
    else res.end(done);
  });
}

export const headObject: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const versionId = versionIdOf(ctx);
  const version = await authorizedRead(
    ctx,
    'HeadObject',
    { bucket, key },
    () => ctx.deps.objects.headObject(bucket, key, { versionId }).catch(notAMarker),
    (v) => v,
  );
  requireCustomerKey(ctx, version, req.headers);
  if (notModified(req, res, ctx, version)) return;
  const partNumber = partNumberParam(ctx.route.params);
  if (partNumber !== undefined) refuseRangeWithPart(req.headers.range);
  const range = partNumber !== undefined ? partRange(version, partNumber) : parseRange(header(req.headers.range));
  const r = range && resolveRange(range, version.size);
  setHeaders(
    setHeaders(res, { ...readHeaders(ctx, version, versionId === undefined), ...storedChecksumHeaders(req.headers, version, !r) }),
    responseOverrides(ctx.route.params),
  );
  if (r) {
    res
      .status(206)
      .set('Content-Range', `bytes ${r.start}-${r.end}/${version.size}`)
      .set('Content-Length', String(r.end - r.start + 1));
  } else {
    res.status(200).set('Content-Length', String(version.size));
  }
  res.end();
};

export const deleteObject: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const versionId = versionIdOf(ctx);
  const result = await ctx.deps.objects.deleteObject(bucket, key, {
    versionId,
    bypassGovernance: bypassGovernance(req.headers, ctx),
    precondition: deletePrecondition(req.headers),
  });
  const headers: Record<string, string> = {};
  if (result.versionId !== undefined) headers['x-amz-version-id'] = result.versionId;
  if (result.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  setHeaders(res.status(204), headers).end();
};

/**
 * x-amz-bypass-governance-retention: true — honoured for a caller the access rules allow
 * s3:BypassGovernanceRetention (the admin user, the bucket owner, whom a bucket policy grants it);
 * anyone else sending it is refused (docs/s3-semantics.md).
 */
export function bypassGovernance(h: Record<string, string | string[] | undefined>, ctx: S3Context): boolean {
  const v = header(h['x-amz-bypass-governance-retention']);
  if (v === undefined || v.toLowerCase() !== 'true') return false;
  requireAccess(ctx, 'BypassGovernanceRetention');
  return true;
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=null]`, URL-encoded once. */
export function parseCopySource(value: string | string[] | undefined): { bucket: string; key: string; versionId?: string } {
  const raw = header(value);
  if (!raw) throw s3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  let path = raw;
  let versionId: string | undefined;
  const q = raw.indexOf('?');
  if (q >= 0) {
    const version = new URLSearchParams(raw.slice(q + 1)).get('versionId');
    if (version !== null) versionId = parseVersionIdParam(version);
    path = raw.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw s3Error('InvalidArgument', 'Invalid copy source encoding');
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1)
    throw s3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), ...(versionId !== undefined ? { versionId } : {}) };
}

/** The copy source, with the caller's read access and x-amz-copy-source-if-* checked. */
export async function copySource(
  req: { headers: Record<string, string | string[] | undefined> },
  ctx: S3Context,
): Promise<{ bucket: string; key: string; versionId?: string; version: ObjectVersion }> {
  const src = parseCopySource(req.headers['x-amz-copy-source']);
  if (Buffer.byteLength(src.key) > 1024) throw s3Error('KeyTooLongError');
  // The caller must be able to read the source (a GetObject of it), whoever owns the destination.
  const version = await authorizedRead(
    ctx,
    'GetObject',
    src,
    () => ctx.deps.objects.headObject(src.bucket, src.key, src),
    (v) => v,
  );
  evaluateCopySource(readPreconditions(req.headers, 'x-amz-copy-source-'), { etag: version.etag, lastModified: version.timestamp }, Date.now());
  return { ...src, version };
}

export const copyObject: Handler = async (req, res, ctx) => {
  const dst = target(ctx);
  const { version: source, ...src } = await copySource(req, ctx);
  const directive = (header(req.headers['x-amz-metadata-directive']) ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw s3Error('InvalidArgument', 'Unknown metadata directive.');
  if (directive === 'COPY' && src.bucket === dst.bucket && src.key === dst.key && src.versionId === undefined) {
    throw s3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  if (req.headers['x-amz-checksum-algorithm'] !== undefined)
    checkCopyChecksum(req.headers['x-amz-checksum-algorithm'], (await ctx.deps.objects.headObject(src.bucket, src.key)).checksum);
  const base = writeOptions(ctx, req.headers);
  const sourceSse = encryptionFromHeaders(req.headers, { copySource: true });
  const precondition = putPrecondition(req.headers);
  // The copy is a new version: its tags follow x-amz-tagging-directive, its lock this request (or the bucket default).
  const extras = { ...copyTagging(req.headers), retention: base.retention, legalHold: base.legalHold, precondition };
  const opts =
    directive === 'REPLACE'
      ? { ...base, sourceSse, metadataDirective: 'REPLACE' as const, ...extras }
      : {
          owner: base.owner,
          acl: base.acl,
          replicas: base.replicas,
          pin: base.pin,
          sse: base.sse,
          sourceSse,
          signal: ctx.signal,
          metadataDirective: 'COPY' as const,
          ...extras,
        };
  const version = await ctx.deps.objects.copyObject(src, dst, opts);
  setHeaders(res, { ...encryptionHeaders(version.encryption), ...writtenVersionHeaders(version) });
  if (src.versionId !== undefined || ctx.deps.bucket(src.bucket)?.versioning !== undefined) res.setHeader('x-amz-copy-source-version-id', s3VersionId(source));
  sendXml(res, 200, 'CopyObjectResult', {
    LastModified: new Date(version.timestamp).toISOString(),
    ETag: quoteEtag(version.etag),
    ...checksumXml(version.checksum),
  });
};
