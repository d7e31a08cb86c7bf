// Deployment and ReplicaSet controller shells: watch Deployments, ReplicaSets and Pods, carry out
// the pure plans of deployment.ts with plain create/patch/delete calls and merge patches on the
// status subresources.
import type { Clients } from './client.ts';
import { isAlreadyExists, isNotFound, mergePatch, stableJson } from './client.ts';
import { planDeployment, planReplicaSet, REVISION_ANNOTATION } from './deployment.ts';
import { eventRecorder } from './events.ts';
import type { Informers, KubeObject } from './informers.ts';
import { controllerLoop, workQueue } from './controller-loop.ts';
import type { ReconcileResult } from '../../../operator/src/controller/queue.ts';
import type { Controller } from './statefulset-controller.ts';

const key = (o: KubeObject) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
const ownerOf = (o: KubeObject, kind: string) => o.metadata.ownerReferences?.find((r) => r.controller && r.kind === kind);
const ownedBy = (list: KubeObject[], owner: KubeObject) =>
  list.filter(
    (o) => o.metadata.namespace === owner.metadata.namespace && o.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata.uid),
  );
const statusChanged = (old: Record<string, unknown> | undefined, next: Record<string, unknown>) =>
  Object.entries(next).some(([f, v]) => stableJson(old?.[f]) !== stableJson(v));

export function deploymentController(c: Clients, informers: Informers, resyncMs = 30_000): Controller {
  const record = eventRecorder(c, 'deployment-controller');
  const recordRs = eventRecorder(c, 'replicaset-controller');
  const deployments = workQueue('deployment');
  const replicaSets = workQueue('replicaset');
  const deploys = informers.informer('deployments', (_k, o) => deployments.add(key(o)));
  const sets = informers.informer('replicasets', (_k, o) => {
    replicaSets.add(key(o));
    const d = ownerOf(o, 'Deployment');
    if (d) deployments.add(`${o.metadata.namespace}/${d.name}`);
  });
  const pods = informers.informer('pods', (_k, o) => {
    const r = ownerOf(o, 'ReplicaSet');
    if (r) replicaSets.add(`${o.metadata.namespace}/${r.name}`);
  });
  const enqueueAll = () => {
    for (const d of deploys.list()) deployments.add(key(d));
    for (const s of sets.list()) replicaSets.add(key(s));
  };
  const loop = controllerLoop({
    caches: [deploys, sets, pods],
    queues: [
      [deployments, reconcileDeployment],
      [replicaSets, reconcileReplicaSet],
    ],
    enqueueAll,
    resyncMs,
  });
  // Expectations (as in client-go): pods a ReplicaSet just created or deleted must show up in the
  // cache before it counts again, or a stale cache would make it create or delete twice.
  const expected = new Map<string, { created: string[]; deleted: string[]; until: number }>();
  const settled = (k: string): boolean => {
    const e = expected.get(k);
    if (!e) return true;
    const seen =
      e.created.every((n) => pods.get(`${k.split('/')[0]}/${n}`)) &&
      e.deleted.every((n) => {
        const p = pods.get(`${k.split('/')[0]}/${n}`);
        return !p || p.metadata.deletionTimestamp;
      });
    if (seen || Date.now() > e.until) {
      expected.delete(k);
      return true;
    }
    return false;
  };

  async function reconcileDeployment(k: string): Promise<void> {
    const d = deploys.get(k);
    if (!d || d.metadata.deletionTimestamp) return;
    const ns = d.metadata.namespace!;
    const plan = planDeployment(d, ownedBy(sets.list(), d));
    const subject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: d.metadata };
    if (plan.create) {
      try {
        await c.apps.createNamespacedReplicaSet({ namespace: ns, body: plan.create as object });
        record(subject, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${plan.create.metadata.name} from 0 to ${plan.create.spec.replicas}`);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    if (plan.revise) {
      await c.apps.patchNamespacedReplicaSet(
        { namespace: ns, name: plan.revise.name, body: { metadata: { annotations: { [REVISION_ANNOTATION]: String(plan.revise.revision) } } } },
        mergePatch,
      );
    }
    if (plan.deploymentRevision) {
      await c.apps.patchNamespacedDeployment(
        { namespace: ns, name: d.metadata.name, body: { metadata: { annotations: { [REVISION_ANNOTATION]: plan.deploymentRevision } } } },
        mergePatch,
      );
    }
    for (const name of plan.delete) {
      try {
        await c.apps.deleteNamespacedReplicaSet({ namespace: ns, name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    for (const s of plan.scale) {
      const prev = sets.get(`${ns}/${s.name}`)?.spec?.replicas ?? 0;
      await c.apps.patchNamespacedReplicaSet({ namespace: ns, name: s.name, body: { spec: { replicas: s.replicas } } }, mergePatch);
      record(subject, 'Normal', 'ScalingReplicaSet', `Scaled ${s.replicas > prev ? 'up' : 'down'} replica set ${s.name} from ${prev} to ${s.replicas}`);
    }
    if (statusChanged(d.status, plan.status)) {
      try {
        await c.apps.patchNamespacedDeploymentStatus({ namespace: ns, name: d.metadata.name, body: { status: plan.status } }, mergePatch);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  async function reconcileReplicaSet(k: string): Promise<ReconcileResult | void> {
    const rs = sets.get(k);
    if (!rs || rs.metadata.deletionTimestamp) return;
    if (!settled(k)) return { requeueAfterMs: 200 };
    const ns = rs.metadata.namespace!;
    const plan = planReplicaSet(rs, ownedBy(pods.list(), rs));
    if (plan.create.length || plan.delete.length) {
      expected.set(k, { created: plan.create.map((p) => p.metadata.name), deleted: plan.delete, until: Date.now() + 10_000 });
    }
    const subject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: rs.metadata };
    for (const body of plan.create) {
      await c.core.createNamespacedPod({ namespace: ns, body: body as object });
      recordRs(subject, 'Normal', 'SuccessfulCreate', `Created pod: ${body.metadata.name}`);
    }
    for (const name of plan.delete) {
      try {
        await c.core.deleteNamespacedPod({ namespace: ns, name });
        recordRs(subject, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (statusChanged(rs.status, plan.status)) {
      try {
        await c.apps.patchNamespacedReplicaSetStatus({ namespace: ns, name: rs.metadata.name, body: { status: plan.status } }, mergePatch);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  return { start: loop.start, stop: loop.stop };
}
