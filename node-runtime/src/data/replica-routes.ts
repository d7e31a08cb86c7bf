// The cluster-port side of remote replicas: chunk and metadata calls from other members' coordinators,
// served from this member's local stores (mounted under `/rpc/v1` behind the cluster secret).
import express, { type Request, type Response, type Router } from 'express';
import { finished } from 'node:stream/promises';
import type { ChunkReplica, MetaReplica } from './replicas.ts';
import { s3Error } from '../util/errors.ts';
import { sendError as sendAnyError } from '../rpc/wire.ts';
import { replicaErrorToWire as errorToWire } from './replica-wire.ts';
import { batchedMeta, MAX_BATCH, metaMethods, type BatchOutcome, type MetaMethod } from './remote-replica.ts';

const sendError = (res: Response, e: unknown) => sendAnyError(res, e, errorToWire);

function int(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw s3Error('InvalidArgument', `not a non-negative integer: ${String(v)}`);
  return n;
}

export function replicaRoutes(local: { chunks: ChunkReplica; meta: MetaReplica } | undefined): Router {
  const r = express.Router();
  // A root-only process holds no data: every data call is refused clearly rather than crashing.
  const need = <T>(x: T | undefined): T => {
    if (!x) throw s3Error('ServiceUnavailable', 'this member stores no data (role root only)');
    return x;
  };

  r.put('/chunks/:id', async (req: Request, res: Response) => {
    // Aborted when the caller goes away mid-body, so the store drops its temp file.
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    try {
      const size = int(req.headers['content-length']);
      if (size === undefined) throw s3Error('MissingContentLength');
      await need(local).chunks.putChunk(String(req.params.id), req, size, ac.signal);
      res.status(204).end();
    } catch (e) {
      req.resume();
      sendError(res, e);
    }
  });

  r.get('/chunks/:id', async (req: Request, res: Response) => {
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    try {
      const start = int(req.query.start),
        end = int(req.query.end);
      const range = start !== undefined && end !== undefined ? { start, end } : undefined;
      // Verified before any byte is sent (unless the caller verifies): a corrupt chunk is an error
      // answer, never partial bytes the caller could take for whole ones.
      const chunk = await need(local).chunks.getChunk(String(req.params.id), range, ac.signal, req.query.verify === 'caller');
      res.status(200).setHeader('content-type', 'application/octet-stream').setHeader('content-length', String(chunk.length));
      res.end(chunk.bytes);
      // Finished means the OS has every byte: the chunk's buffer goes back to the pool (otherwise each
      // chunk served is 4 MiB of garbage awaiting a full collection); a response cut short may still hold it.
      await finished(res).then(
        () => chunk.release(),
        () => chunk.discard(),
      );
    } catch (e) {
      sendError(res, e);
    }
  });

  const json = express.json({ limit: '64mb' });

  r.post('/chunks/has', json, async (req: Request, res: Response) => {
    try {
      const ids = (req.body as { ids?: unknown })?.ids;
      if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) throw s3Error('InvalidArgument', 'ids must be an array of strings');
      res.json({ has: await need(local).chunks.hasChunks(ids) });
    } catch (e) {
      sendError(res, e);
    }
  });

  r.delete('/chunks/:id', async (req: Request, res: Response) => {
    try {
      await need(local).chunks.deleteChunk(String(req.params.id));
      res.json({});
    } catch (e) {
      sendError(res, e);
    }
  });

  // Calls of several requests in one (remote-replica.ts): each answered on its own, all at once
  // (so the puts among them share an lmdb commit).
  r.post('/meta/batch', json, async (req: Request, res: Response) => {
    try {
      const calls = (req.body as { calls?: unknown })?.calls;
      if (!Array.isArray(calls) || calls.length > MAX_BATCH) throw s3Error('InvalidArgument', `calls must be an array of at most ${MAX_BATCH}`);
      const meta = need(local).meta as unknown as Record<MetaMethod, (...a: unknown[]) => Promise<unknown>>;
      const results: BatchOutcome[] = await Promise.all(
        calls.map(async (c: { method?: unknown; args?: unknown }) => {
          try {
            const method = String(c?.method) as MetaMethod;
            if (!batchedMeta.has(method)) throw s3Error('InvalidRequest', `metadata call ${method} cannot be batched`);
            if (!Array.isArray(c.args)) throw s3Error('InvalidArgument', 'args must be an array');
            const result = await meta[method].apply(need(local).meta, c.args);
            return result === undefined ? {} : { result };
          } catch (e) {
            const { status, error } = errorToWire(e);
            return { error, status };
          }
        }),
      );
      res.json({ results });
    } catch (e) {
      sendError(res, e);
    }
  });

  r.post('/meta/:method', json, async (req: Request, res: Response) => {
    try {
      const method = String(req.params.method) as MetaMethod;
      if (!metaMethods.includes(method)) throw s3Error('InvalidRequest', `unknown metadata call ${method}`);
      const args = (req.body as { args?: unknown })?.args;
      if (!Array.isArray(args)) throw s3Error('InvalidArgument', 'args must be an array');
      const meta = need(local).meta as unknown as Record<MetaMethod, (...a: unknown[]) => Promise<unknown>>;
      const result = await meta[method].apply(need(local).meta, args);
      res.json(result === undefined ? {} : { result });
    } catch (e) {
      sendError(res, e);
    }
  });

  return r;
}
