// Deletion: preconditions, finalizers (the object stays with deletionTimestamp until they are gone),
// propagationPolicy (Foreground/Orphan become finalizers the garbage collector acts on), graceful
// deletion of scheduled pods, and namespace/CRD termination.
import type { Api, WriteOpts } from './api.ts';
import { ApiError, conflict } from './errors.ts';
import { now } from './objects.ts';
import type { ResourceType } from './registry.ts';
import { parseFieldSelector, parseLabelSelector, selectableFields } from './selectors.ts';
import type { KObject } from './store.ts';

export interface DeleteOpts extends WriteOpts {
  propagationPolicy?: string;
  gracePeriodSeconds?: number;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export const crdCleanupFinalizer = 'customresourcecleanup.apiextensions.k8s.io';

function successStatus(t: ResourceType, obj: KObject): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: obj.metadata.name, group: t.group, kind: t.resource, uid: obj.metadata.uid },
  };
}

/** Whether a successful delete answers with the object (pods, custom resources) or a Status. */
function returnsObject(t: ResourceType): boolean {
  return !!t.crd || (!t.group && (t.resource === 'pods' || t.resource === 'namespaces'));
}

export function deleteObject(api: Api, t: ResourceType, ns: string, name: string, opts: DeleteOpts): { code: number; body: unknown } {
  const old = api.existing(t, ns, name);
  if (!t.group && t.resource === 'namespaces' && ['default', 'kube-system', 'kube-public'].includes(name)) {
    throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
  }
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== old.metadata.uid) {
    throw conflict(t.group, t.resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(
      t.group,
      t.resource,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
    );
  }
  const policy = opts.propagationPolicy ?? (opts.orphanDependents ? 'Orphan' : undefined);
  if (policy && !['Foreground', 'Background', 'Orphan'].includes(policy)) {
    throw new ApiError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  }
  const next = structuredClone(old);
  const m = next.metadata;
  const finalizers = [...(m.finalizers ?? [])];
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions' && !finalizers.includes(crdCleanupFinalizer))
    finalizers.push(crdCleanupFinalizer);
  const isNamespace = !t.group && t.resource === 'namespaces';
  const spec = next.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
  const grace = opts.gracePeriodSeconds ?? spec?.terminationGracePeriodSeconds ?? 30;
  // A scheduled pod is deleted gracefully: the kubelet stops it and then deletes it with grace 0.
  const graceful =
    !t.group && t.resource === 'pods' && !!spec?.nodeName && grace > 0 && !(old.status as { phase?: string } | undefined)?.phase?.match(/^(Succeeded|Failed)$/);
  if (finalizers.length === 0 && !isNamespace && !graceful) {
    if (opts.dryRun) return { code: 200, body: returnsObject(t) ? api.present(t, old) : successStatus(t, old) };
    const gone = api.store.remove(t.group, t.resource, t.namespaced ? ns : '', name)!;
    return { code: 200, body: returnsObject(t) ? api.present(t, gone) : successStatus(t, gone) };
  }
  m.finalizers = finalizers.length ? finalizers : undefined;
  if (!m.finalizers) delete m.finalizers;
  if (!m.deletionTimestamp) {
    m.deletionTimestamp = graceful ? new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : now();
    m.deletionGracePeriodSeconds = graceful ? grace : 0;
  } else if (graceful && grace < (m.deletionGracePeriodSeconds ?? 30)) {
    m.deletionGracePeriodSeconds = grace;
  }
  if (isNamespace) next.status = { ...(next.status as object), phase: 'Terminating' };
  if (opts.dryRun) return { code: 200, body: api.present(t, next) };
  const stored = JSON.stringify(old) === JSON.stringify(next) ? old : api.store.put(t.group, t.resource, next);
  return { code: policy === 'Foreground' || policy === 'Orphan' ? 202 : 200, body: api.present(t, stored) };
}

/** DELETE on a collection: every matching object, one by one, with the same options. */
export function deleteCollection(api: Api, t: ResourceType, ns: string | undefined, q: URLSearchParams, opts: DeleteOpts): Record<string, unknown> {
  const byLabel = parseLabelSelector(q.get('labelSelector'));
  const byField = parseFieldSelector(q.get('fieldSelector'), selectableFields(t.group, t.resource, t.selectableFields));
  const items = api.store.list(t.group, t.resource, t.namespaced ? ns : undefined, (o) => byLabel(o) && byField(o));
  const out: KObject[] = [];
  for (const o of items) {
    try {
      deleteObject(api, t, o.metadata.namespace ?? '', o.metadata.name!, opts);
      out.push(api.present(t, o));
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
  return {
    kind: `${t.kind}List`,
    apiVersion: t.group ? `${t.group}/${t.version}` : t.version,
    metadata: { resourceVersion: String(api.store.rv) },
    items: out,
  };
}
