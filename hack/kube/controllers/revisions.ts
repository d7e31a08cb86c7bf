// ControllerRevisions of a StatefulSet (pure): one per pod template, named like the pods'
// controller-revision-hash label (`<sts>-<hash>`), numbered in the order templates were applied (a
// template that comes back becomes the newest again), at most revisionHistoryLimit old ones kept.
// They make `kubectl rollout history` and `kubectl rollout undo` work for StatefulSets.
import type { KubeObject } from './informers.ts';
import { templateRevision } from './statefulset.ts';

export interface RevisionPlan {
  create?: KubeObject;
  renumber?: { name: string; revision: number };
  delete: string[];
}

export function planRevisions(sts: KubeObject, owned: KubeObject[]): RevisionPlan {
  const name = templateRevision(sts);
  const max = owned.reduce((m, r) => Math.max(m, Number(r.revision ?? 0)), 0);
  const existing = owned.find((r) => r.metadata.name === name);
  const plan: RevisionPlan = { delete: [] };
  if (!existing) {
    const tmpl = sts.spec?.template ?? {};
    plan.create = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: sts.metadata.namespace,
        labels: { ...(tmpl.metadata?.labels ?? {}), 'controller.kubernetes.io/hash': name.slice(sts.metadata.name.length + 1) },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name, uid: sts.metadata.uid!, controller: true, blockOwnerDeletion: true },
        ],
      },
      // The form the StatefulSet controller stores and kubectl rollout undo applies.
      data: { spec: { template: { ...structuredClone(tmpl), $patch: 'replace' } } },
      revision: max + 1,
    };
  } else if (Number(existing.revision) !== max) {
    plan.renumber = { name, revision: max + 1 };
  }
  const keep = new Set([name, sts.status?.currentRevision, sts.status?.updateRevision].filter(Boolean));
  const limit: number = sts.spec?.revisionHistoryLimit ?? 10;
  const old = owned.filter((r) => !keep.has(r.metadata.name)).sort((a, b) => Number(a.revision) - Number(b.revision));
  if (old.length > limit) plan.delete = old.slice(0, old.length - limit).map((r) => r.metadata.name);
  return plan;
}
