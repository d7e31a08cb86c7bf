// SHA-256 of chunk buffers off the event loop. node:crypto hashes on the calling thread (≈ 1.1–1.4
// GB/s per core) and WebCrypto's digest blocks the caller about as long, so a 4 MiB chunk would stall
// every other request for ~3–8 ms. A small pool of worker threads hashes instead, in parallel with
// the main thread's socket and disk I/O (and with the MD5 of the write path).
//
// Memory stays bounded because no worker ever keeps a chunk: the buffer's memory is *transferred* to
// the worker and back (no copy, and no reference left behind for a lazy worker GC to pin — a shared
// or cloned buffer would stay alive until the worker's heap happened to collect). Only buffers from
// `allocChunk` are transferred (their memory belongs to them alone); any other is copied into such a
// buffer first, which costs a memcpy, far less than the hash.
//
// `hashChunk` also remembers, per Buffer object, the id it hashed to: a chunk the coordinator hashed
// in this process need not be hashed again by the local chunk store (`knownChunkId`). Chunk buffers
// are never mutated after they are cut, so the remembered id stays true for the buffer's lifetime.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// Plain JS for the worker (no file to resolve, no TypeScript loader needed in the worker).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const md5s = new Map();   // running MD5 of a body, by session id (see BodyHasher)
parentPort.on('message', ({ id, buf, offset, length, session, end }) => {
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
      hex = createHash('sha256').update(data).digest('hex');
    }
  } catch (e) { error = String(e); }
  if (buf) parentPort.postMessage({ id, hex, error, buf }, [buf]);
  else parentPort.postMessage({ id, hex, error });
});
`;

/** Below this size the message round trip costs more than hashing on the spot. */
export const OFF_THREAD_MIN = 64 * 1024;

interface Hashed { hex: string; buf?: ArrayBuffer }
interface Pending { resolve: (h: Hashed) => void; reject: (e: Error) => void }
interface Slot { worker: Worker; pending: Map<number, Pending>; dead?: Error }
type Job = { buf: ArrayBuffer; offset: number; length: number; session?: number } | { session: number; end: true };

class HashPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private readonly size: number;

  constructor(size: number) { this.size = size; }

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

  /** The least busy worker, starting another while some are busy and the pool is not full. */
  pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.pending.size < best.pending.size) best = s;
    if (best && (best.pending.size === 0 || this.slots.length >= this.size)) return best;
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
const known = new WeakMap<Buffer, string>();
const owned = new WeakSet<Buffer>();

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---- chunk buffer pool -------------------------------------------------------------------------
// Every chunk read or written would otherwise be a fresh 4 MiB allocation: V8 collects garbage by
// external-memory pressure (a full collection every few dozen MiB of buffers) and glibc keeps freed
// blocks of that size in its heap, so RSS climbs far above what requests hold. Buffers of chunk-like
// sizes (powers of two) are handed back by the code that knows they are no longer referenced (the
// S3 GET loop once the socket took them; the write path once every replica stored them) and reused.

const POOL_MAX_FREE_BYTES = 32 * 1024 * 1024;   // eight 4 MiB chunks: enough to keep a few streams recycling
const freeBySize = new Map<number, Buffer[]>();
let freeBytes = 0;
const pooled = new WeakSet<Buffer>();
const idle = new WeakSet<Buffer>();   // in a free list now

const poolable = (size: number) => size >= OFF_THREAD_MIN && (size & (size - 1)) === 0;

/** Bytes of free buffers in the pool (diagnostics; the tests read it). */
export function freeChunkBytes(): number { return freeBytes; }

/** A chunk buffer (like allocChunk), from the pool when one of that size is free. Not zero-filled. */
export function takeChunk(size: number): Buffer {
  if (!poolable(size)) return allocChunk(size);
  const b = freeBySize.get(size)?.pop();
  if (b) { freeBytes -= size; idle.delete(b); return b; }
  const n = allocChunk(size);
  pooled.add(n);
  return n;
}

/**
 * Hand back a buffer from takeChunk that nothing references any more (it will be overwritten).
 * Anything else (other buffers, detached ones, one already handed back) is ignored.
 */
export function recycleChunk(b: Buffer): void {
  if (!pooled.has(b) || idle.has(b) || b.length === 0) return;   // idle: a second hand-back is a no-op
  known.delete(b);             // its remembered id no longer describes what it will hold
  if (freeBytes + b.length > POOL_MAX_FREE_BYTES) return;
  let list = freeBySize.get(b.length);
  if (!list) freeBySize.set(b.length, (list = []));
  list.push(b);
  idle.add(b);
  freeBytes += b.length;
}

/** A buffer with memory of its own (not from the shared pool), so it can be hashed by transfer. Not zero-filled. */
export function allocChunk(size: number): Buffer {
  const b = Buffer.allocUnsafeSlow(size);
  owned.add(b);
  return b;
}

/**
 * Hex SHA-256 of a buffer from `allocChunk`, on a worker thread. The buffer's memory moves to the
 * worker while it hashes: `data` is empty (detached) until this resolves, and the bytes come back in
 * the returned buffer, which replaces it. Other buffers are hashed on the spot (small ones) or copied.
 */
export async function hashOwned(data: Buffer): Promise<{ hex: string; data: Buffer }> {
  if (data.length < OFF_THREAD_MIN) return { hex: sha256Hex(data), data };
  if (!owned.has(data)) return { hex: await sha256Off(data), data };
  const { byteOffset, length } = data;   // read now: `data` is detached while the worker has it
  const { hex, buf } = await pool.hash(data.buffer as ArrayBuffer, byteOffset, length);
  const back = Buffer.from(buf!, byteOffset, length);
  owned.add(back);
  if (pooled.has(data)) pooled.add(back);
  return { hex, data: back };
}

/** Hex SHA-256 of any buffer, which stays usable meanwhile: large ones are copied and hashed on a worker. */
export async function sha256Off(data: Buffer): Promise<string> {
  if (data.length < OFF_THREAD_MIN) return sha256Hex(data);
  const copy = new ArrayBuffer(data.length);
  data.copy(new Uint8Array(copy));
  return (await pool.hash(copy, 0, data.length)).hex;
}

/** The chunk id of an `allocChunk` buffer (see hashOwned: use the returned buffer), remembered for `knownChunkId`. */
export async function hashChunk(chunk: Buffer): Promise<{ id: string; chunk: Buffer }> {
  const { hex, data } = await hashOwned(chunk);
  known.set(data, hex);
  return { id: hex, chunk: data };
}

/** The id `hashChunk` computed for this very Buffer object, if it did. */
export function knownChunkId(chunk: Buffer): string | undefined {
  return known.get(chunk);
}

let nextSession = 1;

/**
 * The MD5 of a body (its ETag) and the SHA-256 of each of its chunks, both on one hash worker, so
 * the event loop does neither (MD5 runs at ≈ 0.6 GB/s: the largest CPU cost of a large PUT). The
 * worker sees a body's chunks in the order `chunk` is called, which is the order MD5 needs.
 * `close()` must be called once, after the last chunk (it also discards the session on failure).
 */
export class BodyHasher {
  private readonly slot = pool.pick();
  private readonly session = nextSession++;
  private ended: Promise<string> | undefined;

  /** Hash `chunk` (consumed like hashOwned's argument: use the returned buffer), remembered for `knownChunkId`. */
  async chunk(chunk: Buffer): Promise<{ id: string; chunk: Buffer }> {
    if (this.ended) throw new Error('internal: chunk after the body hash was closed');
    let data = chunk;
    if (!owned.has(data)) {   // not ours to transfer: a copy (small or foreign buffers) is
      data = allocChunk(chunk.length);
      chunk.copy(data);
    }
    const { byteOffset, length } = data;
    const { hex, buf } = await pool.send(this.slot, { buf: data.buffer as ArrayBuffer, offset: byteOffset, length, session: this.session });
    const back = Buffer.from(buf!, byteOffset, length);
    owned.add(back);
    if (pooled.has(data)) pooled.add(back);
    known.set(back, hex);
    return { id: hex, chunk: back };
  }

  /** The body's MD5 (hex) over every chunk sent so far. */
  close(): Promise<string> {
    this.ended ??= pool.send(this.slot, { session: this.session, end: true }).then((h) => h.hex);
    return this.ended;
  }
}
