// Random hex for ids on hot paths (request ids, version ids, temp file names): drawn from a 4 KiB
// pool, one randomBytes call per few hundred ids instead of one per call — a call costs about as
// much as the rest of a small GET's bookkeeping. Same CSPRNG, same unpredictability.
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let at = 0;

/** `bytes` random bytes as 2 × bytes lower-case hex characters. */
export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('hex');
  if (at + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    at = 0;
  }
  const s = pool.toString('hex', at, at + bytes);
  at += bytes;
  return s;
}
