// HTTP headers <-> object records: what a write stores (content type, x-amz-meta-*, cache
// headers, Cairn's replica headers), what a read answers with, ranges and conditional requests.
// Pure functions over header maps, so the rules are unit-testable without a server.
import { encryptionHeaders } from '../data/sse.ts';
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectVersion, PutOptions } from '../data/types.ts';
import { s3Error } from '../util/errors.ts';
import { quoteEtag, unquoteEtag } from './respond.ts';

const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
const OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/** S3's bound on user metadata: the UTF-8 bytes of every name (without x-amz-meta-) and value. */
export const MAX_USER_META_BYTES = 2048;

function checkUserMetaSize(meta: Record<string, string>): void {
  let bytes = 0;
  for (const [k, v] of Object.entries(meta)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (bytes > MAX_USER_META_BYTES) {
    throw s3Error('MetadataTooLarge', undefined, { extra: { Size: String(bytes), MaxSizeAllowed: String(MAX_USER_META_BYTES) } });
  }
}

/** Metadata of a write (PUT, CreateMultipartUpload, CopyObject with REPLACE). */
export function metadataFromHeaders(h: IncomingHttpHeaders): Pick<PutOptions, 'contentType' | 'userMeta' | 'headers'> {
  const userMeta: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) userMeta[name.slice('x-amz-meta-'.length)] = one(value)!;
  }
  for (const name of STORED_HEADERS) {
    let v = one(h[name]);
    // aws-chunked is a transfer detail of this request, not the object's encoding.
    if (name === 'content-encoding' && v)
      v = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s !== 'aws-chunked')
        .join(', ');
    if (v) headers[name] = v;
  }
  checkUserMetaSize(userMeta);
  const contentType = one(h['content-type']);
  return { contentType: contentType || undefined, userMeta, headers };
}

/** Cairn's placement headers: x-cairn-replicas (integer 1..16) and x-cairn-pin (comma list). */
export function placementFromHeaders(h: IncomingHttpHeaders): Pick<PutOptions, 'replicas' | 'pin'> {
  const out: Pick<PutOptions, 'replicas' | 'pin'> = {};
  const r = one(h['x-cairn-replicas']);
  if (r !== undefined) {
    if (!/^\d+$/.test(r.trim()) || Number(r) < 1 || Number(r) > 16) throw s3Error('InvalidArgument', 'x-cairn-replicas must be an integer from 1 to 16');
    out.replicas = Number(r);
  }
  const pin = one(h['x-cairn-pin']);
  if (pin !== undefined) {
    const names = pin
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0) throw s3Error('InvalidArgument', 'x-cairn-pin must name at least one member');
    out.pin = names;
  }
  return out;
}

/** Headers of a GET/HEAD answer for this version. */
export function objectHeaders(v: ObjectVersion): Record<string, string> {
  const out: Record<string, string> = {
    ETag: quoteEtag(v.etag),
    'Last-Modified': new Date(v.timestamp).toUTCString(),
    'Content-Type': v.contentType ?? 'binary/octet-stream',
    'Accept-Ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(v.headers ?? {})) out[name] = value;
  for (const [name, value] of Object.entries(v.userMeta)) out[`x-amz-meta-${name}`] = value;
  if (v.parts) out['x-amz-mp-parts-count'] = String(v.parts.length);
  Object.assign(out, encryptionHeaders(v.encryption));
  return out;
}

/** response-* query overrides of a GET/HEAD. */
export function responseOverrides(params: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [param, header] of Object.entries(OVERRIDES)) {
    const v = params.get(param);
    if (v !== undefined) out[header] = v;
  }
  return out;
}

export interface RangeSpec {
  start?: number;
  end?: number;
  suffix?: number;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; anything else (or several ranges) is ignored as HTTP says. */
export function parseRange(header: string | undefined): RangeSpec | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  if (m[2] === '') return { start };
  const end = Number(m[2]);
  if (end < start) return undefined;
  return { start, end };
}

/** The inclusive byte range to serve from an object of `size`, or InvalidRange. */
export function resolveRange(r: RangeSpec, size: number): { start: number; end: number } {
  if (r.suffix !== undefined) {
    if (r.suffix === 0 || size === 0)
      throw s3Error('InvalidRange', undefined, { extra: { RangeRequested: `bytes=-${r.suffix}`, ActualObjectSize: String(size) } });
    return { start: Math.max(0, size - r.suffix), end: size - 1 };
  }
  const start = r.start ?? 0;
  if (start >= size) throw s3Error('InvalidRange', undefined, { extra: { ActualObjectSize: String(size) } });
  return { start, end: Math.min(r.end ?? size - 1, size - 1) };
}

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((t) => t.trim() === '*' || unquoteEtag(t) === etag);
}

function modifiedAfter(v: ObjectVersion, httpDate: string): boolean | undefined {
  const t = Date.parse(httpDate);
  if (Number.isNaN(t)) return undefined; // an unparsable date is ignored
  return Math.floor(v.timestamp / 1000) * 1000 > t;
}

/**
 * RFC 7232 as S3 applies it: If-Match beats If-Unmodified-Since (412), If-None-Match beats
 * If-Modified-Since (304 for GET/HEAD). `prefix` selects x-amz-copy-source-* for copies.
 */
export function checkConditions(h: IncomingHttpHeaders, v: ObjectVersion, prefix = ''): 'ok' | 'not-modified' {
  const get = (name: string) => one(h[prefix + name]);
  const ifMatch = get('if-match');
  const ius = get('if-unmodified-since');
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, v.etag)) throw s3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-Match' } });
  } else if (ius !== undefined && modifiedAfter(v, ius) === true) {
    throw s3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-Unmodified-Since' } });
  }
  const ifNone = get('if-none-match');
  const ims = get('if-modified-since');
  if (ifNone !== undefined) {
    if (etagMatches(ifNone, v.etag)) return 'not-modified';
  } else if (ims !== undefined && modifiedAfter(v, ims) === false) {
    return 'not-modified';
  }
  return 'ok';
}

export function hasConditions(h: IncomingHttpHeaders, prefix = ''): boolean {
  return ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'].some((n) => h[prefix + n] !== undefined);
}
