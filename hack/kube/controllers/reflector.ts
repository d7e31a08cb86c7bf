// A list+watch cache of one resource (the client-go "reflector"), built on @kubernetes/client-node's
// Watch only for the streaming part: the client's own informer does not reliably reconnect, so the
// loop here owns it. It lists, watches from the list's resourceVersion, resumes from the last seen
// version when a watch ends, relists on 410 Gone (or an ERROR event), and backs off with jitter on
// errors (0.8 s → 30 s, as kube-rs does). Objects are kept as plain JSON keyed by namespace/name.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { logger } from '../../../node-runtime/src/util/log.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>;
    annotations?: Record<string, string>; deletionTimestamp?: string; ownerReferences?: OwnerReference[]; generation?: number;
    finalizers?: string[]; creationTimestamp?: string; [k: string]: unknown };
  [k: string]: any;
}

export interface OwnerReference { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }

export type ChangeKind = 'add' | 'update' | 'delete';
export type ChangeHandler = (kind: ChangeKind, obj: KubeObject, old?: KubeObject) => void;

export interface ReflectorOptions {
  kubeConfig: KubeConfig;
  /** Collection path for watching, e.g. `/api/v1/pods` (all namespaces). */
  path: string;
  /** The list call (a typed client-node list method); must return items and metadata.resourceVersion. */
  list: () => Promise<{ items: unknown[]; metadata?: { resourceVersion?: string } }>;
  fieldSelector?: string;
  labelSelector?: string;
  onChange?: ChangeHandler;
  /** Called after every successful (re)list with the fresh cache, so consumers can resync. */
  onSync?: () => void;
}

export function objectKey(obj: { metadata: { name: string; namespace?: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

/** Backoff for attempt n (0-based): 0.8 s doubling to 30 s, with ±20 % jitter. */
export function backoffMs(attempt: number, baseMs = 800, capMs = 30_000): number {
  const raw = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

// Typed list results carry Date objects; the watch carries JSON. One JSON round trip makes both plain.
const plain = (o: unknown): KubeObject => JSON.parse(JSON.stringify(o));

export class Reflector {
  readonly store = new Map<string, KubeObject>();
  private readonly opts: ReflectorOptions;
  private readonly log;
  private stopped = false;
  private abort?: AbortController;
  private wake?: () => void;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private loop?: Promise<void>;
  private readonly handlers: ChangeHandler[] = [];
  private readonly syncHandlers: (() => void)[] = [];

  constructor(opts: ReflectorOptions) {
    this.opts = opts;
    this.log = logger('reflector', { path: opts.path });
    if (opts.onChange) this.handlers.push(opts.onChange);
    if (opts.onSync) this.syncHandlers.push(opts.onSync);
  }

  /** Another consumer of this cache (shared informers): called for every change / after every list. */
  addHandler(onChange: ChangeHandler, onSync?: () => void): void {
    this.handlers.push(onChange);
    if (onSync) this.syncHandlers.push(onSync);
  }

  private emit(kind: ChangeKind, obj: KubeObject, old?: KubeObject): void {
    for (const h of this.handlers) {
      try { h(kind, obj, old); } catch (e) { this.log.warn({ err: String(e) }, 'change handler failed'); }
    }
  }

  start(): void { this.loop ??= this.run(); }

  /** Resolves once the first list has filled the cache. */
  waitSynced(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncWaiters.push(r));
  }

  list(): KubeObject[] { return [...this.store.values()]; }
  get(key: string): KubeObject | undefined { return this.store.get(key); }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => { clearTimeout(t); r(); };
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    let rv: string | undefined;
    while (!this.stopped) {
      try {
        if (rv === undefined) rv = await this.relist();
        const started = Date.now();
        const outcome = await this.watchOnce(rv);
        if (outcome.gone) rv = undefined;
        else rv = outcome.rv;
        if (outcome.error) throw outcome.error;
        // A stream the server closes at once (e.g. while it restarts) must not become a busy loop.
        if (Date.now() - started < 1000 && !this.stopped) await this.sleep(backoffMs(failures++));
        else failures = 0;
      } catch (e) {
        if (this.stopped) break;
        const wait = backoffMs(failures++);
        this.log.debug({ err: String(e), waitMs: wait }, 'list/watch failed; backing off');
        await this.sleep(wait);
      }
    }
  }

  private async relist(): Promise<string> {
    const res = await this.opts.list();
    const fresh = new Map<string, KubeObject>();
    for (const item of res.items) { const o = plain(item); fresh.set(objectKey(o), o); }
    // Deliver the difference so consumers see deletes that happened while the watch was down.
    for (const [key, old] of this.store) if (!fresh.has(key)) { this.store.delete(key); this.emit('delete', old); }
    for (const [key, obj] of fresh) {
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    if (!this.synced) { this.synced = true; for (const w of this.syncWaiters.splice(0)) w(); }
    for (const h of this.syncHandlers) h();
    return res.metadata?.resourceVersion ?? '';
  }

  /** One watch stream from `rv`; resolves when it ends with the version to resume from. */
  private watchOnce(rv: string): Promise<{ rv: string; gone?: boolean; error?: unknown }> {
    return new Promise((resolve) => {
      let last = rv;
      let gone = false;
      const watch = new Watch(this.opts.kubeConfig);
      const params: Record<string, string | boolean> = { allowWatchBookmarks: true, resourceVersion: rv };
      if (this.opts.fieldSelector) params.fieldSelector = this.opts.fieldSelector;
      if (this.opts.labelSelector) params.labelSelector = this.opts.labelSelector;
      watch.watch(this.opts.path, params, (type, raw) => {
        if (type === 'ERROR') {
          // A Status object: 410 Gone (version too old) means relist; anything else too, to be safe.
          gone = true;
          this.abort?.abort(); // may still be the previous stream's controller; .then() below covers that
          return;
        }
        const obj = plain(raw) as KubeObject;
        if (obj?.metadata?.resourceVersion) last = obj.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        const key = objectKey(obj);
        const old = this.store.get(key);
        if (type === 'DELETED') { this.store.delete(key); this.emit('delete', obj, old); }
        else { this.store.set(key, obj); this.emit(old ? 'update' : 'add', obj, old); }
      }, (err) => {
        const status = (err as { statusCode?: number } | null)?.statusCode;
        if (status === 410) gone = true;
        // A quiet stream times out in the client after 30 s: that is a normal resume, not a failure.
        const quiet = err && (err as Error).name === 'TimeoutError';
        resolve({ rv: last, gone, error: err && !quiet && !gone && !this.stopped ? err : undefined });
      }).then((ac) => { this.abort = ac; if (this.stopped || gone) ac.abort(); },
        (err) => resolve({ rv: last, error: err }));
    });
  }
}
