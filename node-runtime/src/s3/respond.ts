// Writing S3 responses: XML bodies, and errors as `<Error>` documents with their status.
import type { Response } from 'express';
import { isS3Error, type S3Error, s3Error } from '../util/errors.ts';
import { buildXml, type XmlObject } from './xml.ts';

/** Set headers verbatim (express's res.set would append a charset to Content-Type). */
export function setHeaders(res: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  return res;
}

export function sendXml(res: Response, status: number, root: string, body: XmlObject): void {
  const xml = buildXml(root, body);
  setHeaders(res.status(status), { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(xml)) }).end(xml);
}

/** S3Error as is; anything else is an InternalError (the caller logs it). */
export function toS3Error(err: unknown): S3Error {
  if (isS3Error(err)) return err;
  return s3Error('InternalError', undefined, { cause: err });
}

/** The error document; HEAD responses carry the status and headers only. */
export function sendError(res: Response, err: S3Error, opts: { requestId: string; resource: string; head: boolean }): void {
  res.status(err.status);
  if (err.headers) setHeaders(res, err.headers);
  if (err.code === 'MethodNotAllowed') res.set('Allow', 'GET, PUT, POST, DELETE, HEAD');
  if (opts.head) {
    res.set('x-amz-error-code', err.code).end();
    return;
  }
  const xml = buildXml(
    'Error',
    {
      Code: err.code,
      Message: err.message,
      ...(err.extra ?? {}),
      Resource: opts.resource, // S3 names the request path; layer-specific ids travel in extra
      RequestId: opts.requestId,
    },
    { namespace: false },
  );
  setHeaders(res, { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(xml)) }).end(xml);
}

/** ETag as HTTP wants it: quoted. */
export const quoteEtag = (etag: string): string => `"${etag}"`;
export const unquoteEtag = (etag: string): string =>
  etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
