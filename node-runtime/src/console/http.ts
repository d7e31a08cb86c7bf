// Small HTTP helpers of the console's JSON API: bounded JSON bodies, JSON answers, errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiErrorBody } from './api.ts';
import { ConsoleError, badRequest } from './errors.ts';

const MAX_JSON = 256 * 1024; // a delete of 1,000 long keys fits

export async function readJson<T>(req: IncomingMessage): Promise<T> {
  const type = String(req.headers['content-type'] ?? '');
  // A cross-site form cannot send application/json without a preflight: one more CSRF guard.
  if (!/^application\/json\b/i.test(type)) throw new ConsoleError('UnsupportedMediaType', 415, 'Send JSON (content-type: application/json).');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON) throw new ConsoleError('TooLarge', 413, 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

export function sendError(res: ServerResponse, e: ConsoleError): void {
  if (e.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(e.retryAfterSeconds));
  const body: ApiErrorBody = {
    error: { code: e.code, message: e.message, ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}) },
  };
  sendJson(res, e.status, body);
}

/** A string field of a JSON body, or 400. */
export function str(body: unknown, field: string, opts: { max?: number; optional?: boolean } = {}): string {
  const v = (body as Record<string, unknown> | null)?.[field];
  if (v === undefined && opts.optional) return '';
  if (typeof v !== 'string' || (!opts.optional && v.length === 0)) throw badRequest(`"${field}" must be a non-empty string.`);
  if (v.length > (opts.max ?? 1024)) throw badRequest(`"${field}" is too long.`);
  return v;
}

/** An object key as S3 takes it: 1-1024 bytes of UTF-8. */
export function objectKey(body: unknown, field: string): string {
  const key = str(body, field, { max: 1024 });
  if (Buffer.byteLength(key) > 1024) throw badRequest(`"${field}" is longer than 1024 bytes.`);
  return key;
}
