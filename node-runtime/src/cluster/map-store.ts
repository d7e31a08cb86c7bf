// The cluster maps on disk: the roots' authoritative copy and every node's cache. One JSON file,
// replaced atomically (write a temp file, fsync, rename over, fsync the directory), so after a crash
// the file is either the old or the new state, never a torn mix. A file and not lmdb because the
// maps are small (kilobytes), always read and written whole, merged in memory, and a person
// debugging a cluster can read them with `cat`; losing the last write is harmless because every
// peer pushes its maps again on the next heartbeat and the merge restores it.
//
// For the same reason a change that only heartbeats make (liveness times, usage figures) is written
// at most every VOLATILE_SAVE_MS: every member sends them again each second, so the copy on disk
// only needs to be roughly current. Writing each one cost an idle cluster two fsyncs per second on
// every process (the roots' maps and every node's cache).
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { emptyMaps, mergeMaps, stableFingerprint, type ClusterMaps } from './maps.ts';
import { logger } from '../util/log.ts';

const log = logger('cluster');

/** How long a change that only heartbeats made may wait to be written. */
export const VOLATILE_SAVE_MS = 30_000;

export class MapStore {
  readonly path: string;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #pending: ClusterMaps | undefined;
  /** The write not yet begun: it takes `#pending` as it is when it begins. */
  #next: Promise<void> | undefined;
  /** When the scheduled write fires (ms since epoch). */
  #due = 0;
  /** The stable part (stableFingerprint) of what is on disk or scheduled to be. */
  #stable: string | undefined;
  #closed = false;

  constructor(path: string) {
    this.path = path;
  }

  static forDataDir(dataDir: string, name: 'root-maps' | 'cached-maps'): MapStore {
    return new MapStore(join(dataDir, 'cluster', `${name}.json`));
  }

  /** The stored maps, or empty maps when there is no file yet. A corrupt file is logged and ignored (peers refill it). */
  async load(): Promise<ClusterMaps> {
    const maps = emptyMaps();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return maps;
      throw e;
    }
    try {
      mergeMaps(maps, JSON.parse(text) as Partial<ClusterMaps>);
    } catch (e) {
      log.error({ err: e, path: this.path }, 'cluster map file unreadable; starting empty');
    }
    this.#stable = stableFingerprint(maps);
    return maps;
  }

  /**
   * Write now (durable when the promise resolves). Writes are serialised, and the saves made while
   * one is under way share the next: it takes the maps as they are when it begins, so it holds every
   * change saved before it. (A root answers registry writes only once they are durable: eight bucket
   * creations at once were eight whole-map writes in a row, each with two fsyncs.)
   */
  save(maps: ClusterMaps): Promise<void> {
    if (this.#closed) return this.#writing;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = maps;
    this.#next ??= this.#writing
      .then(() => {
        this.#next = undefined;
        const now = this.#pending!;
        this.#stable = stableFingerprint(now);
        return this.#write(JSON.stringify(now));
      })
      .catch((e) => {
        log.error({ err: e, path: this.path }, 'cluster map write failed');
      });
    this.#writing = this.#next;
    return this.#next;
  }

  /**
   * Write `maps` within `delayMs`, coalescing the changes made meanwhile into that one write; within
   * VOLATILE_SAVE_MS when nothing but heartbeat fields changed since the last write. A write already
   * due sooner stays due then. `stable`: the maps' stableFingerprint when the caller has it;
   * 'unchanged' when it knows only heartbeat fields changed (a root's heartbeat), 'changed' when it
   * knows more did (a member merging a registry write): either way no fingerprint of the whole maps
   * per call, which with thousands of buckets costs more than the write it decides on.
   */
  schedule(maps: ClusterMaps, o: { delayMs?: number; stable?: string | 'unchanged' | 'changed' } = {}): void {
    if (this.#closed) return;
    this.#pending = maps;
    const delayMs = o.delayMs ?? 500;
    // undefined: changed, not worked out (the write works it out).
    const stable =
      o.stable === 'changed' ? undefined : o.stable === 'unchanged' ? (this.#stable ?? stableFingerprint(maps)) : (o.stable ?? stableFingerprint(maps));
    const wait = stable !== undefined && stable === this.#stable ? Math.max(delayMs, VOLATILE_SAVE_MS) : delayMs;
    this.#stable = stable;
    const due = Date.now() + wait;
    if (this.#timer && this.#due <= due) return;
    clearTimeout(this.#timer);
    this.#due = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#pending) void this.save(this.#pending);
    }, wait);
    this.#timer.unref();
  }

  async flush(): Promise<void> {
    if (this.#timer && this.#pending) await this.save(this.#pending);
    await this.#writing;
  }

  /** Write what is pending, then ignore further changes (the process is stopping). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #write(text: string): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fd = await open(tmp, 'w');
    try {
      await fd.writeFile(text);
      await fd.sync();
    } finally {
      await fd.close();
    }
    await rename(tmp, this.path);
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
