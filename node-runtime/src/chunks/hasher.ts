// SHA-256 of chunk buffers off the event loop. node:crypto hashes on the calling thread (≈ 1.1–1.4
// GB/s per core) and WebCrypto's digest blocks the caller about as long, so a 4 MiB chunk would stall
// every other request for ~3–8 ms. A small pool of worker threads hashes instead, in parallel with
// the main thread's socket and disk I/O (and with the MD5 of the write path).
//
// Memory stays bounded because no worker ever keeps a chunk: the buffer's memory is *transferred* to
// the worker and back (no copy, and no reference left behind for a lazy worker GC to pin — a shared
// or cloned buffer would stay alive until the worker's heap happened to collect). Only memory that
// belongs to one buffer alone can be transferred: ChunkBuffer (buffer.ts) knows which does, and is
// the only caller of the transfer functions here; any other buffer is copied first (sha256Off).
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// Plain JS for the worker (no file to resolve, no TypeScript loader needed in the worker).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const md5s = new Map();   // running MD5 of a body, by session id (see BodyHasher)
parentPort.on('message', ({ id, buf, offset, length, session, end, md5Only }) => {
  let hex, error;
  try {
    if (end) {
      hex = (md5s.get(session) ?? createHash('md5')).digest('hex');
      md5s.delete(session);
    } else {
      const data = new Uint8Array(buf, offset, length);
      if (session !== undefined) {
        let m = md5s.get(session);
        if (!m) md5s.set(session, (m = createHash('md5')));
        m.update(data);
      }
      hex = md5Only ? '' : createHash('sha256').update(data).digest('hex');
    }
  } catch (e) { error = String(e); }
  if (buf) parentPort.postMessage({ id, hex, error, buf }, [buf]);
  else parentPort.postMessage({ id, hex, error });
});
`;

/** Below this size the message round trip costs more than hashing on the spot. */
export const OFF_THREAD_MIN = 64 * 1024;

interface Hashed {
  hex: string;
  buf?: ArrayBuffer;
}
interface Pending {
  resolve: (h: Hashed) => void;
  reject: (e: Error) => void;
}
interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  dead?: Error;
}
type Job = { buf: ArrayBuffer; offset: number; length: number; session?: number; md5Only?: boolean } | { session: number; end: true };

class HashPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  /** Hash `length` bytes at `offset` of `buf`, which is transferred there and back. */
  hash(buf: ArrayBuffer, offset: number, length: number): Promise<Hashed> {
    return this.send(this.pick(), { buf, offset, length });
  }

  /** Run a job on one given worker (a body's MD5 session stays on the worker that holds it). */
  send(slot: Slot, job: Job): Promise<Hashed> {
    if (slot.dead) return Promise.reject(slot.dead);
    const id = this.nextId++;
    return new Promise<Hashed>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      // Idle workers do not keep the process alive; a busy one does until it answers.
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage({ id, ...job }, 'buf' in job ? [job.buf] : []);
    });
  }

  /** The least busy worker (other than `not`, when the pool has room for another), starting another while some are busy and the pool is not full. */
  pick(not?: Slot): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (s !== not && (!best || s.pending.size < best.pending.size)) best = s;
    if (best && (best.pending.size === 0 || this.slots.length >= this.size)) return best;
    if (!best && not && this.slots.length >= this.size) return not;
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }), pending: new Map() };
    slot.worker.unref();
    slot.worker.on('message', (m: { id: number; hex?: string; error?: string; buf: ArrayBuffer }) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) slot.worker.unref();
      if (m.error !== undefined || m.hex === undefined) p.reject(new Error(`hash worker: ${m.error}`));
      else p.resolve({ hex: m.hex, buf: m.buf });
    });
    const fail = (e: Error) => {
      slot.dead ??= e;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`hash worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

const pool = new HashPool(Math.max(1, Math.min(4, availableParallelism())));

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of any buffer, which stays usable meanwhile: large ones are copied and hashed on a worker. */
export async function sha256Off(data: Buffer): Promise<string> {
  if (data.length < OFF_THREAD_MIN) return sha256Hex(data);
  const copy = new ArrayBuffer(data.length);
  data.copy(new Uint8Array(copy));
  return (await pool.hash(copy, 0, data.length)).hex;
}

/**
 * Hex SHA-256 of `data`, whose ArrayBuffer must belong to it alone, on a worker: the memory moves to
 * the worker while it hashes (`data` is empty meanwhile and stays detached) and comes back in the
 * returned buffer, over the same bytes. For ChunkBuffer only.
 */
export async function hashByTransfer(data: Buffer): Promise<{ hex: string; back: Buffer }> {
  const { byteOffset, length } = data; // read now: `data` is detached while the worker has it
  const { hex, buf } = await pool.hash(data.buffer as ArrayBuffer, byteOffset, length);
  return { hex, back: Buffer.from(buf!, byteOffset, length) };
}

let nextSession = 1;

/**
 * The MD5 of a body (its ETag) and the SHA-256 of each of its chunks, off the event loop (MD5 runs
 * at ≈ 0.8 GB/s: the largest CPU cost of a large PUT). The body's MD5 lives on one hash worker,
 * which sees the chunks in the order they are sent, the order MD5 needs; each chunk then goes on to
 * another worker for its SHA-256. The two run one after the other for a chunk but side by side for
 * a body (chunk n's MD5 beside chunk n−1's SHA-256), so one stream is bounded by MD5 alone, not by
 * MD5 + SHA-256 on one core (issue 23). A chunk is sent with ChunkBuffer.hash(bodyHasher).
 * `close()` must be called once, after the last chunk (it also discards the session on failure).
 */
export class BodyHasher {
  private readonly slot = pool.pick();
  private readonly session = nextSession++;
  private ended: Promise<string> | undefined;

  /** Like hashByTransfer, adding the bytes to the body's MD5 first (on this body's worker). */
  async transfer(data: Buffer): Promise<{ hex: string; back: Buffer }> {
    if (this.ended) throw new Error('internal: chunk after the body hash was closed');
    const { byteOffset, length } = data;
    const job = { buf: data.buffer as ArrayBuffer, offset: byteOffset, length, session: this.session, md5Only: true };
    const md5 = await pool.send(this.slot, job);
    const { hex, buf } = await pool.send(pool.pick(this.slot), { buf: md5.buf!, offset: byteOffset, length });
    return { hex, back: Buffer.from(buf!, byteOffset, length) };
  }

  /** The body's MD5 (hex) over every chunk sent so far. */
  close(): Promise<string> {
    this.ended ??= pool.send(this.slot, { session: this.session, end: true }).then((h) => h.hex);
    return this.ended;
  }
}
