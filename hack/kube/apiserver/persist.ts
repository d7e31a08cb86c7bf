// The store on disk: one JSON snapshot written atomically (temp file + rename), debounced, so a
// restarted server keeps every object and the resourceVersion counter (the watch window restarts).
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store, StoreSnapshot } from './store.ts';

export function loadSnapshot(file: string): StoreSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  const data = JSON.parse(readFileSync(file, 'utf8')) as StoreSnapshot;
  if (typeof data.resourceVersion !== 'number' || !Array.isArray(data.objects)) throw new Error(`${file} is not an API server snapshot`);
  return data;
}

export function writeSnapshot(file: string, snap: StoreSnapshot): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snap));
  renameSync(tmp, file);
}

/** Write the store after changes settle (at most every `delayMs`); flush() writes now. */
export class Persister {
  private timer?: NodeJS.Timeout;
  private dirty = false;
  private readonly unsubscribe: () => void;
  private readonly store: Store;
  private readonly file: string;
  private readonly delayMs: number;

  constructor(store: Store, file: string, delayMs = 100) {
    this.store = store;
    this.file = file;
    this.delayMs = delayMs;
    this.unsubscribe = store.subscribe(() => this.schedule());
  }

  private schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, this.delayMs);
  }

  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    writeSnapshot(this.file, this.store.snapshot());
  }

  close(): void {
    this.unsubscribe();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
