// The outbox's consumer cursors and its epoch, kept in one small JSON file replaced atomically.
//
// A cursor is the sequence number a consumer reads next. It moves in memory at once and reaches
// disk soon after (one write at a time; commits made meanwhile go into the next write), so a
// delivery worker never waits for a file write per event. A cursor is only ever moved past events
// the target acknowledged, so losing the latest write in a crash re-delivers a few events (at least
// once), never skips one. The epoch names this outbox's lifetime: if the directory is lost and the
// sequence starts over, cursors that clients hold from before no longer match it.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { randomHex } from '../util/random.ts';

const FILE = 'cursors.json';

interface State {
  epoch: string;
  cursors: Record<string, number>;
}

async function writeAtomically(dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  const d = await open(dir, 'r'); // the rename itself is durable once the directory is synced
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export class CursorStore {
  readonly epoch: string;
  private readonly dir: string;
  private readonly current: Map<string, number>;
  private saved: Map<string, number>;
  private dirty = false;
  private writing?: Promise<void>;
  private lastError?: unknown;
  private readonly onSaved: () => void;

  private constructor(dir: string, state: State, onSaved: () => void) {
    this.dir = dir;
    this.epoch = state.epoch;
    this.current = new Map(Object.entries(state.cursors));
    this.saved = new Map(this.current);
    this.onSaved = onSaved;
  }

  /** The cursors of `dir`, or a fresh epoch and none (written before this resolves). */
  static async open(dir: string, onSaved: () => void = () => {}): Promise<CursorStore> {
    let state: State | undefined;
    try {
      state = JSON.parse(await readFile(join(dir, FILE), 'utf8')) as State;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`outbox cursors in ${dir} are unreadable`, { cause: e });
    }
    if (!state) {
      state = { epoch: randomHex(6), cursors: {} };
      await writeAtomically(dir, FILE, JSON.stringify(state));
    }
    return new CursorStore(dir, state, onSaved);
  }

  get(name: string): number | undefined {
    return this.current.get(name);
  }
  names(): string[] {
    return [...this.current.keys()];
  }

  /** The cursor a crash would leave (what is on disk), or the in-memory one while it was never saved. */
  durable(name: string): number | undefined {
    return this.saved.get(name) ?? this.current.get(name);
  }

  set(name: string, seq: number): void {
    if (this.current.get(name) === seq) return;
    this.current.set(name, seq);
    this.schedule();
  }

  delete(name: string): void {
    if (this.current.delete(name)) this.schedule();
  }

  /** Resolves once every change made so far is on disk; throws the last write error if one failed. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.dirty) {
      this.schedule();
      await this.writing;
    }
    if (this.lastError) throw this.lastError;
  }

  private schedule(): void {
    this.dirty = true;
    this.writing ??= this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const snapshot = new Map(this.current);
        try {
          await writeAtomically(this.dir, FILE, JSON.stringify({ epoch: this.epoch, cursors: Object.fromEntries(snapshot) } satisfies State));
          this.saved = snapshot;
          this.lastError = undefined;
          this.onSaved();
        } catch (e) {
          this.lastError = e; // kept for flush(); the next set() or flush() tries again
          this.dirty = true;
          return;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
