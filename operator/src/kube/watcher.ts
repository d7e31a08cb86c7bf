// A watch that survives: list, then watch from the list's resourceVersion (with bookmarks);
// relist on 410 Gone; restart from the last resourceVersion on errors with backoff; treat a watch
// that has been silent for `staleAfterMs` as dead (kube-rs' lesson; client-node's informer does not
// reconnect reliably by itself). resourceVersions are opaque strings, never compared as numbers.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../../node-runtime/src/util/log.ts';
import { backoffDelay, sleep } from '../controller/backoff.ts';
import { collectionPath, isGone, KubeApiError, type KubeRest, type ResourceRef } from './rest.ts';

export interface KubeObjectLike { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: any }; [k: string]: any }
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatcherOptions {
  kc: KubeConfig;
  rest: KubeRest;
  resource: ResourceRef;
  namespace?: string;
  labelSelector?: string;
  staleAfterMs?: number;     // default 5.5 minutes (longer than the server's watch timeout)
  log: Logger;
  onEvent: (type: WatchEventType, obj: KubeObjectLike, old?: KubeObjectLike) => void;
}

export const objectKey = (o: { metadata: { name: string; namespace?: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class Watcher {
  private readonly cache = new Map<string, KubeObjectLike>();
  private readonly opts: WatcherOptions;
  private readonly abort = new AbortController();
  private current?: AbortController;
  private resourceVersion?: string;
  private loop?: Promise<void>;
  /** True after the first successful list. */
  synced = false;
  /** When the watch last proved alive (list, event, bookmark or clean reconnect). */
  lastHeardAt = 0;
  relists = 0;

  constructor(opts: WatcherOptions) { this.opts = opts; }

  start(): void { this.loop ??= this.run(); }

  async stop(): Promise<void> {
    this.abort.abort();
    this.current?.abort();
    await this.loop;
  }

  get(key: string): KubeObjectLike | undefined { return this.cache.get(key); }
  list(): KubeObjectLike[] { return [...this.cache.values()]; }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        const started = Date.now();
        const heard = this.lastHeardAt;
        const end = await this.watchOnce();
        if (end === 'stale') {
          this.opts.log.info({ resource: this.opts.resource.plural, silentMs: this.opts.staleAfterMs ?? 330_000 }, 'watch silent too long; treating it as dead and reconnecting');
          continue;
        }
        // A watch the server closes at once, without a word, is a failure (no hot reconnect loop).
        if (Date.now() - started < 1000 && this.lastHeardAt <= heard) throw new Error('watch closed immediately');
        failures = 0;
      } catch (e) {
        if (this.abort.signal.aborted) break;
        if (isGone(e)) { this.resourceVersion = undefined; continue; }
        failures++;
        const delay = backoffDelay(failures);
        this.opts.log.warn({ err: String(e), resource: this.opts.resource.plural, retryInMs: delay }, 'watch failed; restarting');
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.opts.rest.request<{ items?: KubeObjectLike[]; metadata?: { resourceVersion?: string } }>('GET', collectionPath(this.opts.resource, this.opts.namespace), { query: { labelSelector: this.opts.labelSelector } });
    const seen = new Set<string>();
    for (const item of (list.items ?? []) as KubeObjectLike[]) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, item);
      if (!old) this.opts.onEvent('ADDED', item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.opts.onEvent('MODIFIED', item, old);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) { this.cache.delete(key); this.opts.onEvent('DELETED', old); }
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.relists++;
    this.synced = true;
    this.lastHeardAt = Date.now();
  }

  private watchOnce(): Promise<'closed' | 'stale'> {
    return new Promise((resolve, reject) => {
      const w = new Watch(this.opts.kc);
      // client-node aborts a watch after this much silence: that is our "treat as dead" period.
      Reflect.set(w, 'requestTimeoutMs', this.opts.staleAfterMs ?? 330_000);
      let gone = false;
      const onEvent = (type: string, obj: any) => {
        this.lastHeardAt = Date.now();
        if (type === 'ERROR') {
          if (obj?.code === 410) gone = true;
          else this.opts.log.warn({ status: obj }, 'watch error event');
          return;
        }
        if (obj?.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        const key = objectKey(obj);
        const old = this.cache.get(key);
        if (type === 'DELETED') this.cache.delete(key);
        else this.cache.set(key, obj);
        this.opts.onEvent(type as WatchEventType, obj, old);
      };
      const done = (err: any) => {
        this.current = undefined;
        if (gone || err?.statusCode === 410) return reject(new KubeApiError(410, 'Expired', 'watch resourceVersion expired'));
        if (err?.name === 'TimeoutError') return resolve('stale');
        if (err && !this.abort.signal.aborted) return reject(err);
        this.lastHeardAt = Date.now();
        resolve('closed');
      };
      w.watch(collectionPath(this.opts.resource, this.opts.namespace), {
        resourceVersion: this.resourceVersion || undefined,
        allowWatchBookmarks: true,
        labelSelector: this.opts.labelSelector,
        timeoutSeconds: 240 + Math.floor(Math.random() * 60),
      }, onEvent, done).then((ctl) => {
        this.current = ctl;
        if (this.abort.signal.aborted) ctl.abort();
      }, reject);
    });
  }
}
