// The store on disk: one JSON snapshot written atomically (temp file + rename), debounced, so a
// restarted server keeps every object and the resourceVersion counter (the watch window restarts).
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store, StoreSnapshot } from './store.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';

const log = logger('kube-apiserver');

export function loadSnapshot(file: string): StoreSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  let data: StoreSnapshot;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as StoreSnapshot;
  } catch (e) {
    throw new Error(`${file} is not an API server snapshot: ${(e as Error).message}`);
  }
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
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failed background write is logged and retried on the next change, never a crash.
      try {
        this.flush();
      } catch (err) {
        this.dirty = true;
        log.error({ err, file: this.file }, 'writing the API server snapshot failed');
      }
    }, this.delayMs);
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
