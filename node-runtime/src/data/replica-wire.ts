// Chunk errors across the cluster port: a remote chunk replica fails with the same ChunkError a
// local store throws (NotFound and Corrupt make a reader fail over, HashMismatch refuses a copy), so
// the coordinators never know whether a replica was local. Everything else maps as rpc/wire.ts does.
import { ChunkError, isChunkError, type ChunkErrorCode } from '../chunks/errors.ts';
import { errorFromWire, errorToWire, type ErrorFromWire, type ErrorToWire, type WireError } from '../rpc/wire.ts';

interface ChunkWireError extends WireError {
  chunkId?: string;
}

const chunkStatus: Record<ChunkErrorCode, number> = {
  ChunkNotFound: 404,
  ChunkCorrupt: 500,
  ChunkHashMismatch: 400,
  ChunkSizeMismatch: 400,
  InvalidChunkId: 400,
};

export const replicaErrorToWire: ErrorToWire = (e) => {
  if (!isChunkError(e)) return errorToWire(e);
  const error: ChunkWireError = { code: e.code, message: e.message, chunkId: e.chunkId };
  return { status: chunkStatus[e.code] ?? 500, error };
};

export const replicaErrorFromWire: ErrorFromWire = (w, status) => {
  if (w.code in chunkStatus) return new ChunkError(w.code as ChunkErrorCode, (w as ChunkWireError).chunkId ?? '', w.message);
  return errorFromWire(w, status);
};
