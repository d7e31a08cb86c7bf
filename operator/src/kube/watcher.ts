// The one list-watch cache of the project (client-go's reflector + store), used by the operator and
// by the local control plane in hack/kube (its controllers and kubelet). It lists, then watches
// from the list's resourceVersion (with bookmarks); relists on 410 Gone; restarts from the last
// resourceVersion with backoff on errors (an ERROR event that is not 410 included, as client-go
// does); and treats a watch silent for `staleAfterMs` as dead (kube-rs' lesson: client-node's
// informer does not reliably reconnect by itself). resourceVersions are opaque strings, never
// compared as numbers. Objects are kept as plain JSON, keyed as client-go keys them.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { logger, type Logger } from '../../../node-runtime/src/util/log.ts';
import { backoffDelay, sleep } from '../controller/backoff.ts';
import { collectionPath, isGone, KubeApiError, KubeRest, type ResourceRef } from './rest.ts';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** An object as the API delivers it: plain JSON, typed as far as caches and owners need. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
  };
  // Kind-specific fields (spec, status, data, ...): readers narrow them where they use them.
  [field: string]: any;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
/** Called for every change; `old` is the cached object before it (MODIFIED, DELETED). */
export type WatchHandler = (type: WatchEventType, obj: KubeObject, old?: KubeObject) => void;

export interface WatcherOptions {
  kc: KubeConfig;
  /** For the lists; default a KubeRest on `kc`. */
  rest?: KubeRest;
  resource: ResourceRef;
  namespace?: string; // default: all namespaces
  labelSelector?: string;
  staleAfterMs?: number; // default 5.5 minutes (longer than the server's watch timeout)
  log?: Logger;
  onEvent?: WatchHandler;
  /** Called after every successful (re)list, so consumers can resync from the fresh cache. */
  onSync?: () => void;
}

/** The cache key of an object: namespace/name, or name for cluster-scoped objects. */
export const objectKey = (o: { metadata: { name: string; namespace?: string } }) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

export class Watcher {
  private readonly cache = new Map<string, KubeObject>();
  private readonly opts: WatcherOptions;
  private readonly rest: KubeRest;
  private readonly log: Logger;
  private readonly handlers: WatchHandler[] = [];
  private readonly syncHandlers: (() => void)[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private current?: AbortController;
  private resourceVersion?: string;
  private loop?: Promise<void>;
  /** True after the first successful list. */
  synced = false;
  /** When the watch last proved alive (list, event, bookmark or clean reconnect). */
  lastHeardAt = 0;
  relists = 0;

  constructor(opts: WatcherOptions) {
    this.opts = opts;
    this.rest = opts.rest ?? new KubeRest(opts.kc);
    this.log = opts.log ?? logger('watch', { resource: opts.resource.plural });
    if (opts.onEvent) this.handlers.push(opts.onEvent);
    if (opts.onSync) this.syncHandlers.push(opts.onSync);
  }

  /** One more consumer of this cache (shared informers): told of every change / every relist. */
  addHandler(onEvent: WatchHandler, onSync?: () => void): void {
    this.handlers.push(onEvent);
    if (onSync) this.syncHandlers.push(onSync);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.current?.abort();
    await this.loop;
  }

  /** Resolves once the first list has filled the cache. */
  waitSynced(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncWaiters.push(r));
  }

  get(key: string): KubeObject | undefined {
    return this.cache.get(key);
  }
  list(): KubeObject[] {
    return [...this.cache.values()];
  }

  private emit(type: WatchEventType, obj: KubeObject, old?: KubeObject): void {
    // A consumer's bug must not kill the watch every other consumer depends on.
    for (const h of this.handlers) {
      try {
        h(type, obj, old);
      } catch (e) {
        this.log.warn({ err: String(e), resource: this.opts.resource.plural }, 'watch handler failed');
      }
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        const started = Date.now();
        const heard = this.lastHeardAt;
        const end = await this.watchOnce();
        if (end === 'stale') {
          this.log.info(
            { resource: this.opts.resource.plural, silentMs: this.opts.staleAfterMs ?? 330_000 },
            'watch silent too long; treating it as dead and reconnecting',
          );
          continue;
        }
        // A watch the server closes at once, without a word, is a failure (no hot reconnect loop).
        if (Date.now() - started < 1000 && this.lastHeardAt <= heard) throw new Error('watch closed immediately');
        failures = 0;
      } catch (e) {
        if (this.abort.signal.aborted) break;
        if (isGone(e)) {
          this.resourceVersion = undefined;
          continue;
        }
        failures++;
        const delay = backoffDelay(failures);
        this.log.warn({ err: String(e), resource: this.opts.resource.plural, retryInMs: delay }, 'watch failed; restarting');
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.rest.request<{ items?: KubeObject[]; metadata?: { resourceVersion?: string } }>(
      'GET',
      collectionPath(this.opts.resource, this.opts.namespace),
      { query: { labelSelector: this.opts.labelSelector } },
    );
    const fresh = new Map((list.items ?? []).map((item) => [objectKey(item), item]));
    // Deliver the difference, so consumers see what changed (and went) while the watch was down.
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit('DELETED', old, old);
      }
    }
    for (const [key, item] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, item);
      if (!old) this.emit('ADDED', item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit('MODIFIED', item, old);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.relists++;
    this.lastHeardAt = Date.now();
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    for (const h of this.syncHandlers) {
      try {
        h();
      } catch (e) {
        this.log.warn({ err: String(e), resource: this.opts.resource.plural }, 'sync handler failed');
      }
    }
  }

  private watchOnce(): Promise<'closed' | 'stale'> {
    return new Promise((resolve, reject) => {
      const w = new Watch(this.opts.kc);
      // client-node aborts a watch after this much silence: that is our "treat as dead" period.
      Reflect.set(w, 'requestTimeoutMs', this.opts.staleAfterMs ?? 330_000);
      let gone = false;
      let failed: Error | undefined;
      const onEvent = (type: string, obj: KubeObject & { code?: number; message?: string }) => {
        this.lastHeardAt = Date.now();
        if (type === 'ERROR') {
          // A metav1.Status: 410 means relist; anything else ends this watch, resumed after backoff.
          if (obj?.code === 410) gone = true;
          else failed ??= new Error(`watch error event: ${obj?.code ?? ''} ${obj?.message ?? JSON.stringify(obj)}`);
          this.current?.abort();
          return;
        }
        if (obj?.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        const key = objectKey(obj);
        const old = this.cache.get(key);
        if (type === 'DELETED') this.cache.delete(key);
        else this.cache.set(key, obj);
        this.emit(type === 'ADDED' && old ? 'MODIFIED' : (type as WatchEventType), obj, old);
      };
      const done = (err: unknown) => {
        this.current = undefined;
        if (gone || (err as { statusCode?: number } | null)?.statusCode === 410)
          return reject(new KubeApiError(410, 'Expired', 'watch resourceVersion expired'));
        if (failed) return reject(failed);
        if ((err as Error | null)?.name === 'TimeoutError') return resolve('stale');
        if (err && !this.abort.signal.aborted) return reject(err);
        this.lastHeardAt = Date.now();
        resolve('closed');
      };
      w.watch(
        collectionPath(this.opts.resource, this.opts.namespace),
        {
          resourceVersion: this.resourceVersion || undefined,
          allowWatchBookmarks: true,
          labelSelector: this.opts.labelSelector,
          timeoutSeconds: 240 + Math.floor(Math.random() * 60),
        },
        onEvent,
        done,
      ).then((ctl) => {
        this.current = ctl;
        if (this.abort.signal.aborted || gone || failed) ctl.abort();
      }, reject);
    });
  }
}
