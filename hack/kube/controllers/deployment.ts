// Deployment and ReplicaSet controller cores (pure), as kube-controller-manager runs them: a
// Deployment owns one ReplicaSet per pod template (`<deploy>-<pod-template-hash>`), rolls from the
// old to the new one within maxSurge/maxUnavailable (or all at once with Recreate), and a
// ReplicaSet keeps `replicas` pods named `<rs>-<random>` (removing unready and newest ones first).
// Revisions live in the deployment.kubernetes.io/revision annotation, as kubectl rollout expects.
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { pruneEmpty, stableJson } from './client.ts';
import type { KubeObject } from './informers.ts';
import { isRunningAndReady, isTerminating } from './statefulset.ts';

export const HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const revisionOf = (rs: KubeObject) => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);

export function templateHash(deploy: KubeObject): string {
  const tmpl = structuredClone(deploy.spec?.template ?? {});
  delete tmpl.metadata?.labels?.[HASH_LABEL]; // a rolled-back template may still carry it
  return createHash('sha256')
    .update(stableJson(pruneEmpty(tmpl)))
    .digest('hex')
    .slice(0, 10);
}

/** An intOrString (e.g. "25%") of `total`, rounded up for surge and down for unavailability. */
export function scaledValue(v: number | string | undefined, total: number, fallback: string, roundUp: boolean): number {
  const value = v ?? fallback;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number(value) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

const ownerRef = (o: KubeObject, kind: string) => ({
  apiVersion: 'apps/v1',
  kind,
  name: o.metadata.name,
  uid: o.metadata.uid!,
  controller: true,
  blockOwnerDeletion: true,
});
const replicasOf = (rs: KubeObject): number => rs.spec?.replicas ?? 0;
const readyOf = (rs: KubeObject): number => rs.status?.readyReplicas ?? 0;

export function newReplicaSet(deploy: KubeObject, replicas: number, revision = 1): KubeObject {
  const hash = templateHash(deploy);
  const tmpl = structuredClone(deploy.spec?.template ?? {});
  tmpl.metadata = { ...(tmpl.metadata ?? {}), labels: { ...(tmpl.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deploy.metadata.name}-${hash}`,
      namespace: deploy.metadata.namespace,
      labels: { ...tmpl.metadata.labels },
      annotations: { [REVISION_ANNOTATION]: String(revision) },
      ownerReferences: [ownerRef(deploy, 'Deployment')],
    },
    spec: {
      replicas,
      minReadySeconds: deploy.spec?.minReadySeconds ?? 0,
      template: tmpl,
      selector: { ...(deploy.spec?.selector ?? {}), matchLabels: { ...(deploy.spec?.selector?.matchLabels ?? {}), [HASH_LABEL]: hash } },
    },
  };
}

export interface DeploymentPlan {
  create?: KubeObject;
  scale: { name: string; replicas: number }[];
  /** The new set's revision when it must change (a template that comes back becomes the newest). */
  revise?: { name: string; revision: number };
  /** Revision to record on the Deployment itself, when it differs. */
  deploymentRevision?: string;
  /** Old, empty sets beyond revisionHistoryLimit. */
  delete: string[];
  status: Record<string, unknown>;
}

/** One step of a rollout: the new ReplicaSet's and the old ones' replica counts, and the status. */
export function planDeployment(deploy: KubeObject, owned: KubeObject[]): DeploymentPlan {
  const desired: number = deploy.spec?.replicas ?? 1;
  const name = `${deploy.metadata.name}-${templateHash(deploy)}`;
  const current = owned.find((rs) => rs.metadata.name === name);
  const old = owned.filter((rs) => rs.metadata.name !== name);
  const plan: DeploymentPlan = { scale: [], delete: [], status: {} };
  const maxRevision = owned.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
  let revision = current ? revisionOf(current) : maxRevision + 1;
  if (current && revision < maxRevision) {
    revision = maxRevision + 1;
    plan.revise = { name, revision };
  }
  if (deploy.metadata.annotations?.[REVISION_ANNOTATION] !== String(revision)) plan.deploymentRevision = String(revision);
  const limit: number = deploy.spec?.revisionHistoryLimit ?? 10;
  const empty = old.filter((rs) => replicasOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
  if (empty.length > limit) plan.delete = empty.slice(0, empty.length - limit).map((rs) => rs.metadata.name);
  const recreate = deploy.spec?.strategy?.type === 'Recreate';
  const surge = scaledValue(deploy.spec?.strategy?.rollingUpdate?.maxSurge, desired, '25%', true);
  const unavailable = Math.max(scaledValue(deploy.spec?.strategy?.rollingUpdate?.maxUnavailable, desired, '25%', false), surge === 0 ? 1 : 0);
  const oldTotal = old.reduce((n, rs) => n + replicasOf(rs), 0);
  const oldPods = old.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
  let newReplicas = current ? replicasOf(current) : 0;

  if (recreate) {
    for (const rs of old) if (replicasOf(rs) > 0) plan.scale.push({ name: rs.metadata.name, replicas: 0 });
    newReplicas = oldTotal === 0 && oldPods === 0 ? desired : newReplicas;
  } else {
    // Scale the new set up within the surge, then the old ones down within the unavailability.
    const room = desired + surge - oldTotal - newReplicas;
    if (newReplicas < desired) newReplicas = Math.min(desired, newReplicas + Math.max(0, room));
    else if (newReplicas > desired) newReplicas = desired;
    const available = readyOf(current ?? ({} as KubeObject)) + old.reduce((n, rs) => n + readyOf(rs), 0);
    let removable = Math.max(0, available - (desired - unavailable));
    // Old pods that are not ready cost no availability: they go first.
    for (const rs of old) {
      const unready = Math.max(0, replicasOf(rs) - readyOf(rs));
      let to = replicasOf(rs) - unready;
      const cut = Math.min(to, removable);
      to -= cut;
      removable -= cut;
      if (to !== replicasOf(rs)) plan.scale.push({ name: rs.metadata.name, replicas: to });
    }
  }
  if (!current) plan.create = newReplicaSet(deploy, newReplicas, revision);
  else if (newReplicas !== replicasOf(current)) plan.scale.push({ name, replicas: newReplicas });

  const all = [...owned];
  const sum = (f: (rs: KubeObject) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const ready = sum(readyOf);
  const updated = current?.status?.replicas ?? 0;
  const complete = updated === desired && (current?.status?.readyReplicas ?? 0) === desired && sum((rs) => rs.status?.replicas ?? 0) === desired;
  plan.status = {
    observedGeneration: deploy.metadata.generation ?? 0,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: ready,
    unavailableReplicas: Math.max(0, desired - ready),
    conditions: [
      {
        type: 'Available',
        status: ready >= desired - unavailable ? 'True' : 'False',
        reason: ready >= desired - unavailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      },
      { type: 'Progressing', status: 'True', reason: complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' },
    ],
  };
  return plan;
}

export interface ReplicaSetPlan {
  create: KubeObject[];
  delete: string[];
  status: Record<string, unknown>;
}

export function podForReplicaSet(rs: KubeObject): KubeObject {
  const tmpl = rs.spec?.template ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${rs.metadata.name}-${randomBytes(3).toString('hex').slice(0, 5)}`,
      namespace: rs.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      ...(tmpl.metadata?.annotations ? { annotations: { ...tmpl.metadata.annotations } } : {}),
      ownerReferences: [ownerRef(rs, 'ReplicaSet')],
    },
    spec: structuredClone(tmpl.spec ?? {}),
  };
}

export function planReplicaSet(rs: KubeObject, owned: KubeObject[]): ReplicaSetPlan {
  const want = replicasOf(rs);
  const live = owned.filter((p) => !isTerminating(p) && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
  const plan: ReplicaSetPlan = { create: [], delete: owned.filter((p) => !isTerminating(p) && !live.includes(p)).map((p) => p.metadata.name), status: {} };
  for (let i = live.length; i < want; i++) plan.create.push(podForReplicaSet(rs));
  if (live.length > want) {
    // Unready before ready, then the newest first (as the ReplicaSet controller ranks them).
    const ranked = [...live].sort(
      (a, b) =>
        Number(isRunningAndReady(a)) - Number(isRunningAndReady(b)) ||
        String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')),
    );
    plan.delete.push(...ranked.slice(0, live.length - want).map((p) => p.metadata.name));
  }
  const ready = live.filter(isRunningAndReady).length;
  plan.status = {
    replicas: live.length,
    fullyLabeledReplicas: live.length,
    readyReplicas: ready,
    availableReplicas: ready,
    observedGeneration: rs.metadata.generation ?? 0,
  };
  return plan;
}
