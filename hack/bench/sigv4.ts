// AWS Signature V4 for the load generator: header signing with `UNSIGNED-PAYLOAD` (the body is
// not hashed, so the client spends no CPU on it) and the signing key cached per day, as a real
// SDK does. Small on purpose: the generator must sign tens of thousands of requests per second
// on one core, and each costs one SHA-256 of the canonical request and one HMAC.
import { createHash, createHmac } from 'node:crypto';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface SignInput {
  method: string;
  host: string;                        // host[:port] exactly as sent in the Host header
  path: string;                        // raw (not yet encoded) path, e.g. /bucket/a b.txt
  query?: Record<string, string>;
  headers?: Record<string, string>;    // extra headers to send and sign (names any case)
  payloadHash?: string;                // hex SHA-256 of the body, default UNSIGNED-PAYLOAD
}

export interface SignedRequest {
  path: string;                        // encoded path with the query string, ready for the wire
  headers: Record<string, string>;     // every header to send, names lower-case
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters stay, '/' stays only in paths. */
export function uriEncode(s: string, keepSlash: boolean): string {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? e.replace(/%2F/g, '/') : e;
}

/** `20260102T030405Z` for a date. */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function canonicalQuery(query: Record<string, string> = {}): string {
  return Object.entries(query)
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export class SigV4Signer {
  readonly accessKey: string;
  readonly region: string;
  readonly service: string;
  #secretKey: string;
  #keyDay = '';
  #key: Buffer = Buffer.alloc(0);

  constructor(opts: { accessKey: string; secretKey: string; region: string; service?: string }) {
    if (!opts.accessKey || !opts.secretKey) throw new Error('SigV4Signer needs an access key and a secret key');
    this.accessKey = opts.accessKey;
    this.#secretKey = opts.secretKey;
    this.region = opts.region;
    this.service = opts.service ?? 's3';
  }

  /** The derived signing key for a day (YYYYMMDD); recomputed only when the day changes. */
  signingKey(day: string): Buffer {
    if (day !== this.#keyDay) {
      const kDate = createHmac('sha256', 'AWS4' + this.#secretKey).update(day).digest();
      const kRegion = createHmac('sha256', kDate).update(this.region).digest();
      const kService = createHmac('sha256', kRegion).update(this.service).digest();
      this.#key = createHmac('sha256', kService).update('aws4_request').digest();
      this.#keyDay = day;
    }
    return this.#key;
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
    const query = canonicalQuery(input.query);
    const canonical = [
      input.method.toUpperCase(),
      encodedPath,
      query,
      names.map((n) => `${n}:${headers[n]}\n`).join(''),
      names.join(';'),
      payloadHash,
    ].join('\n');
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(day)).update(toSign).digest('hex');
    headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${this.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
    return { path: query ? `${encodedPath}?${query}` : encodedPath, headers };
  }
}
