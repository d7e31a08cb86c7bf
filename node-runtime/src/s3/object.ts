// Object handlers: PutObject, GetObject, HeadObject, DeleteObject, CopyObject. Bodies stream
// between the socket and the ObjectService; nothing here buffers an object.
import type { Readable } from 'node:stream';
import type { ObjectVersion, PutOptions } from '../data/types.ts';
import { DATA_KEY_CONTEXT, encryptionFromHeaders, encryptionHeaders, openDataKey } from '../data/sse.ts';
import { isS3Error, s3Error } from '../util/errors.ts';
import { authorizedRead, newObjectOwnership } from './object-access.ts';
import {
  checkConditions, hasConditions, metadataFromHeaders, objectHeaders, parseRange, placementFromHeaders, resolveRange, responseOverrides,
} from './object-headers.ts';
import { requestPayload, type Payload } from './payload.ts';
import { checkCopyChecksum, checksumXml, storedChecksumHeaders } from './object-checksums.ts';
import { checksumResponseHeaders } from './semantics/checksums.ts';
import { quoteEtag, sendXml, setHeaders } from './respond.ts';
import { target, type Handler, type S3Context } from './types.ts';

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
  payload.body.on('error', (e) => { if ((e as Error)?.name !== 'AbortError') bodyError ??= e; });
  try {
    const result = await run(payload.body);
    if (bodyError) throw bodyError;
    return result;
  } catch (e) {
    if (bodyError) throw isS3Error(bodyError) ? bodyError : s3Error('IncompleteBody', undefined, { cause: bodyError });
    throw e;
  }
}

export function writeOptions(ctx: S3Context, h: Record<string, string | string[] | undefined>, size?: number, bucket = ctx.route.bucket!, opts: { bucketDefault?: boolean } = {}): PutOptions {
  // Encryption asked for by the request, else the bucket's default (not for a part: it follows its upload).
  const sse = encryptionFromHeaders(h) ?? (opts.bucketDefault !== false && ctx.deps.bucket(bucket)?.encryption ? { kind: 'SSE-S3' as const } : undefined);
  return {
    size,
    ...metadataFromHeaders(h),
    ...placementFromHeaders(h),
    contentMd5: contentMd5Of(h['content-md5']),
    ...newObjectOwnership(ctx, bucket, h),
    ...(sse ? { sse } : {}),
    signal: ctx.signal,
  };
}

export const putObject: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const ifNoneMatch = header(req.headers['if-none-match']);
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw s3Error('NotImplemented', 'Only If-None-Match: * is supported on writes.');
  if (req.headers['if-match'] !== undefined) throw s3Error('NotImplemented', 'If-Match is not supported on writes.');
  const payload = requestPayload(req, ctx.caller);
  const opts = { ...writeOptions(ctx, req.headers, payload.size), ifNoneMatch: ifNoneMatch?.trim(), checksum: () => payload.checksum?.stored() };
  const version = await withPayload(payload, (body) => ctx.deps.objects.putObject(bucket, key, body, opts));
  setHeaders(res.status(200).set('ETag', quoteEtag(version.etag)), { ...encryptionHeaders(version.encryption), ...writtenChecksumHeaders(version) }).end();
};

export const getObject: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const objects = ctx.deps.objects;
  if (hasConditions(req.headers)) {
    const current = await authorizedRead(ctx, 'GetObject', { bucket, key }, () => objects.headObject(bucket, key), (v) => v);
    if (checkConditions(req.headers, current) === 'not-modified') {
      res.status(304).set({ 'ETag': quoteEtag(current.etag), 'Last-Modified': new Date(current.timestamp).toUTCString() }).end();
      return;
    }
  }
  const range = parseRange(header(req.headers.range));
  refuseSseOnRead(req.headers);
  const result = await authorizedRead(ctx, 'GetObject', { bucket, key }, () => objects.getObject(bucket, key, { range, signal: ctx.signal, sse: encryptionFromHeaders(req.headers) }),
    (r) => r.version, (r) => r.body.destroy());
  const { version, body } = result;
  let served: { start: number; end: number } | undefined;
  try {
    // Checked again here so an engine that serves a range loosely cannot produce a wrong 206.
    served = range ? (result.range ?? resolveRange(range, version.size)) : undefined;
  } catch (e) {
    body.destroy();
    throw e;
  }
  setHeaders(setHeaders(res, { ...objectHeaders(version), ...storedChecksumHeaders(req.headers, version, !served) }), responseOverrides(ctx.route.params));
  if (served) {
    res.status(206).set('Content-Range', `bytes ${served.start}-${served.end}/${version.size}`).set('Content-Length', String(served.end - served.start + 1));
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
        try { await written(res, piece.bytes, ctx.signal); } catch (e) { piece.discard(); throw e; }
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
      if (e) reject(e); else resolve();
    };
    if (data) res.write(data, done); else res.end(done);
  });
}

export const headObject: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const version = await authorizedRead(ctx, 'HeadObject', { bucket, key }, () => ctx.deps.objects.headObject(bucket, key), (v) => v);
  requireCustomerKey(ctx, version, req.headers);
  if (checkConditions(req.headers, version) === 'not-modified') {
    res.status(304).set({ 'ETag': quoteEtag(version.etag), 'Last-Modified': new Date(version.timestamp).toUTCString() }).end();
    return;
  }
  const range = parseRange(header(req.headers.range));
  setHeaders(setHeaders(res, { ...objectHeaders(version), ...storedChecksumHeaders(req.headers, version, !range) }), responseOverrides(ctx.route.params));
  if (range) {
    const r = resolveRange(range, version.size);
    res.status(206).set('Content-Range', `bytes ${r.start}-${r.end}/${version.size}`).set('Content-Length', String(r.end - r.start + 1));
  } else {
    res.status(200).set('Content-Length', String(version.size));
  }
  res.end();
};

export const deleteObject: Handler = async (_req, res, ctx) => {
  const { bucket, key } = target(ctx);
  await ctx.deps.objects.deleteObject(bucket, key);
  res.status(204).end();
};

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=null]`, URL-encoded once. */
export function parseCopySource(value: string | string[] | undefined): { bucket: string; key: string } {
  const raw = header(value);
  if (!raw) throw s3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  let path = raw;
  const q = raw.indexOf('?');
  if (q >= 0) {
    const version = new URLSearchParams(raw.slice(q + 1)).get('versionId');
    if (version !== null && version !== 'null') throw s3Error('InvalidArgument', 'Invalid version id specified');
    path = raw.slice(0, q);
  }
  let decoded: string;
  try { decoded = decodeURIComponent(path); } catch { throw s3Error('InvalidArgument', 'Invalid copy source encoding'); }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw s3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

/** The copy source, with the caller's read access and x-amz-copy-source-if-* checked. */
export async function copySource(req: { headers: Record<string, string | string[] | undefined> }, ctx: S3Context): Promise<{ bucket: string; key: string }> {
  const src = parseCopySource(req.headers['x-amz-copy-source']);
  if (Buffer.byteLength(src.key) > 1024) throw s3Error('KeyTooLongError');
  // The caller must be able to read the source (a GetObject of it), whoever owns the destination.
  const current = await authorizedRead(ctx, 'GetObject', src, () => ctx.deps.objects.headObject(src.bucket, src.key), (v) => v);
  if (hasConditions(req.headers, 'x-amz-copy-source-')) {
    if (checkConditions(req.headers, current, 'x-amz-copy-source-') === 'not-modified') throw s3Error('PreconditionFailed');
  }
  return src;
}

export const copyObject: Handler = async (req, res, ctx) => {
  const dst = target(ctx);
  const src = await copySource(req, ctx);
  const directive = (header(req.headers['x-amz-metadata-directive']) ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw s3Error('InvalidArgument', 'Unknown metadata directive.');
  if (directive === 'COPY' && src.bucket === dst.bucket && src.key === dst.key) {
    throw s3Error('InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
  }
  if (req.headers['x-amz-checksum-algorithm'] !== undefined) checkCopyChecksum(req.headers['x-amz-checksum-algorithm'], (await ctx.deps.objects.headObject(src.bucket, src.key)).checksum);
  const base = writeOptions(ctx, req.headers);
  const sourceSse = encryptionFromHeaders(req.headers, { copySource: true });
  const opts = directive === 'REPLACE'
    ? { ...base, sourceSse, metadataDirective: 'REPLACE' as const }
    : { owner: base.owner, acl: base.acl, replicas: base.replicas, pin: base.pin, sse: base.sse, sourceSse, signal: ctx.signal, metadataDirective: 'COPY' as const };
  const version = await ctx.deps.objects.copyObject(src, dst, opts);
  setHeaders(res, encryptionHeaders(version.encryption));
  sendXml(res, 200, 'CopyObjectResult', { LastModified: new Date(version.timestamp).toISOString(), ETag: quoteEtag(version.etag), ...checksumXml(version.checksum) });
};
