// The cluster port's internal RPC (`/rpc/v1`): the cluster-secret check, request ids and trace
// continuation in front of the routes the layers above serve — membership (cluster/routes.ts) and
// remote replicas (data/replica-routes.ts) — and one JSON error shape behind them.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { requireClusterSecret } from './auth.ts';
import { sendError } from './wire.ts';
import { requestSpans } from '../observability/http-spans.ts';
import { requestIdMiddleware } from '../observability/request-id.ts';

/** Mount at `/rpc/v1` on the cluster port's express app. */
export function rpcRouter(secret: string, routes: Router[]): Router {
  const r = express.Router();
  r.use(requireClusterSecret(secret));
  // The caller's request id and trace follow the call. Only calls that belong to a trace get a
  // span: background traffic (heartbeats, gossip) carries no traceparent and is not a trace of its own.
  const spans = requestSpans({ continueTrace: true, prefix: 'rpc' });
  r.use(requestIdMiddleware({ trustIncoming: true }), (req, res, next) => (req.headers.traceparent ? spans(req, res, next) : next()));
  for (const sub of routes) r.use(sub);
  // Malformed JSON and other body errors: the wire error shape, never an HTML page.
  r.use((e: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, e));
  return r;
}
