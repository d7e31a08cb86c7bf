// Errors of the chunk layer. They are distinct from S3 errors because callers act on them
// differently: NotFound and Corrupt make a reader fail over to the next replica (and scrub count
// the corruption); HashMismatch rejects a write whose bytes do not match their claimed id.
export type ChunkErrorCode = 'ChunkNotFound' | 'ChunkCorrupt' | 'ChunkHashMismatch' | 'ChunkSizeMismatch' | 'InvalidChunkId';

export class ChunkError extends Error {
  readonly code: ChunkErrorCode;
  readonly chunkId: string;
  constructor(code: ChunkErrorCode, chunkId: string, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
    this.name = 'ChunkError';
    this.code = code;
    this.chunkId = chunkId;
  }
}

export function isChunkError(e: unknown, code?: ChunkErrorCode): e is ChunkError {
  return e instanceof ChunkError && (code === undefined || e.code === code);
}

const idPattern = /^[0-9a-f]{64}$/;

/** Chunk ids are lowercase hex SHA-256; anything else never reaches the file system. */
export function assertChunkId(id: string): void {
  if (typeof id !== 'string' || !idPattern.test(id))
    throw new ChunkError('InvalidChunkId', String(id).slice(0, 80), `invalid chunk id ${JSON.stringify(String(id).slice(0, 80))}`);
}
