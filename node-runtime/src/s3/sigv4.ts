// AWS Signature Version 4 for S3, server side: parse the Authorization header or the presigned
// query, rebuild the canonical request exactly as the client did, and compare signatures.
// Pure functions plus a small signing-key cache; the request-facing shell lives in auth.ts.
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { S3Error, s3Error } from '../util/errors.ts';

// Codes S3 answers with 400 that the shared table does not list.
const bad = (code: string, message: string) => new S3Error(code, 400, message);

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const MAX_SKEW_MS = 15 * 60 * 1000;
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

/** What a signed request claims: who signed, for which scope, which headers, and the signature. */
export interface SignatureClaim {
  accessKeyId: string;
  date: string; // yyyymmdd from the credential scope
  region: string;
  service: string;
  signedHeaders: string[]; // lower-case, in the client's order
  signature: string; // hex
  amzDate: string; // yyyymmddThhmmssZ
  expiresSeconds?: number; // presigned only
  presigned: boolean;
}

/** The parts of an HTTP request that take part in the canonical request. */
export interface SignableRequest {
  method: string;
  rawPath: string; // path as sent, still percent-encoded
  query: [string, string][]; // decoded name/value pairs, in request order
  headers: Record<string, string>; // lower-case names; repeated headers joined with ','
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as AWS defines it: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper hex). */
export function awsUriEncode(s: string, keepSlash = false): string {
  let out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  if (keepSlash) out = out.replace(/%2F/g, '/');
  return out;
}

function parseCredential(credential: string): Pick<SignatureClaim, 'accessKeyId' | 'date' | 'region' | 'service'> {
  // <key>/<yyyymmdd>/<region>/<service>/aws4_request; the key itself never contains '/'.
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]) || !parts[0]) {
    throw bad('AuthorizationHeaderMalformed', 'The authorization header is malformed; the Credential is mal-formed.');
  }
  return { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3] };
}

/** Parse `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
export function parseAuthorizationHeader(value: string, amzDate: string | undefined): SignatureClaim {
  const malformed = (why: string) => bad('AuthorizationHeaderMalformed', `The authorization header is malformed; ${why}`);
  if (!value.startsWith(ALGORITHM + ' ')) {
    if (value.startsWith('AWS ')) throw s3Error('InvalidRequest', 'Signature Version 2 is not supported; use AWS4-HMAC-SHA256.');
    throw malformed('the authorization mechanism is not supported.');
  }
  const fields: Record<string, string> = {};
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) throw malformed('Credential, SignedHeaders and Signature are required.');
  if (!amzDate) throw s3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  return {
    ...parseCredential(fields.Credential),
    signedHeaders: fields.SignedHeaders.split(';'),
    signature: fields.Signature.toLowerCase(),
    amzDate,
    presigned: false,
  };
}

/** Parse the X-Amz-* query parameters of a presigned URL. */
export function parsePresignedQuery(query: [string, string][]): SignatureClaim {
  const q = new Map(query);
  const get = (name: string) => {
    const v = q.get(name);
    if (v === undefined) throw bad('AuthorizationQueryParametersError', `Query-string authentication requires the ${name} parameter.`);
    return v;
  };
  if (get('X-Amz-Algorithm') !== ALGORITHM) throw bad('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const expires = Number(get('X-Amz-Expires'));
  if (!Number.isInteger(expires)) throw bad('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  // A URL that expired before it was made, or that would live longer than a week, is refused as
  // an expired one is: 403, as s3-tests test_object_raw_get_x_amz_expires_out_* expect.
  if (expires < 0) throw s3Error('AccessDenied', 'Request has expired');
  if (expires > MAX_PRESIGNED_SECONDS) throw s3Error('AccessDenied', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  return {
    ...parseCredential(get('X-Amz-Credential')),
    signedHeaders: get('X-Amz-SignedHeaders').split(';'),
    signature: get('X-Amz-Signature').toLowerCase(),
    amzDate: get('X-Amz-Date'),
    expiresSeconds: expires,
    presigned: true,
  };
}

/** `yyyymmddThhmmssZ` (or an HTTP date) to epoch ms; NaN when unparsable. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Date.parse(s);
}

/** Reject stale or future requests (header auth) and expired presigned URLs. */
export function checkTime(claim: SignatureClaim, now: number): void {
  const t = parseAmzDate(claim.amzDate);
  if (Number.isNaN(t)) throw s3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (claim.presigned) {
    if (t - now > MAX_SKEW_MS) throw s3Error('AccessDenied', 'Request is not valid yet');
    if (now > t + (claim.expiresSeconds ?? 0) * 1000) throw s3Error('AccessDenied', 'Request has expired');
  } else if (Math.abs(now - t) > MAX_SKEW_MS) {
    throw s3Error('RequestTimeTooSkewed');
  }
}

/** The canonical query string: names and values encoded, sorted; a presigned URL's own signature left out. */
export function canonicalQuery(query: [string, string][], presigned = false): string {
  return query
    .filter(([k]) => !(presigned && k === 'X-Amz-Signature'))
    .map(([k, v]) => [awsUriEncode(k), awsUriEncode(v)])
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** S3 canonical URI: each path byte outside the unreserved set encoded once; no normalisation. */
export function canonicalUri(rawPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
  return awsUriEncode(decoded, true);
}

export function canonicalRequest(req: SignableRequest, claim: SignatureClaim, payloadHash: string, uri = canonicalUri(req.rawPath)): string {
  const headerLines = claim.signedHeaders.map((name) => {
    const v = req.headers[name] ?? '';
    return `${name}:${v
      .replace(/[\r\n]/g, ' ')
      .replace(/[ \t]+/g, ' ')
      .trim()}`;
  });
  return [req.method, uri, canonicalQuery(req.query, claim.presigned), ...headerLines, '', claim.signedHeaders.join(';'), payloadHash].join('\n');
}

export function scopeOf(claim: Pick<SignatureClaim, 'date' | 'region' | 'service'>): string {
  return `${claim.date}/${claim.region}/${claim.service}/aws4_request`;
}

export function stringToSign(claim: SignatureClaim, canonical: string): string {
  return [ALGORITHM, claim.amzDate, scopeOf(claim), sha256Hex(canonical)].join('\n');
}

// Signing keys change once a day per key and region: cache them (bounded) instead of doing four
// HMACs on every request. The cache key includes the secret's hash so a rotated secret misses.
const keyCache = new Map<string, Buffer>();
const KEY_CACHE_MAX = 256;

// The secret's hash for the cache id, itself cached: one SHA-256 less per request.
const secretIds = new Map<string, string>();

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  let secretId = secretIds.get(secret);
  if (secretId === undefined) {
    if (secretIds.size >= KEY_CACHE_MAX) secretIds.delete(secretIds.keys().next().value!);
    secretIds.set(secret, (secretId = sha256Hex(secret)));
  }
  const id = `${secretId}/${date}/${region}/${service}`;
  let key = keyCache.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, key);
  }
  return key;
}

// createHmac with a raw Buffer key turns it into a KeyObject on every call (~10 µs, most of the
// signature check); the cached signing keys keep theirs.
const keyObjects = new WeakMap<Buffer, KeyObject>();

export function sign(key: Buffer, text: string): string {
  let ko = keyObjects.get(key);
  if (!ko) keyObjects.set(key, (ko = createSecretKey(key)));
  return createHmac('sha256', ko).update(text, 'utf8').digest('hex');
}

export function signaturesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * Verify a claim against the request with the given secret; returns the signing key so chunk
 * signatures can be checked with it. Tries the canonical URI as S3 defines it, then the path
 * exactly as sent (clients that leave some reserved characters unencoded sign what they send).
 */
export function verifySignature(req: SignableRequest, claim: SignatureClaim, secret: string, payloadHash: string): Buffer {
  if (claim.service !== 's3') throw s3Error('SignatureDoesNotMatch', `Credential should be scoped to correct service: 's3'.`);
  if (!claim.signedHeaders.includes('host')) throw s3Error('AccessDenied', 'The host header must be signed.');
  const key = signingKey(secret, claim.date, claim.region, claim.service);
  const candidates = new Set([canonicalUri(req.rawPath), req.rawPath]);
  for (const uri of candidates) {
    const expected = sign(key, stringToSign(claim, canonicalRequest(req, claim, payloadHash, uri)));
    if (signaturesEqual(expected, claim.signature)) return key;
  }
  throw s3Error('SignatureDoesNotMatch');
}

/** String to sign of one aws-chunked chunk (signed streaming uploads). */
export function chunkStringToSign(claim: SignatureClaim, previousSignature: string, chunkSha256: string): string {
  return ['AWS4-HMAC-SHA256-PAYLOAD', claim.amzDate, scopeOf(claim), previousSignature, EMPTY_SHA256, chunkSha256].join('\n');
}

/** String to sign of the trailer of a signed streaming upload with trailing checksums. */
export function trailerStringToSign(claim: SignatureClaim, previousSignature: string, trailerText: string): string {
  return ['AWS4-HMAC-SHA256-TRAILER', claim.amzDate, scopeOf(claim), previousSignature, sha256Hex(trailerText)].join('\n');
}
