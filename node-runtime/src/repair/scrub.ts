// Scrub: a paced background pass that re-reads and re-hashes every chunk stored on this member.
// A copy that fails its hash (bit rot, a torn or tampered file) is replaced from a replica that
// verifies — read through the same ranked sources as the read path, never from itself — and the
// finding is counted. Chunks that should be here but are missing are the repair worker's job (its
// desired-holder check copies them back). Paced by its own byte rate so it never starves clients.
import type { ChunkBuffer } from '../chunks/buffer.ts';
import type { ClusterView } from '../cluster/types.ts';
import type { ChunkStore } from '../chunks/store.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import { isChunkError } from '../chunks/errors.ts';
import { rankAll } from '../cluster/placement.ts';
import type { Worker, WorkerState } from '../util/background.ts';
import { TokenBucket } from '../util/throttle.ts';
import { logger } from '../util/log.ts';
import type { NodeMetrics } from '../observability/metrics.ts';

const log = logger('scrub');

export interface ScrubOptions {
  view: ClusterView;
  replicas: ReplicaDirectory;
  chunks: ChunkStore;
  bytesPerSec?: number; // default 64 MiB/s
  intervalMs?: number; // pause between passes, default 24 h
  batch?: number; // chunks per step
  metrics?: NodeMetrics; // where findings are counted
  /** False while the data disk has failed: nothing to scrub, and every read would be an error. */
  diskUsable?: () => boolean;
}

export interface ScrubStatus {
  passes: number;
  checked: number;
  corrupt: number;
  repaired: number;
  unrepaired: number;
  lastPassAt: number;
}

export class ScrubWorker implements Worker {
  readonly name = 'scrub';
  readonly status: ScrubStatus = { passes: 0, checked: 0, corrupt: 0, repaired: 0, unrepaired: 0, lastPassAt: 0 };
  readonly #o: ScrubOptions;
  readonly #pace: TokenBucket;
  #pending: string[] | undefined;
  #nextPassAt = 0;
  #passStarted = 0;

  constructor(o: ScrubOptions) {
    this.#o = o;
    this.#pace = new TokenBucket(o.bytesPerSec ?? 64 * 1024 * 1024);
  }

  /** Start a pass now (tests, admin). */
  scrubNow(): void {
    this.#nextPassAt = 0;
  }

  async step(signal: AbortSignal): Promise<WorkerState> {
    if (this.#o.diskUsable?.() === false) {
      this.#pending = undefined;
      return 'idle';
    }
    if (!this.#pending) {
      if (Date.now() < this.#nextPassAt) return 'idle';
      this.#pending = [];
      for await (const id of this.#o.chunks.ids()) this.#pending.push(id);
      this.#passStarted = Date.now();
    }
    for (const id of this.#pending.splice(0, this.#o.batch ?? 32)) {
      signal.throwIfAborted();
      await this.check(id, signal);
    }
    if (this.#pending.length > 0) return 'busy';
    this.#pending = undefined;
    this.status.passes++;
    this.status.lastPassAt = this.#passStarted;
    this.#o.metrics?.scrubPasses.inc();
    this.#nextPassAt = Date.now() + (this.#o.intervalMs ?? 24 * 3600_000);
    return 'idle';
  }

  /** Verify one chunk; replace a corrupt copy from a good replica. */
  async check(id: string, signal?: AbortSignal): Promise<'ok' | 'repaired' | 'unrepaired' | 'gone'> {
    let size = 0;
    try {
      const data = await this.#o.chunks.get(id);
      size = data.length;
      data.release();
      this.status.checked++;
      this.#o.metrics?.scrubChunksChecked.inc();
      await this.#pace.take(size, signal);
      return 'ok';
    } catch (e) {
      if (isChunkError(e) && e.code === 'ChunkNotFound') return 'gone'; // deleted meanwhile (GC, drop)
      const reason = isChunkError(e) && e.code === 'ChunkCorrupt' ? 'corrupt' : 'io';
      this.status.checked++;
      this.status.corrupt++;
      this.#o.metrics?.scrubChunksChecked.inc();
      this.#o.metrics?.scrubErrors.inc({ reason });
      log.error({ chunk: id, reason, err: (e as Error).message }, 'scrub found a bad chunk copy');
    }
    const good = await this.#fetchGood(id, signal);
    if (!good) {
      this.status.unrepaired++;
      log.error({ chunk: id }, 'no good replica found; the bad copy is kept out of reads (reads verify) until one appears');
      return 'unrepaired';
    }
    try {
      await this.#o.chunks.put(id, good, good.length, signal); // replaces a corrupt copy atomically
    } finally {
      good.release();
    }
    this.status.repaired++;
    log.warn({ chunk: id, bytes: good.length }, 'corrupt chunk replaced from a replica');
    return 'repaired';
  }

  async #fetchGood(id: string, signal?: AbortSignal): Promise<ChunkBuffer | undefined> {
    const { view, replicas } = this.#o;
    for (const m of rankAll(id, view.members())) {
      if (m.id === view.selfId || m.state === 'down') continue;
      let data: ChunkBuffer | undefined;
      try {
        data = await replicas.chunks(m.id).getChunk(id, undefined, signal, true); // hashed here
        if ((await data.hash()) === id) return data;
      } catch {
        /* try the next replica */
      }
      data?.release();
    }
    return undefined;
  }
}
