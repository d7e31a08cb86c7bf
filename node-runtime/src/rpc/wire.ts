// How errors cross the cluster port: `{ error: { code, message, ... } }` with the HTTP status. An
// S3Error comes back as the same S3Error on the caller's side, so a coordinator handles a remote
// failure like a local one. Layers above with error types of their own (the chunk replicas' chunk
// errors) map them on both sides themselves (data/replica-wire.ts) and hand their decoder to the call.
import type { Response } from 'express';
import { S3Error, isS3Error } from '../util/errors.ts';
import { logger } from '../util/log.ts';

const log = logger('rpc');

/** An error body; a layer's own error types may carry more fields (e.g. the chunk id). */
export interface WireError {
  code: string;
  message: string;
}

export type ErrorToWire = (e: unknown) => { status: number; error: WireError };
export type ErrorFromWire = (w: WireError, status: number) => Error;

export const errorToWire: ErrorToWire = (e) => {
  if (isS3Error(e)) return { status: e.status, error: { code: e.code, message: e.message } };
  const err = e as { status?: number; statusCode?: number; type?: string; message?: string };
  // express.json() parse errors and similar client mistakes carry a 4xx status.
  const status = err?.status ?? err?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, error: { code: 'InvalidRequest', message: String(err.message) } };
  return { status: 500, error: { code: 'InternalError', message: String(err?.message ?? e) } };
};

export const errorFromWire: ErrorFromWire = (w, status) => new S3Error(w.code, status, w.message);

/** Answer an RPC with its error (a response already under way is cut, so the caller sees it failed). */
export function sendError(res: Response, e: unknown, toWire: ErrorToWire = errorToWire): void {
  const { status, error } = toWire(e);
  if (status >= 500) log.warn({ err: e }, 'rpc call failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(status).json({ error });
}
