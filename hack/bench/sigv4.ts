// AWS Signature V4 for the load generator: header signing with `UNSIGNED-PAYLOAD` (the body is
// not hashed, so the client spends no CPU on it). The canonical request, the string to sign, the
// signing key (cached per day, as a real SDK does) and the HMAC are the runtime's own
// (node-runtime/src/s3/sigv4.ts), so the bench signs exactly what the server verifies; this file
// only builds the client's side of a request around them. Small on purpose: the generator must
// sign tens of thousands of requests per second on one core.
import {
  UNSIGNED_PAYLOAD,
  awsUriEncode,
  canonicalQuery as canonicalPairs,
  canonicalRequest,
  sign,
  signingKey,
  stringToSign,
  type SignatureClaim,
} from '../../node-runtime/src/s3/sigv4.ts';

export { UNSIGNED_PAYLOAD };

export interface SignInput {
  method: string;
  host: string; // host[:port] exactly as sent in the Host header
  path: string; // raw (not yet encoded) path, e.g. /bucket/a b.txt
  query?: Record<string, string>;
  headers?: Record<string, string>; // extra headers to send and sign (names any case)
  payloadHash?: string; // hex SHA-256 of the body, default UNSIGNED-PAYLOAD
}

export interface SignedRequest {
  path: string; // encoded path with the query string, ready for the wire
  headers: Record<string, string>; // every header to send, names lower-case
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters stay, '/' stays only in paths. */
export function uriEncode(s: string, keepSlash: boolean): string {
  return awsUriEncode(s, keepSlash);
}

/** `20260102T030405Z` for a date. */
export function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function canonicalQuery(query: Record<string, string> = {}): string {
  return canonicalPairs(Object.entries(query));
}

export class SigV4Signer {
  readonly accessKey: string;
  readonly region: string;
  readonly service: string;
  #secretKey: string;

  constructor(opts: { accessKey: string; secretKey: string; region: string; service?: string }) {
    if (!opts.accessKey || !opts.secretKey) throw new Error('SigV4Signer needs an access key and a secret key');
    this.accessKey = opts.accessKey;
    this.#secretKey = opts.secretKey;
    this.region = opts.region;
    this.service = opts.service ?? 's3';
  }

  /** The derived signing key for a day (YYYYMMDD), from the runtime's per-day cache. */
  signingKey(day: string): Buffer {
    return signingKey(this.#secretKey, day, this.region, this.service);
  }

  sign(input: SignInput, now: Date = new Date()): SignedRequest {
    const stamp = amzDate(now);
    const day = stamp.slice(0, 8);
    const payloadHash = input.payloadHash ?? UNSIGNED_PAYLOAD;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = String(v).trim().replace(/\s+/g, ' ');
    headers['host'] = input.host;
    headers['x-amz-date'] = stamp;
    headers['x-amz-content-sha256'] = payloadHash;
    const names = Object.keys(headers).sort();
    const encodedPath = uriEncode(input.path, true);
    const pairs = Object.entries(input.query ?? {});
    const claim: SignatureClaim = {
      accessKeyId: this.accessKey,
      date: day,
      region: this.region,
      service: this.service,
      signedHeaders: names,
      signature: '',
      amzDate: stamp,
      presigned: false,
    };
    const canonical = canonicalRequest({ method: input.method.toUpperCase(), rawPath: encodedPath, query: pairs, headers }, claim, payloadHash, encodedPath);
    const signature = sign(this.signingKey(day), stringToSign(claim, canonical));
    headers['authorization'] =
      `AWS4-HMAC-SHA256 Credential=${this.accessKey}/${day}/${this.region}/${this.service}/aws4_request, SignedHeaders=${names.join(';')}, Signature=${signature}`;
    const query = canonicalPairs(pairs);
    return { path: query ? `${encodedPath}?${query}` : encodedPath, headers };
  }
}
