// The cluster port's internal RPC (`/rpc/v1`), behind the cluster secret:
//   POST /rpc/v1/heartbeat   register/heartbeat (roots only)          HeartbeatRequest → MapsResponse
//   POST /rpc/v1/maps        push-pull of the LWW maps (registry writes, gossip, root broadcasts)
//   GET  /rpc/v1/maps        this member's maps
//   /rpc/v1/chunks/*, /rpc/v1/meta/*   remote replicas (replicas-routes.ts)
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { MembershipAgent } from '../cluster/agent.ts';
import type { RootService } from '../cluster/root.ts';
import type { ClusterMaps } from '../cluster/maps.ts';
import type { ChunkReplica, MetaReplica } from '../data/replicas.ts';
import { s3Error } from '../util/errors.ts';
import { requireClusterSecret } from './auth.ts';
import { requestSpans } from '../observability/http-spans.ts';
import { requestIdMiddleware } from '../observability/request-id.ts';
import { replicaRoutes, sendError } from './replicas-routes.ts';

export interface RpcRouterDeps {
  secret: string;
  agent: MembershipAgent;
  root?: RootService;
  local?: { chunks: ChunkReplica; meta: MetaReplica };
}

/** Mount at `/rpc/v1` on the cluster port's express app. */
export function rpcRouter(d: RpcRouterDeps): Router {
  const r = express.Router();
  r.use(requireClusterSecret(d.secret));
  // The caller's request id and trace follow the call. Only calls that belong to a trace get a
  // span: background traffic (heartbeats, gossip) carries no traceparent and is not a trace of its own.
  const spans = requestSpans({ continueTrace: true, prefix: 'rpc' });
  r.use(requestIdMiddleware({ trustIncoming: true }), (req, res, next) => (req.headers.traceparent ? spans(req, res, next) : next()));
  const json = express.json({ limit: '64mb' });

  r.post('/heartbeat', json, (req: Request, res: Response) => {
    try {
      if (!d.root) throw s3Error('InvalidRequest', 'this member is not a root');
      res.json(d.root.heartbeat(req.body));
    } catch (e) { sendError(res, e); }
  });

  r.post('/maps', json, async (req: Request, res: Response) => {
    try {
      const incoming = (req.body as { maps?: Partial<ClusterMaps> })?.maps;
      if (!incoming || typeof incoming !== 'object') throw s3Error('InvalidArgument', 'body must be { maps }');
      if (d.root) {
        const out = await d.root.exchange(incoming);
        d.agent.merge(out.maps);
        res.json(out);
      } else {
        d.agent.merge(incoming);
        res.json({ maps: d.agent.maps });
      }
    } catch (e) { sendError(res, e); }
  });

  r.get('/maps', (_req: Request, res: Response) => {
    res.json({ rootId: d.root?.selfId, maps: d.root?.maps ?? d.agent.maps });
  });

  r.use(replicaRoutes(d.local));
  // Malformed JSON and other body errors: the wire error shape, never an HTML page.
  r.use((e: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, e));
  return r;
}
