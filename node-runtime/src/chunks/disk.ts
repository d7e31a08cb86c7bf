// The health of a member's data disk, watched while the node runs. Two ways a disk stops being
// usable without the process noticing by itself:
// - it fills up: below its reserve the member takes no new chunks (placement skips it for them,
//   data/write-path.ts), still serves what it holds, and takes chunks again once 1.5× the reserve is
//   free (the margin keeps a disk near the line from flapping);
// - it goes away: the data directory is renamed, unmounted or replaced under the running process,
//   or the disk answers I/O errors. The member is then `failed` for good (until restarted): it leaves
//   readiness, the roots mark it down, and repair rebuilds its copies on the others.
// The monitor looks every few seconds and at once when the chunk store reports an error.
import { stat, statfs } from 'node:fs/promises';
import type { DiskState } from '../cluster/types.ts';
import { logger } from '../util/log.ts';

export type { DiskState };

const log = logger('disk');

export interface DiskStatus {
  state: DiskState;
  freeBytes: number;
  capacityBytes: number;
  /** Free bytes below which no new chunk is taken. */
  reserveBytes: number;
  reason: string;
}

/** The reserve unless configured: 1 % of the disk, at least 256 MiB, at most 8 GiB. */
export function defaultReserve(capacityBytes: number): number {
  return Math.min(8 * 1024 ** 3, Math.max(256 * 1024 ** 2, Math.floor(capacityBytes / 100)));
}

/** Error codes that mean the disk (not the request) is broken. */
const diskFailures = new Set(['EIO', 'EROFS', 'ENODEV', 'ENXIO', 'ESTALE']);

export interface DiskMonitorOptions {
  dir: string;
  reserveBytes?: number;
  intervalMs?: number;
  /** A volume smaller than its file system (a claim the provisioner does not enforce): its size and free space. */
  volume?: () => Promise<{ capacityBytes: number; freeBytes: number } | undefined>;
  /** Test seams: the file system calls. */
  statfs?: (dir: string) => Promise<{ bavail: number; bsize: number; blocks: number }>;
  stat?: (dir: string) => Promise<{ dev: number; ino: number }>;
}

export class DiskMonitor {
  readonly #o: DiskMonitorOptions;
  #identity: { dev: number; ino: number } | undefined;
  #status: DiskStatus = { state: 'ok', freeBytes: 0, capacityBytes: 0, reserveBytes: 0, reason: 'not checked yet' };
  #failed: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<DiskStatus> | undefined;
  readonly #listeners = new Set<(s: DiskStatus) => void>();

  constructor(o: DiskMonitorOptions) {
    this.#o = o;
  }

  /** Remember which directory is the data directory, check once and keep checking. */
  async start(): Promise<DiskStatus> {
    this.#identity = await (this.#o.stat ?? stat)(this.#o.dir);
    const s = await this.check();
    this.#timer = setInterval(() => void this.check(), this.#o.intervalMs ?? 2_000);
    this.#timer.unref();
    return s;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The last verdict. */
  get status(): DiskStatus {
    return this.#status;
  }

  /** Told of every change of state. */
  onChange(listener: (s: DiskStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The chunk store failed an operation with `err`: an I/O error fails the disk; anything else that
   * may be the disk's doing (no space, the directory gone) is checked at once.
   */
  sawError(err: unknown): void {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code && diskFailures.has(code)) this.#fail(`${code} from the data disk: ${(err as Error).message}`);
    if (code === 'ENOSPC' || code === 'ENOENT' || (code && diskFailures.has(code))) void this.check();
  }

  /** Look now (one look at a time). */
  check(): Promise<DiskStatus> {
    this.#checking ??= this.#look().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #look(): Promise<DiskStatus> {
    const prev = this.#status;
    let next: DiskStatus;
    try {
      const now = await (this.#o.stat ?? stat)(this.#o.dir);
      if (this.#identity && (now.dev !== this.#identity.dev || now.ino !== this.#identity.ino)) {
        this.#fail(`the data directory ${this.#o.dir} was replaced under the running node (another directory or mount is there now)`);
      }
      const fs = await (this.#o.statfs ?? statfs)(this.#o.dir);
      const volume = await this.#o.volume?.();
      const freeBytes = Math.min(fs.bavail * fs.bsize, volume?.freeBytes ?? Infinity);
      const capacityBytes = Math.min(fs.blocks * fs.bsize, volume?.capacityBytes ?? Infinity);
      const reserveBytes = this.#o.reserveBytes ?? defaultReserve(capacityBytes);
      // Hysteresis: full below the reserve, usable again only above 1.5× it.
      const full = prev.state === 'full' ? freeBytes < reserveBytes * 1.5 : freeBytes < reserveBytes;
      next = this.#failed
        ? { state: 'failed', freeBytes, capacityBytes, reserveBytes, reason: this.#failed }
        : full
          ? {
              state: 'full',
              freeBytes,
              capacityBytes,
              reserveBytes,
              reason: `only ${mib(freeBytes)} free on the data disk, below its reserve of ${mib(reserveBytes)}: no new chunks are stored here`,
            }
          : { state: 'ok', freeBytes, capacityBytes, reserveBytes, reason: 'ok' };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.#fail(
        code === 'ENOENT'
          ? `the data directory ${this.#o.dir} is gone (renamed, deleted or unmounted under the running node)`
          : `the data disk cannot be read: ${(e as Error).message}`,
      );
      next = { ...prev, state: 'failed', reason: this.#failed! };
    }
    this.#status = next;
    if (next.state !== prev.state) {
      log[next.state === 'ok' ? 'info' : 'error'](
        { dir: this.#o.dir, state: next.state, was: prev.state, freeBytes: next.freeBytes, reason: next.reason },
        'data disk state',
      );
      for (const l of this.#listeners) l(next);
    }
    return next;
  }

  #fail(reason: string): void {
    this.#failed ??= reason;
  }
}

const mib = (b: number) => `${(b / 1024 ** 2).toFixed(0)} MiB`;
