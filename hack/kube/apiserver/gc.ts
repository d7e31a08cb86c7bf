// The control loops a kube-controller-manager would run for API semantics: ownerReference garbage
// collection (background, foreground, orphan), namespace termination and CRD instance cleanup.
// One level-triggered sweep over the store, run after changes and on a timer.
import type { Api } from './api.ts';
import { crdCleanupFinalizer, deleteObject } from './delete.ts';
import { ApiError } from './errors.ts';
import type { ResourceType } from './registry.ts';
import type { KObject } from './store.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';

const log = logger('kube-gc');

interface Entry {
  group: string;
  resource: string;
  object: KObject;
}

export class GarbageCollector {
  private readonly api: Api;
  private timer?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private sweeping = false;

  constructor(api: Api) {
    this.api = api;
  }

  start(intervalMs = 1000): void {
    this.unsubscribe = this.api.store.subscribe(() => this.soon());
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
    this.soon();
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
    clearTimeout(this.pending);
  }

  private soon(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.sweep();
    }, 5);
    this.pending.unref();
  }

  private type(e: Entry): ResourceType | undefined {
    return this.api.registry.anyVersion(e.group, e.resource);
  }

  private del(e: Entry, policy: string): void {
    const t = this.type(e);
    if (!t || e.object.metadata.deletionTimestamp) return;
    try {
      deleteObject(this.api, t, e.object.metadata.namespace ?? '', e.object.metadata.name!, { propagationPolicy: policy });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) log.warn({ err, name: e.object.metadata.name }, 'garbage collection delete failed');
    }
  }

  private edit(e: Entry, change: (o: KObject) => void, manager: string): void {
    const t = this.type(e);
    if (!t) return;
    const live = this.api.store.get(e.group, e.resource, e.object.metadata.namespace ?? '', e.object.metadata.name!);
    if (!live) return;
    const next = structuredClone(live);
    change(next);
    try {
      if (
        !t.group &&
        t.resource === 'namespaces' &&
        next.metadata.deletionTimestamp &&
        !((next.spec as { finalizers?: string[] }).finalizers ?? []).length &&
        !(next.metadata.finalizers ?? []).length
      ) {
        this.api.store.remove('', 'namespaces', '', next.metadata.name!, next);
        return;
      }
      this.api.commit(t, live, this.api.present(t, next), { fieldManager: manager, subresource: t.resource === 'namespaces' ? 'finalize' : undefined });
    } catch (err) {
      log.warn({ err, name: live.metadata.name }, 'garbage collector update failed');
    }
  }

  sweep(): void {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      this.sweepOnce();
    } catch (err) {
      log.error({ err }, 'garbage collector sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private sweepOnce(): void {
    const entries = this.api.store.peek() as Entry[];
    const byUid = new Map(entries.filter((e) => e.object.metadata.uid).map((e) => [e.object.metadata.uid!, e]));
    const deleting = (o: KObject) => !!o.metadata.deletionTimestamp;
    const has = (o: KObject, f: string) => (o.metadata.finalizers ?? []).includes(f);

    for (const ns of entries.filter((e) => !e.group && e.resource === 'namespaces' && deleting(e.object))) {
      const name = ns.object.metadata.name;
      const contents = entries.filter((e) => e.object.metadata.namespace === name && this.type(e)?.namespaced);
      for (const c of contents) this.del(c, 'Background');
      if (contents.length === 0)
        this.edit(
          ns,
          (o) => {
            (o.spec as { finalizers?: string[] }).finalizers = [];
          },
          'namespace-controller',
        );
    }

    // The service-account controller: every active namespace has a `default` ServiceAccount.
    const saType = this.api.registry.find('', 'v1', 'serviceaccounts');
    for (const ns of entries.filter((e) => !e.group && e.resource === 'namespaces' && !deleting(e.object))) {
      const name = ns.object.metadata.name!;
      if (saType && !this.api.store.get('', 'serviceaccounts', name, 'default')) {
        try {
          this.api.create(saType, name, { metadata: { name: 'default' } }, { fieldManager: 'kube-controller-manager' });
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 409)) log.warn({ err, namespace: name }, 'default service account not created');
        }
      }
    }

    for (const crd of entries.filter((e) => e.resource === 'customresourcedefinitions' && deleting(e.object) && has(e.object, crdCleanupFinalizer))) {
      const spec = crd.object.spec as { group: string; names: { plural: string } };
      const instances = entries.filter((e) => e.group === spec.group && e.resource === spec.names.plural);
      for (const i of instances) this.del(i, 'Background');
      if (instances.length === 0)
        this.edit(
          crd,
          (o) => {
            o.metadata.finalizers = o.metadata.finalizers!.filter((f) => f !== crdCleanupFinalizer);
          },
          'apiextensions-controller',
        );
    }

    for (const e of entries) {
      const refs = e.object.metadata.ownerReferences ?? [];
      if (refs.length === 0) continue;
      const owners = refs.map((r) => byUid.get(r.uid));
      if (owners.every((o) => !o)) {
        this.del(e, 'Background');
        continue;
      }
      const orphaning = refs.filter((_r, i) => !owners[i] || (deleting(owners[i]!.object) && has(owners[i]!.object, 'orphan')));
      if (orphaning.length) {
        this.edit(
          e,
          (o) => {
            o.metadata.ownerReferences = refs.filter((r) => !orphaning.includes(r));
            if (!o.metadata.ownerReferences.length) delete o.metadata.ownerReferences;
          },
          'generic-garbage-collector',
        );
        continue;
      }
      if (owners.some((o) => o && deleting(o.object) && has(o.object, 'foregroundDeletion'))) this.del(e, 'Foreground');
    }

    for (const o of entries.filter((e) => deleting(e.object))) {
      const uid = o.object.metadata.uid;
      const dependents = entries.filter(
        (e) => this.api.store.hasUid(e.object.metadata.uid ?? '') && (e.object.metadata.ownerReferences ?? []).some((r) => r.uid === uid),
      );
      if (
        has(o.object, 'foregroundDeletion') &&
        !dependents.some((d) => d.object.metadata.ownerReferences!.some((r) => r.uid === uid && r.blockOwnerDeletion))
      ) {
        this.edit(
          o,
          (x) => {
            x.metadata.finalizers = x.metadata.finalizers!.filter((f) => f !== 'foregroundDeletion');
          },
          'generic-garbage-collector',
        );
      }
      if (has(o.object, 'orphan') && dependents.length === 0) {
        this.edit(
          o,
          (x) => {
            x.metadata.finalizers = x.metadata.finalizers!.filter((f) => f !== 'orphan');
          },
          'generic-garbage-collector',
        );
      }
    }
  }
}
