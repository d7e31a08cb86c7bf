// The finalizer as a small state machine (kube-rs): (finalizer present?, being deleted?) decides
// whether to add it, reconcile normally, clean up then remove it, or do nothing. Adding and
// removing are JSON patches guarded by a `test` op, so a concurrent change makes the patch fail
// (and the key is retried) instead of clobbering someone else's finalizer list.
export type FinalizerAction = 'add' | 'apply' | 'cleanup' | 'none';

export interface FinalizerMeta {
  finalizers?: string[];
  deletionTimestamp?: string;
  resourceVersion?: string;
}

export function finalizerAction(meta: FinalizerMeta, finalizer: string): FinalizerAction {
  const present = (meta.finalizers ?? []).includes(finalizer);
  const deleting = !!meta.deletionTimestamp;
  if (deleting) return present ? 'cleanup' : 'none';
  return present ? 'apply' : 'add';
}

export function addFinalizerPatch(meta: FinalizerMeta, finalizer: string): unknown[] {
  const list = meta.finalizers;
  if (!list || list.length === 0) {
    // No list yet: guard on the resourceVersion we read (a test on a missing path is not portable).
    return [
      { op: 'test', path: '/metadata/resourceVersion', value: meta.resourceVersion },
      { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
    ];
  }
  return [
    { op: 'test', path: '/metadata/finalizers', value: list },
    { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
  ];
}

export function removeFinalizerPatch(meta: FinalizerMeta, finalizer: string): unknown[] {
  const i = (meta.finalizers ?? []).indexOf(finalizer);
  if (i < 0) return [];
  return [
    { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
    { op: 'remove', path: `/metadata/finalizers/${i}` },
  ];
}
