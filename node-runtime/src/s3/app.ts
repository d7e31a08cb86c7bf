// The S3 file API: an express app, thin over the ObjectService (data/types.ts). One middleware
// does the whole request: route from the raw URL, authenticate (SigV4), authorise, pick the
// operation, run it; errors become S3 XML. No body parsers: object bodies stream to the engine.
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { trace } from '@opentelemetry/api';
import { s3RequestMetrics, setS3Operation } from '../observability/request-metrics.ts';
import { describeRequest, newRequestId, requestIdMiddleware } from '../observability/request-id.ts';
import { requestSpans } from '../observability/http-spans.ts';
import { logger } from '../util/log.ts';
import { awaitingContinue, sendContinue } from '../util/continue.ts';
import { anonymousCaller, authenticate } from './auth.ts';
import { decidedByHandler, policyContext, requireAccess, requireExpectedOwner, unauthenticated } from './authz.ts';
import { corsHeadersOf } from './bucket-cors.ts';
import { selectOperation, type Operation } from './operations.ts';
import { refuseUnsupportedHeaders } from './unsupported-headers.ts';
import { sendError, setHeaders, toS3Error } from './respond.ts';
import { parseRoute, type Route } from './route.ts';
import type { S3Context, S3Deps } from './types.ts';

export type { S3Deps } from './types.ts';

const log = logger('s3');

/** A refused request's unread body up to this size is read to its end rather than ending the connection. */
const SMALL_UNREAD_BODY = 1024 * 1024;

async function serve(deps: S3Deps, req: Request, res: Response): Promise<void> {
  // The id requestIdMiddleware assigned: the same one is in every log line of the request and is
  // carried on internal RPC, so one id finds the request on every node it touched.
  const requestId = (res.locals.requestId as string | undefined) ?? newRequestId();
  res.set('x-amz-request-id', requestId).set('x-amz-id-2', requestId).set('Server', 'Cairn');
  // The engine gets a signal that fires when the client goes away before the response is done.
  const aborter = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborter.abort();
  });

  let route: Route | undefined;
  let operation = 'Unknown';
  try {
    route = parseRoute(req.originalUrl);
    // Ids belong on the span (never on metric labels); the span is named after the operation at its end.
    trace.getActiveSpan()?.setAttributes({ ...(route.bucket ? { 'cairn.bucket': route.bucket } : {}), ...(route.key ? { 'cairn.key': route.key } : {}) });
    // Name the operation first (metrics label even denied requests), but authentication errors
    // take precedence over a bad or unsupported operation, as in S3.
    let op: Operation | undefined;
    let opError: unknown;
    try {
      op = selectOperation(req.method, route, req.headers);
      operation = op.name;
      setS3Operation(res, op.name);
    } catch (e) {
      opError = e;
    }
    // A bucket's CORS headers go on every answer, errors included (a browser hides any answer without
    // them from the page); set first, so the handler's and the error path's headers add to them.
    if (req.method !== 'OPTIONS') setHeaders(res, corsHeadersOf(deps, route.bucket, req));
    const open = op !== undefined && unauthenticated.has(op.name);
    const caller = open ? anonymousCaller() : authenticate(req, route, (id) => deps.principal(id));
    describeRequest({ operation, principal: caller.accessKeyId, sourceIp: req.socket.remoteAddress });
    if (!op) throw opError;
    const ctx: S3Context = {
      requestId,
      route,
      caller,
      signal: aborter.signal,
      deps,
      policyContext: policyContext(req, route.query, caller.user, caller.presigned === true),
    };
    // Operations on an existing object are decided by their handler, which knows the object's owner and ACL.
    if (!decidedByHandler.has(op.name) && !open) requireAccess(ctx, op.name);
    requireExpectedOwner(ctx, req.headers['x-amz-expected-bucket-owner']);
    refuseUnsupportedHeaders(op.name, req.headers);
    sendContinue(res); // let through: a client that waits for it sends its body now
    await op.handler(req, res, ctx);
  } catch (e) {
    const err = toS3Error(e);
    const where = { requestId, op: operation, bucket: route?.bucket, key: route?.key, method: req.method };
    // A client that went away mid-request is not a server failure (its AbortError says so).
    if (err.code === 'InternalError' && !aborter.signal.aborted)
      log.error({ ...where, err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, 'request failed');
    if (aborter.signal.aborted) return; // nobody is listening any more
    if (res.headersSent) {
      res.destroy();
      return;
    } // mid-body failure: cut the stream
    const resource = route ? route.rawPath : req.originalUrl;
    // A body the handler never read (refused before it started) is read and dropped, so a client
    // still sending it gets the answer instead of blocking on a socket nobody reads; after a small
    // one the connection stays usable (and a client still writing is not cut off), a large one ends
    // it. A client still waiting for 100 Continue sent none (Node then ends the connection itself).
    if (!req.complete && !awaitingContinue(res)) {
      if (!(Number(req.headers['content-length']) <= SMALL_UNREAD_BODY)) res.setHeader('Connection', 'close');
      req.resume();
    }
    try {
      sendError(res, err, { requestId, resource, head: req.method === 'HEAD' });
    } catch (e2) {
      log.error({ ...where, err: String(e2) }, 'could not send the error response');
      res.destroy();
    }
  }
}

export function createS3App(deps: S3Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  // Counts, latency, bytes per operation (named by setS3Operation), in the node's metrics.
  const metrics: RequestHandler = deps.metrics ? s3RequestMetrics(deps.metrics) : (_req, _res, next) => next();
  // A request id (x-amz-request-id, in every log line) and one SERVER span per request; clients
  // cannot pick either (no incoming trace or id is trusted on the file API).
  const requestId = requestIdMiddleware();
  const spans = requestSpans();
  // One layer that calls the three in turn, not three router layers: the router's per-layer cost
  // showed in small-GET profiles. None of them ends a request or fails (each only calls next()).
  app.use((req, res) =>
    metrics(req, res, () =>
      requestId(req, res, () =>
        spans(req, res, () => {
          void serve(deps, req, res);
        }),
      ),
    ),
  );
  return app;
}
