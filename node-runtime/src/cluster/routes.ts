// The membership side of the internal RPC (mounted under `/rpc/v1`, behind the cluster secret):
//   POST /heartbeat   register/heartbeat (roots only)          HeartbeatRequest → MapsResponse
//   POST /maps        push-pull of the LWW maps (registry writes, gossip, root broadcasts);
//                     `answer` (root.ts MapsAnswer) says how much comes back
//   GET  /maps        this member's maps
import express, { type Request, type Response, type Router } from 'express';
import type { MembershipAgent } from './agent.ts';
import type { MapsAnswer, RootService } from './root.ts';
import type { ClusterMaps } from './maps.ts';
import { s3Error } from '../util/errors.ts';
import { sendError } from '../rpc/wire.ts';

export function membershipRoutes(d: { agent: MembershipAgent; root?: RootService }): Router {
  const r = express.Router();
  const json = express.json({ limit: '64mb' });

  r.post('/heartbeat', json, (req: Request, res: Response) => {
    try {
      if (!d.root) throw s3Error('InvalidRequest', 'this member is not a root');
      res.json(d.root.heartbeat(req.body));
    } catch (e) {
      sendError(res, e);
    }
  });

  r.post('/maps', json, async (req: Request, res: Response) => {
    try {
      const { maps: incoming, answer } = (req.body ?? {}) as { maps?: Partial<ClusterMaps>; answer?: MapsAnswer };
      if (!incoming || typeof incoming !== 'object') throw s3Error('InvalidArgument', 'body must be { maps }');
      if (d.root) {
        // The root tells this process's agent what changed (RootService.onChange).
        await d.root.exchange(incoming);
        res.json(d.root.answer(incoming, answer));
      } else {
        d.agent.merge(incoming);
        res.json(answer === 'none' || answer === 'written' ? {} : { maps: d.agent.maps });
      }
    } catch (e) {
      sendError(res, e);
    }
  });

  r.get('/maps', (_req: Request, res: Response) => {
    res.json({ rootId: d.root?.selfId, maps: d.root?.maps ?? d.agent.maps });
  });
  return r;
}
