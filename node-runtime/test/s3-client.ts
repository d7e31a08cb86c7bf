// Test helper: hand-made S3 requests for the cases real clients never send (broken bodies,
// malformed XML, signed aws-chunked uploads, disconnects). Signed with the SDK's own signer so
// the server is checked against the reference implementation, not against itself.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { awsUriEncode, chunkStringToSign, EMPTY_SHA256, parseAuthorizationHeader, sign, signingKey } from '../src/s3/sigv4.ts';

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): Buffer | string =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** The hash constructor SignatureV4 expects (HMAC when given a secret), over node:crypto. */
export class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    /* one use per instance */
  }
}

export interface RawCreds {
  accessKey: string;
  secretKey: string;
  region?: string;
}
export interface RawRequest {
  method: string;
  bucket?: string;
  key?: string; // encoded per segment here, as SDKs do
  query?: Record<string, string>;
  headers?: Record<string, string>;
  payloadHash?: string; // default: UNSIGNED-PAYLOAD
}
export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export const encodeKeyPath = (key: string) =>
  key
    .split('/')
    .map((s) => awsUriEncode(s))
    .join('/');

function pathOf(r: RawRequest): string {
  if (!r.bucket) return '/';
  return `/${r.bucket}` + (r.key !== undefined ? `/${encodeKeyPath(r.key)}` : '');
}

/** Headers (incl. Authorization) for `r` signed by `creds`, or none when creds is undefined. */
export async function signHeaders(endpoint: string, r: RawRequest, creds: RawCreds | undefined): Promise<{ path: string; headers: Record<string, string> }> {
  const url = new URL(endpoint);
  const path = pathOf(r);
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': r.payloadHash ?? 'UNSIGNED-PAYLOAD', ...(r.headers ?? {}) };
  const qs = Object.entries(r.query ?? {})
    .map(([k, v]) => `${awsUriEncode(k)}=${awsUriEncode(v)}`)
    .join('&');
  if (!creds) return { path: path + (qs ? `?${qs}` : ''), headers };
  const signer = new SignatureV4({
    service: 's3',
    region: creds.region ?? 'us-east-1',
    credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method: r.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: r.query ?? {},
    headers,
  });
  return { path: path + (qs ? `?${qs}` : ''), headers: signed.headers as Record<string, string> };
}

/** Send a request whose body is written by `write` (default: `body` then end). */
export async function rawRequest(
  endpoint: string,
  r: RawRequest,
  creds: RawCreds | undefined,
  body?: Buffer | string,
  write?: (req: ClientRequest) => void,
): Promise<RawResponse> {
  const { path, headers } = await signHeaders(endpoint, r, creds);
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: r.method, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (write) write(req);
    else req.end(body);
  });
}

/** The Code of an S3 error document ('' when there is none). */
export const errorCode = (body: string): string => /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? '';

/**
 * A signed aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) for `data`, given the headers the
 * request was signed with; `corrupt` flips a byte after signing to prove chunk checks bite.
 */
export function signedChunkedBody(headers: Record<string, string>, creds: RawCreds, data: Buffer, chunkSize = 64 * 1024, corrupt = false): Buffer {
  const auth = headers.authorization ?? headers.Authorization;
  const claim = parseAuthorizationHeader(auth, headers['x-amz-date'] ?? headers['X-Amz-Date']);
  const key = signingKey(creds.secretKey, claim.date, claim.region, claim.service);
  const out: Buffer[] = [];
  let previous = claim.signature;
  const sizes: number[] = [];
  for (let off = 0; off < data.length; off += chunkSize) sizes.push(Math.min(chunkSize, data.length - off));
  sizes.push(0);
  let off = 0;
  for (const n of sizes) {
    const chunk = data.subarray(off, off + n);
    off += n;
    const hash = n ? createHash('sha256').update(chunk).digest('hex') : EMPTY_SHA256;
    const sig = sign(key, chunkStringToSign(claim, previous, hash));
    previous = sig;
    const wire = Buffer.from(chunk);
    if (corrupt && n > 0) wire[0] ^= 1;
    out.push(Buffer.from(`${n.toString(16)};chunk-signature=${sig}\r\n`), wire, Buffer.from('\r\n'));
  }
  return Buffer.concat(out);
}

/** Length of the aws-chunked encoding of `size` bytes in `chunkSize` chunks (signed). */
export function signedChunkedLength(size: number, chunkSize = 64 * 1024): number {
  let total = 0;
  for (let left = size; ; left -= chunkSize) {
    const n = Math.max(0, Math.min(chunkSize, left));
    total += n.toString(16).length + ';chunk-signature='.length + 64 + 2 + n + 2;
    if (n === 0) return total;
  }
}
