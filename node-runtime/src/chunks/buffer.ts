// Chunk buffers with an owner. A ChunkBuffer holds a chunk's bytes, the memory grant they were
// allowed under (memory.ts) and, once hashed, their SHA-256 (its chunk id). It has one holder at a
// time: whoever takes or receives one either passes it on (the write path to the replicas, a reader
// to the S3 response) or ends it — with `release()` when nothing references the bytes any more (they
// go back to the pool below), or `discard()` when something still may (a socket write that failed,
// a replica write still in flight: the GC takes them then). Both give the grant back, are idempotent
// and end the buffer: reading its bytes afterwards throws, so a use after release is a loud error,
// never another request's bytes.
//
// Why a pool: every chunk read or written would otherwise be a fresh 4 MiB allocation. V8 collects
// garbage by external-memory pressure (a full collection every few dozen MiB of buffers) and glibc
// keeps freed blocks of that size in its heap, so RSS climbs far above what requests hold. Buffers
// of chunk-like sizes (powers of two) that were released are reused instead.
//
// Large buffers start at a page boundary, so the chunk store can hand them to the disk without the
// page cache (O_DIRECT, store.ts). Node has no aligned allocation, but V8 reserves a resizable
// ArrayBuffer's memory with mmap, which is page-aligned, and keeps it there through a transfer to a
// hash worker and back. Alignment is what V8 does, not what it promises: the store falls back to an
// ordinary write when the kernel refuses a buffer.
import { OFF_THREAD_MIN, hashByTransfer, sha256Hex, sha256Off, type BodyHasher } from './hasher.ts';
import { noGrant, type Grant } from './memory.ts';

const POOL_MAX_FREE_BYTES = 32 * 1024 * 1024; // eight 4 MiB chunks: enough to keep a few streams recycling
/** A pool nobody took from or gave back to for this long is emptied: a node at rest keeps no chunk memory. */
export const POOL_IDLE_MS = 2_000;
const freeBySize = new Map<number, Buffer[]>();
let freeBytes = 0;
let lastUse = 0;
let idleTimer: NodeJS.Timeout | undefined;

function touchPool(): void {
  lastUse = Date.now();
  if (idleTimer || freeBytes === 0) return;
  const check = () => {
    const idle = Date.now() - lastUse;
    if (idle < POOL_IDLE_MS) {
      idleTimer = setTimeout(check, POOL_IDLE_MS - idle).unref();
      return;
    }
    idleTimer = undefined;
    freeBySize.clear(); // the GC frees them (with MALLOC_MMAP_THRESHOLD_ fixed, back to the OS at once)
    freeBytes = 0;
  };
  idleTimer = setTimeout(check, POOL_IDLE_MS).unref();
}

const poolable = (size: number) => size >= OFF_THREAD_MIN && (size & (size - 1)) === 0;

/** `size` bytes (not zero-filled) starting at a page boundary (see above). */
function pageAligned(size: number): Buffer {
  return Buffer.from(new ArrayBuffer(size, { maxByteLength: size }));
}

/** Bytes of free buffers in the pool (diagnostics; the tests read it). */
export function freeChunkBytes(): number {
  return freeBytes;
}

// Where a buffer's memory comes from, which says what may be done with it: `pooled` memory is its
// own and goes back to the pool; `own` memory is its own (a hash worker may take it by transfer) but
// of a size the pool does not keep; `foreign` memory may be shared (Node's small-buffer slab, a view
// into a network buffer) and is never transferred nor pooled.
type Memory = 'pooled' | 'own' | 'foreign';

export class ChunkBuffer {
  #mem: Buffer | undefined; // the whole allocation; undefined once ended
  #memory: Memory;
  #aligned: boolean; // #mem starts at a page boundary
  #start = 0; // the bytes exposed: #mem[#start, #end)
  #end: number;
  #view: Buffer | undefined;
  #grant: Grant;
  #id: string | undefined;
  #hashing = false; // the memory is on a hash worker
  #lost = false; // the memory went to a hash worker that failed
  #ended: 'released' | 'discarded' | undefined;

  private constructor(mem: Buffer, memory: Memory, grant: Grant, aligned = false) {
    this.#mem = mem;
    this.#memory = memory;
    this.#aligned = aligned;
    this.#end = mem.length;
    this.#grant = grant;
  }

  /** A buffer of `size` bytes (not zero-filled), from the pool when one is free, held under `grant`. */
  static take(size: number, grant: Grant = noGrant): ChunkBuffer {
    if (!poolable(size))
      return size >= OFF_THREAD_MIN ? new ChunkBuffer(pageAligned(size), 'own', grant, true) : new ChunkBuffer(Buffer.allocUnsafeSlow(size), 'own', grant);
    const free = freeBySize.get(size)?.pop();
    if (free) freeBytes -= size;
    touchPool();
    return new ChunkBuffer(free ?? pageAligned(size), 'pooled', grant, true);
  }

  /** Own bytes that come from elsewhere (small allocations, a caller's buffer): never pooled. */
  static of(bytes: Buffer, grant: Grant = noGrant): ChunkBuffer {
    return new ChunkBuffer(bytes, 'foreign', grant);
  }

  /** The bytes. Throws once the buffer ended, and while a hash worker holds the memory. */
  get bytes(): Buffer {
    if (this.#ended) throw new Error(`chunk buffer used after it was ${this.#ended}`);
    if (this.#hashing) throw new Error('chunk buffer used while a hash worker holds its memory');
    if (this.#lost) throw new Error('chunk buffer memory was lost with a failed hash worker');
    return (this.#view ??= this.#start === 0 && this.#end === this.#mem!.length ? this.#mem! : this.#mem!.subarray(this.#start, this.#end));
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /** The bytes start at a page boundary (they may go to the disk directly, see store.ts). */
  get aligned(): boolean {
    return this.#aligned && this.#start === 0 && !this.ended;
  }

  /** The SHA-256 (hex) of the bytes, once `hash()` computed it. */
  get id(): string | undefined {
    return this.#id;
  }

  /** True once released or discarded. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /**
   * The SHA-256 of the bytes, remembered as `id` (a chunk hashed by the coordinator is not hashed
   * again by the local store). Large buffers are hashed on a worker: memory of its own moves there
   * and back (no copy; `bytes` throws meanwhile), other memory is copied. With `body`, the bytes also
   * go into that body's MD5, in call order.
   */
  async hash(body?: BodyHasher): Promise<string> {
    const bytes = this.bytes;
    const whole = this.#start === 0 && this.#end === this.#mem!.length;
    if (!body && bytes.length < OFF_THREAD_MIN) return (this.#id = sha256Hex(bytes));
    if (this.#memory === 'foreign' || !whole) {
      if (!body) return (this.#id = await sha256Off(bytes));
      // Not ours to transfer: the body's worker gets a copy, which becomes this buffer's memory.
      const copy = pageAligned(bytes.length);
      bytes.copy(copy);
      this.#set(copy, 'own', true);
    }
    this.#hashing = true;
    let hashed: { hex: string; back: Buffer };
    try {
      hashed = await (body ? body.transfer(this.#mem!) : hashByTransfer(this.#mem!));
    } catch (e) {
      this.#lost = true;
      throw e;
    } finally {
      this.#hashing = false;
    }
    this.#id = hashed.hex;
    if (!this.#ended) this.#set(hashed.back, this.#memory, this.#aligned); // ended meanwhile: the memory is left to the GC
    return hashed.hex;
  }

  /** Hold these bytes under `grant` from now on (memory reserved before they were read); given back when the buffer ends. */
  holdUnder(grant: Grant): this {
    if (this.#ended) {
      grant.release();
      return this;
    }
    if (this.#grant !== noGrant) throw new Error('internal: a chunk buffer holds one grant');
    this.#grant = grant;
    return this;
  }

  /** Expose only [start, end] (inclusive) of the current bytes: a range of a chunk. Same memory, same owner. */
  narrow(start: number, end: number): this {
    const length = this.length;
    if (start < 0 || end < start || end >= length) throw new RangeError(`range ${start}-${end} outside chunk of ${length} bytes`);
    this.bytes; // throws when ended
    this.#end = this.#start + end + 1;
    this.#start += start;
    this.#view = undefined;
    return this;
  }

  /**
   * The first `n` bytes in a buffer of their own size, which takes over the grant; this one ends
   * (its memory back to the pool). For the last, short chunk of a body.
   */
  shrink(n: number): ChunkBuffer {
    const out = n >= OFF_THREAD_MIN ? ChunkBuffer.take(n, this.#grant) : ChunkBuffer.of(Buffer.allocUnsafe(n), this.#grant);
    this.bytes.copy(out.bytes, 0, 0, n);
    this.#grant = noGrant;
    this.release();
    return out;
  }

  /** Nothing references the bytes any more: the memory goes back to the pool, the grant to its budget. */
  release(): void {
    this.#finish('released');
  }

  /** Something may still reference the bytes: the memory is left to the GC, the grant goes back. */
  discard(): void {
    this.#finish('discarded');
  }

  #finish(how: 'released' | 'discarded'): void {
    if (this.#ended) return;
    this.#ended = how;
    this.#grant.release();
    this.#grant = noGrant;
    const mem = this.#mem;
    this.#mem = undefined;
    this.#view = undefined;
    // Memory on a hash worker (or lost with one) is not here to give back.
    if (how === 'released' && mem && this.#memory === 'pooled' && !this.#hashing && !this.#lost) giveBack(mem);
  }

  #set(mem: Buffer, memory: Memory, aligned: boolean): void {
    this.#mem = mem;
    this.#memory = memory;
    this.#aligned = aligned;
    this.#start = 0;
    this.#end = mem.length;
    this.#view = undefined;
  }
}

function giveBack(mem: Buffer): void {
  if (mem.length === 0 || freeBytes + mem.length > POOL_MAX_FREE_BYTES) return;
  let list = freeBySize.get(mem.length);
  if (!list) freeBySize.set(mem.length, (list = []));
  list.push(mem);
  freeBytes += mem.length;
  touchPool();
}
