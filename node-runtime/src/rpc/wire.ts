// How errors cross the cluster port: `{ error: { code, message, chunkId? } }` with the HTTP status.
// Chunk errors become ChunkError again on the caller's side and everything else an S3Error, so a
// coordinator's failover logic (isChunkError, S3Error codes) works the same for remote replicas.
import { S3Error, isS3Error } from '../util/errors.ts';
import { ChunkError, isChunkError, type ChunkErrorCode } from '../chunks/errors.ts';

export interface WireError { code: string; message: string; chunkId?: string }

const chunkStatus: Record<ChunkErrorCode, number> = {
  ChunkNotFound: 404, ChunkCorrupt: 500, ChunkHashMismatch: 400, ChunkSizeMismatch: 400, InvalidChunkId: 400,
};

export function errorToWire(e: unknown): { status: number; error: WireError } {
  if (isChunkError(e)) return { status: chunkStatus[e.code] ?? 500, error: { code: e.code, message: e.message, chunkId: e.chunkId } };
  if (isS3Error(e)) return { status: e.status, error: { code: e.code, message: e.message } };
  const err = e as { status?: number; statusCode?: number; type?: string; message?: string };
  // express.json() parse errors and similar client mistakes carry a 4xx status.
  const status = err?.status ?? err?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, error: { code: 'InvalidRequest', message: String(err.message) } };
  return { status: 500, error: { code: 'InternalError', message: String(err?.message ?? e) } };
}

export function errorFromWire(w: WireError, status: number): Error {
  if (w.code in chunkStatus) return new ChunkError(w.code as ChunkErrorCode, w.chunkId ?? '', w.message);
  return new S3Error(w.code, status, w.message);
}
