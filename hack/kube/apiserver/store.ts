// The object store: one table keyed by group/resource/namespace/name, a global resourceVersion
// counter (etcd's revision), and a bounded window of change events that watches replay from.
export type KObject = { apiVersion?: string; kind?: string; metadata: ObjectMeta; [key: string]: unknown };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  rv: number;
  group: string;
  resource: string;
  namespace: string;
  name: string;
  object: KObject;
  previous?: KObject;
}

export function storeKey(group: string, resource: string, namespace: string, name: string): string {
  return `${group}/${resource}/${namespace}/${name}`;
}

export interface StoreSnapshot {
  resourceVersion: number;
  objects: { group: string; resource: string; object: KObject }[];
}

export class Store {
  private objects = new Map<string, { group: string; resource: string; object: KObject }>();
  private byUid = new Map<string, string>();
  private history: StoreEvent[] = [];
  private listeners = new Set<(e: StoreEvent) => void>();
  /** Events with rv > historyStart are all in the window; older versions get 410 Gone. */
  historyStart: number;
  rv: number;
  readonly maxHistory: number;
  onListenerError?: (err: unknown) => void;

  constructor(opts: { maxHistory?: number; snapshot?: StoreSnapshot } = {}) {
    this.maxHistory = opts.maxHistory ?? 5000;
    // A fresh store starts its counter from the clock, so clients of an earlier memory-only run
    // hold older versions (410 → relist) rather than "future" ones that would silently miss events.
    this.rv = opts.snapshot?.resourceVersion ?? Math.floor(Date.now() / 1000) * 100;
    for (const e of opts.snapshot?.objects ?? []) {
      const m = e.object.metadata;
      const key = storeKey(e.group, e.resource, m.namespace ?? '', m.name!);
      this.objects.set(key, e);
      if (m.uid) this.byUid.set(m.uid, key);
    }
    this.historyStart = this.rv;
  }

  snapshot(): StoreSnapshot {
    return { resourceVersion: this.rv, objects: [...this.objects.values()] };
  }

  get(group: string, resource: string, namespace: string, name: string): KObject | undefined {
    const e = this.objects.get(storeKey(group, resource, namespace, name));
    return e ? structuredClone(e.object) : undefined;
  }

  /** Objects of one resource, optionally in one namespace, in key order (stable for pagination). */
  list(group: string, resource: string, namespace?: string, match: (o: KObject) => boolean = () => true): KObject[] {
    // Selectors run on the stored objects; only what is returned is copied.
    return this.scan(group, resource, namespace, match).map((o) => structuredClone(o));
  }

  /** Like list, without copies: the stored objects themselves, for readers that never mutate. */
  scan(group: string, resource: string, namespace?: string, match: (o: KObject) => boolean = () => true): readonly KObject[] {
    const prefix = namespace === undefined ? `${group}/${resource}/` : `${group}/${resource}/${namespace}/`;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    return keys.map((k) => this.objects.get(k)!.object).filter(match);
  }

  /**
   * The objects of one resource as they were at resourceVersion `rv` (exact lists and consistent
   * pagination): the current state with the window's later events undone. Undefined when the
   * window no longer reaches back to `rv`.
   */
  scanAt(
    group: string,
    resource: string,
    namespace: string | undefined,
    rv: number,
    match: (o: KObject) => boolean = () => true,
  ): readonly KObject[] | undefined {
    if (rv === this.rv) return this.scan(group, resource, namespace, match);
    if (rv < this.historyStart || rv > this.rv) return undefined;
    const state = new Map<string, KObject>();
    for (const o of this.scan(group, resource, namespace)) state.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      const e = this.history[i];
      if (e.group !== group || e.resource !== resource || (namespace !== undefined && e.namespace !== namespace)) continue;
      const key = `${e.namespace}/${e.name}`;
      if (e.type === 'ADDED') state.delete(key);
      else if (e.previous) state.set(key, e.previous);
    }
    return [...state.keys()]
      .sort()
      .map((k) => state.get(k)!)
      .filter(match);
  }

  /** Every stored object with its group/resource (for GC and namespace cleanup). */
  entries(): { group: string; resource: string; object: KObject }[] {
    return [...this.objects.values()].map((e) => ({ ...e, object: structuredClone(e.object) }));
  }

  /** Read-only view of every entry without copies (for sweeps that only read). Do not mutate. */
  peek(): readonly { group: string; resource: string; object: Readonly<KObject> }[] {
    return [...this.objects.values()];
  }

  hasUid(uid: string): boolean {
    return this.byUid.has(uid);
  }

  byUidLookup(uid: string): { group: string; resource: string; object: KObject } | undefined {
    const key = this.byUid.get(uid);
    const e = key ? this.objects.get(key) : undefined;
    return e ? { ...e, object: structuredClone(e.object) } : undefined;
  }

  /** Write an object (create or replace): assigns the next resourceVersion and emits the event. */
  put(group: string, resource: string, object: KObject): KObject {
    const m = object.metadata;
    const key = storeKey(group, resource, m.namespace ?? '', m.name!);
    const prev = this.objects.get(key)?.object;
    this.rv++;
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(this.rv);
    this.objects.set(key, { group, resource, object: stored });
    if (m.uid) this.byUid.set(m.uid, key);
    this.emit({ type: prev ? 'MODIFIED' : 'ADDED', rv: this.rv, group, resource, namespace: m.namespace ?? '', name: m.name!, object: stored, previous: prev });
    return structuredClone(stored);
  }

  /** Remove an object; `finalState` is what the DELETED event shows (e.g. with finalizers cleared). */
  remove(group: string, resource: string, namespace: string, name: string, finalState?: KObject): KObject | undefined {
    const key = storeKey(group, resource, namespace, name);
    const prev = this.objects.get(key)?.object;
    if (!prev) return undefined;
    this.objects.delete(key);
    if (prev.metadata.uid) this.byUid.delete(prev.metadata.uid);
    this.rv++;
    // A DELETED event carries the last state with the deletion's resourceVersion, as etcd3 watch does.
    const last = structuredClone(finalState ?? prev);
    last.metadata.resourceVersion = String(this.rv);
    this.emit({ type: 'DELETED', rv: this.rv, group, resource, namespace, name, object: last, previous: prev });
    return structuredClone(last);
  }

  /** Events after `rv`, or undefined when the window no longer reaches back that far (410 Gone). */
  since(rv: number): StoreEvent[] | undefined {
    if (rv < this.historyStart || rv > this.rv) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.splice(0, this.history.length - this.maxHistory);
      this.historyStart = dropped[dropped.length - 1].rv;
    }
    // A failing watcher must not fail the write that has already happened.
    for (const fn of [...this.listeners]) {
      try {
        fn(e);
      } catch (err) {
        this.onListenerError?.(err);
      }
    }
  }
}
