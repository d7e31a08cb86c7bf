// A presigned URL (SigV4, query string) for any request on a bucket or object, subresources
// included: what `cairn watch` and browsers (EventSource cannot set headers) use to reach the change
// feed. The same primitives the server verifies with (sigv4.ts), so the two cannot disagree.
import { ALGORITHM, awsUriEncode, canonicalRequest, scopeOf, sign, signingKey, stringToSign, UNSIGNED_PAYLOAD, type SignatureClaim } from './sigv4.ts';

export interface PresignInput {
  endpoint: string; // http(s)://host:port of the file API
  method?: string; // default GET
  bucket: string;
  key?: string;
  query?: [string, string][]; // e.g. [['changes', ''], ['prefix', 'img/']]
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  expiresSeconds?: number; // default 1 h, at most 7 days
  now?: number;
}

export function presignUrl(p: PresignInput): string {
  const url = new URL(p.endpoint);
  const method = p.method ?? 'GET';
  const rawPath = `/${awsUriEncode(p.bucket)}${p.key !== undefined ? `/${awsUriEncode(p.key, true)}` : ''}`;
  const amzDate = new Date(p.now ?? Date.now())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const claim: SignatureClaim = {
    accessKeyId: p.accessKeyId,
    date: amzDate.slice(0, 8),
    region: p.region,
    service: 's3',
    signedHeaders: ['host'],
    signature: '',
    amzDate,
    expiresSeconds: p.expiresSeconds ?? 3600,
    presigned: true,
  };
  const query: [string, string][] = [
    ...(p.query ?? []),
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${p.accessKeyId}/${scopeOf(claim)}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(claim.expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const canonical = canonicalRequest({ method, rawPath, query, headers: { host: url.host } }, claim, UNSIGNED_PAYLOAD);
  const signature = sign(signingKey(p.secretAccessKey, claim.date, p.region, 's3'), stringToSign(claim, canonical));
  const qs = [...query, ['X-Amz-Signature', signature]].map(([k, v]) => `${awsUriEncode(k)}=${awsUriEncode(v)}`).join('&');
  return `${url.origin}${rawPath}?${qs}`;
}
