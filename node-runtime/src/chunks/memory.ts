// A node's budget for chunk buffers. Every large write holds a few chunks in memory (the one
// being filled from the socket and the ones being hashed and stored), every large read a few more
// (read-ahead). Per stream that is bounded, but not across streams: without a budget, 100 concurrent
// uploads would hold 100 × 16 MiB. The budget turns "more streams" into "streams wait for memory"
// (back pressure on their sockets) instead of "the node runs out of memory".
//
// Writes (and repair copies) take a grant per chunk and wait for one: a grant is given back when its
// chunk is stored, which needs no further grant, so waiting cannot deadlock. Read-ahead has a budget
// of its own and only *tries* for it, falling back to fetching on demand: a request that reads and
// writes at once (UploadPartCopy) holds read-ahead while its write side waits, and with one shared
// budget a few such copies could hold all of it and wait for each other forever.

export interface Grant {
  readonly bytes: number;
  /** Give the bytes back; idempotent (a second call does nothing). */
  release(): void;
}

export const noGrant: Grant = { bytes: 0, release() {} };

interface Waiter { bytes: number; resolve: (g: Grant) => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }

export class MemoryBudget {
  #limit: number;
  #used = 0;
  #waiting: Waiter[] = [];
  /** Times a writer had to wait for memory (diagnostics; the budget tests read it). */
  waits = 0;

  constructor(limitBytes: number) {
    if (!(limitBytes > 0)) throw new RangeError(`memory budget must be positive, got ${limitBytes}`);
    this.#limit = limitBytes;
  }

  get limit(): number { return this.#limit; }

  /** Change the limit at run time; writers waiting for memory get it at once if it now fits. */
  resize(limitBytes: number): void {
    if (!(limitBytes > 0)) throw new RangeError(`memory budget must be positive, got ${limitBytes}`);
    this.#limit = limitBytes;
    this.#wake();
  }

  get used(): number { return this.#used; }
  get waiters(): number { return this.#waiting.length; }

  /** A grant of `bytes` now, or undefined when it would exceed the budget (or others wait first). */
  tryTake(bytes: number): Grant | undefined {
    if (bytes <= 0) return noGrant;
    if (this.#waiting.length > 0 || !this.#fits(bytes)) return undefined;
    return this.#grant(bytes);
  }

  /**
   * A grant of `bytes`, waiting in turn (FIFO) until it fits. A request larger than the whole budget
   * is granted when nothing else is held, so it can never wait forever. Rejects when `signal` aborts.
   */
  take(bytes: number, signal?: AbortSignal): Promise<Grant> {
    const now = this.tryTake(bytes);
    if (now) return Promise.resolve(now);
    signal?.throwIfAborted();
    this.waits++;
    return new Promise<Grant>((resolve, reject) => {
      const w: Waiter = { bytes, resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.#waiting.indexOf(w);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal.reason);
          this.#wake();   // the head may have been the one blocking smaller requests behind it
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#waiting.push(w);
    });
  }

  #fits(bytes: number): boolean {
    return this.#used + bytes <= this.#limit || this.#used === 0;
  }

  #grant(bytes: number): Grant {
    this.#used += bytes;
    let held = true;
    return {
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        this.#used -= bytes;
        this.#wake();
      },
    };
  }

  #wake(): void {
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0].bytes)) {
      const w = this.#waiting.shift()!;
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.resolve(this.#grant(w.bytes));
    }
  }
}

/** Of a node's buffer memory (--buffer-memory, default 48 MiB), the share for read-ahead. */
const READ_AHEAD_SHARE = 0.25;

/** The buffer memory of one node, split in its two budgets; the node's composition root makes one. */
export class BufferMemory {
  /** Chunk buffers of uploads and repair copies: 36 MiB of the default 48, nine 4 MiB chunks. */
  readonly chunks: MemoryBudget;
  /** Read-ahead of GETs (only ever tried for): 12 MiB of the default 48. */
  readonly readAhead: MemoryBudget;

  constructor(totalBytes: number) {
    this.chunks = new MemoryBudget(totalBytes * (1 - READ_AHEAD_SHARE));
    this.readAhead = new MemoryBudget(totalBytes * READ_AHEAD_SHARE);
  }

  /** Change the node's buffer memory (both budgets) at run time. */
  resize(totalBytes: number): void {
    this.chunks.resize(totalBytes * (1 - READ_AHEAD_SHARE));
    this.readAhead.resize(totalBytes * READ_AHEAD_SHARE);
  }
}
