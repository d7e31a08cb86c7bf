// What the gated rollout (controller/rollout.ts) sets on the rendered StatefulSets: a hash of each
// pod template (so the reconciler knows, before applying, that this apply changes the pods) and the
// RollingUpdate partition it decided. Without a decision the partition holds every pod (= replicas):
// a new template never restarts anything by itself.
import { createHash } from 'node:crypto';
import type { KubeObject } from './chart.ts';

export const TEMPLATE_HASH = 'storage.cairn.dev/template-hash';

const hashOf = (template: unknown) => createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 16);

/** Annotate every StatefulSet with its template hash and hold its pods (partition = replicas). */
export function markTemplates(objects: KubeObject[]): void {
  for (const o of objects) {
    if (o.kind !== 'StatefulSet') continue;
    const spec = o.spec as { template: unknown; replicas?: number; updateStrategy?: unknown };
    o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [TEMPLATE_HASH]: hashOf(spec.template) };
    spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: spec.replicas ?? 1 } };
  }
}

/** Set the partition the rollout decided on the StatefulSet named `name`. */
export function setPartition(objects: KubeObject[], name: string, partition: number): void {
  const o = objects.find((x) => x.kind === 'StatefulSet' && x.metadata.name === name);
  if (o) (o.spec as { updateStrategy: unknown }).updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition } };
}
