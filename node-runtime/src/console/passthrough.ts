// The /s3/ passthrough: presigned S3 requests of the signed-in user, forwarded byte for byte to the
// node's file API from the console's own origin. It exists because the file API does not answer
// CORS preflights yet; once it does, the app can send the same presigned URLs to S3 directly.
// It adds no authority: the request must already carry a SigV4 query signature of the session's
// own access key (S3 checks the signature and decides), and the console's cookie and CSRF header
// are never forwarded. Responses get headers that keep user content from running on this origin.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import type { SessionClaims } from './session.ts';
import { PASSTHROUGH_PREFIX, type S3Target } from './files.ts';
import { ConsoleError, forbidden } from './errors.ts';

const REQUEST_HEADERS = ['content-type', 'content-length', 'content-md5', 'range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];
const RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'content-disposition',
  'x-amz-request-id',
];

// User content is served from the console's origin: a sandbox CSP makes an HTML or SVG file an
// opaque origin without scripts, so it can never call the console's API with the user's cookie.
// PDFs are the exception (Chromium's viewer refuses a sandbox); nosniff keeps an HTML file sent
// as application/pdf from being read as HTML.
const SANDBOX = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'";
const PDF = "default-src 'none'; frame-ancestors 'self'";

/** The access key id a presigned query names (X-Amz-Credential = KEY/date/region/s3/aws4_request). */
export function presignedKeyId(search: string): string | undefined {
  const credential = new URLSearchParams(search).get('X-Amz-Credential');
  return credential ? credential.split('/')[0] : undefined;
}

export function passthrough(req: IncomingMessage, res: ServerResponse, session: SessionClaims, target: S3Target): Promise<void> {
  const s3Endpoint = target.endpoint;
  const url = new URL(req.url ?? '/', 'http://console');
  if (!['GET', 'HEAD', 'PUT'].includes(req.method ?? '')) throw new ConsoleError('MethodNotAllowed', 405, 'Only GET, HEAD and PUT pass through.');
  if (req.headers.authorization) throw forbidden('Only presigned requests pass through.');
  if (presignedKeyId(url.search) !== session.accessKeyId) throw forbidden('Only presigned requests of your own key pass through.');

  const headers: Record<string, string> = { host: s3Endpoint.host };
  for (const name of REQUEST_HEADERS) {
    const v = req.headers[name];
    if (typeof v === 'string') headers[name] = v;
  }
  const path = url.pathname.slice(PASSTHROUGH_PREFIX.length) + url.search;
  const send = s3Endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const upstream = send(
      { hostname: s3Endpoint.hostname, port: s3Endpoint.port || undefined, method: req.method, path, headers, agent: target.agent },
      (up) => {
        res.statusCode = up.statusCode ?? 502;
        for (const name of RESPONSE_HEADERS) {
          const v = up.headers[name];
          if (v !== undefined) res.setHeader(name, v);
        }
        const type = String(up.headers['content-type'] ?? '')
          .split(';')[0]
          .trim()
          .toLowerCase();
        res.setHeader('content-security-policy', type === 'application/pdf' ? PDF : SANDBOX);
        res.setHeader('x-content-type-options', 'nosniff');
        res.setHeader('x-frame-options', 'SAMEORIGIN'); // the preview frames PDFs; nothing else may
        res.setHeader('cross-origin-resource-policy', 'same-origin');
        res.setHeader('cache-control', 'private, no-store');
        pipeline(up, res, () => resolve());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.statusCode = 502;
        res.setHeader('content-type', 'application/xml');
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>S3Unavailable</Code><Message>The storage service did not answer.</Message></Error>');
      } else res.destroy();
      resolve();
    });
    // The browser went away (cancelled upload, closed preview): stop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    pipeline(req, upstream, () => {});
  });
}
