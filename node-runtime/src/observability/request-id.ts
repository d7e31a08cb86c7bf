// Request ids: every S3 request gets one (answered as `x-amz-request-id`, as S3 does), it travels
// on internal RPC as `x-cairn-request-id`, and every log line written while serving the request
// carries it (and the trace id when tracing is on) without anyone passing it around: the id lives
// in an AsyncLocalStorage and util/log.ts merges it into each line.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomHex } from '../util/random.ts';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { setLogContext } from '../util/log.ts';
import { currentTraceId } from './tracing.ts';

/** Header carrying the request id on internal RPC. */
export const requestIdHeader = 'x-cairn-request-id';

/** Who made the request being served, for whatever records it (event records: events/recorder.ts). */
export interface RequestFacts {
  requestId: string;
  operation?: string; // the S3 operation name
  principal?: string; // the access key that signed it
  sourceIp?: string;
}

const store = new AsyncLocalStorage<RequestFacts>();
const validId = /^[A-Za-z0-9._-]{1,64}$/;

setLogContext(() => {
  const requestId = store.getStore()?.requestId;
  const traceId = currentTraceId();
  return requestId || traceId ? { ...(requestId ? { requestId } : {}), ...(traceId ? { traceId } : {}) } : {};
});

/** A new id in the shape S3 uses (16 upper-case hex characters). */
export function newRequestId(): string {
  return randomHex(8).toUpperCase();
}

/** The id of the request being served in this async context, if any. */
export function currentRequestId(): string | undefined {
  return store.getStore()?.requestId;
}

/** The facts of the request being served in this async context, if any. */
export function currentRequest(): Readonly<RequestFacts> | undefined {
  return store.getStore();
}

/** Add what the S3 layer learnt about the current request (its operation, who signed it). */
export function describeRequest(facts: Omit<RequestFacts, 'requestId'>): void {
  const s = store.getStore();
  if (s) Object.assign(s, facts);
}

/** Run `fn` with `id` as the current request id (logs inside `fn` carry it). */
export function withRequestId<T>(id: string, fn: () => T): T {
  return store.run({ requestId: id }, fn);
}

/** Add the current request id to outgoing internal RPC headers; returns them. */
export function requestIdHeaders<H extends Record<string, string>>(headers: H = {} as H): H {
  const id = currentRequestId();
  if (id) (headers as Record<string, string>)[requestIdHeader] = id;
  return headers;
}

/**
 * Express middleware assigning the request id and serving the rest of the request inside it.
 * - File API (default): always a fresh id, answered as `x-amz-request-id` (clients cannot choose it).
 * - Cluster port (`{ trustIncoming: true }`): keeps the caller's `x-cairn-request-id`, so the
 *   coordinator's id shows in the logs of every node the request touched.
 */
export function requestIdMiddleware(opts: { trustIncoming?: boolean } = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = opts.trustIncoming ? req.headers[requestIdHeader] : undefined;
    const id = typeof incoming === 'string' && validId.test(incoming) ? incoming : newRequestId();
    res.locals.requestId = id;
    if (!opts.trustIncoming) res.setHeader('x-amz-request-id', id);
    withRequestId(id, () => next());
  };
}
