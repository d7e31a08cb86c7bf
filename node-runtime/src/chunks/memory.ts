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
//
// A chunk being filled from a client's body holds its grant while the client sends it, so a client
// that announces a large body, sends a little and goes silent would hold chunk memory for as long as
// its connection lives: nine of them held the whole default budget and every other upload waited.
// Such grants are taken as fills (`onStall`): the filler reports progress on every piece, and while
// anybody waits for memory, a fill that made no progress for `stallMs` is told to give up (its
// request fails with RequestTimeout and its chunk is released). A sender that keeps sending, or a
// quiet one while memory is plentiful, is never disturbed.

export interface Grant {
  readonly bytes: number;
  /** Give the bytes back; idempotent (a second call does nothing). */
  release(): void;
  /** A fill's grant (TakeOptions.onStall): bytes arrived, the sender is not stalled. */
  progress?(): void;
  /** A fill's grant: the chunk is full; from now on it is an ordinary grant, never reclaimed. */
  filled?(): void;
}

export const noGrant: Grant = { bytes: 0, release() {} };

/** How long a fill may go without progress while others wait for memory, unless told otherwise. */
export const DEFAULT_STALL_MS = 2_000;

export interface TakeOptions {
  /** The grant fills a chunk from a sender that may stall: called (once) when it made no progress
   *  for the stall time while others wait; the holder must then give the grant back soon. */
  onStall?: () => void;
}

interface Fill {
  last: number;
  onStall: () => void;
  stalled: boolean;
}

interface Waiter {
  bytes: number;
  since: number;
  resolve: (g: Grant) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class MemoryBudget {
  #limit: number;
  #used = 0;
  #waiting: Waiter[] = [];
  readonly #fills = new Set<Fill>();
  readonly #stallMs: number;
  #stallTimer: NodeJS.Timeout | undefined;
  /** Times a writer had to wait for memory (diagnostics; the budget tests read it). */
  waits = 0;
  /** Fills told to give up because their sender stalled while others waited. */
  reclaimed = 0;

  constructor(limitBytes: number, opts: { stallMs?: number } = {}) {
    if (!(limitBytes > 0)) throw new RangeError(`memory budget must be positive, got ${limitBytes}`);
    this.#limit = limitBytes;
    this.#stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Change the limit at run time; writers waiting for memory get it at once if it now fits. */
  resize(limitBytes: number): void {
    if (!(limitBytes > 0)) throw new RangeError(`memory budget must be positive, got ${limitBytes}`);
    this.#limit = limitBytes;
    this.#wake();
  }

  get used(): number {
    return this.#used;
  }
  get waiters(): number {
    return this.#waiting.length;
  }
  /** How long the writer first in line has waited, ms (0 when nobody waits): the queue's delay. */
  get oldestWaitMs(): number {
    return this.#waiting.length ? Date.now() - this.#waiting[0]!.since : 0;
  }

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
  take(bytes: number, signal?: AbortSignal, opts: TakeOptions = {}): Promise<Grant> {
    const fill = opts.onStall ? this.#asFill(opts.onStall) : (g: Grant) => g;
    const now = this.tryTake(bytes);
    if (now) return Promise.resolve(fill(now));
    signal?.throwIfAborted();
    this.waits++;
    return new Promise<Grant>((resolve, reject) => {
      const w: Waiter = { bytes, since: Date.now(), resolve: (g) => resolve(fill(g)), reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.#waiting.indexOf(w);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal.reason);
          this.#wake(); // the head may have been the one blocking smaller requests behind it
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#waiting.push(w);
      this.#watchStalls();
    });
  }

  /** Wrap a grant as a fill: tracked for progress until released. */
  #asFill(onStall: () => void): (g: Grant) => Grant {
    return (g) => {
      const f: Fill = { last: Date.now(), onStall, stalled: false };
      this.#fills.add(f);
      return {
        bytes: g.bytes,
        progress: () => {
          f.last = Date.now();
        },
        filled: () => {
          this.#fills.delete(f);
        },
        release: () => {
          this.#fills.delete(f);
          g.release();
        },
      };
    };
  }

  // While writers wait, look for fills whose sender went quiet, a few times per stall period.
  #watchStalls(): void {
    this.#reclaimStalled();
    if (this.#stallTimer || this.#waiting.length === 0) return;
    this.#stallTimer = setInterval(
      () => {
        if (this.#waiting.length === 0) {
          clearInterval(this.#stallTimer);
          this.#stallTimer = undefined;
          return;
        }
        this.#reclaimStalled();
      },
      Math.max(50, this.#stallMs / 4),
    );
    this.#stallTimer.unref();
  }

  #reclaimStalled(): void {
    const now = Date.now();
    for (const f of this.#fills) {
      if (f.stalled || now - f.last < this.#stallMs) continue;
      f.stalled = true;
      this.reclaimed++;
      f.onStall();
    }
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
