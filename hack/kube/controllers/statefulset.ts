// StatefulSet controller core (pure): from a StatefulSet, the pods it owns and the PVC names that
// exist, compute the next steps the way kube-controller-manager's StatefulSet control does —
// ordinal pods `<sts>-<i>`, PVCs `<claim>-<sts>-<i>` created before their pod and kept on scale-down
// (default retention), OrderedReady (create i+1 only when 0..i are Running and Ready; condemn the
// highest ordinal first, one at a time) or Parallel, rolling update from the highest ordinal, and the status.
import { createHash } from 'node:crypto';
import { pruneEmpty, stableJson } from './client.ts';
import type { KubeObject } from './informers.ts';

export interface StatefulSetPlan {
  createClaims: KubeObject[];
  createPods: KubeObject[];
  deletePods: string[];
  deleteClaims: string[];
  status: Record<string, unknown>;
}

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const REVISION_LABEL = 'controller-revision-hash';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** `<sts>-<hash>` of the pod template: pods carrying another revision are out of date. */
export function templateRevision(sts: KubeObject): string {
  const hash = createHash('sha256')
    .update(stableJson(pruneEmpty(sts.spec?.template ?? {})))
    .digest('hex')
    .slice(0, 10);
  return `${sts.metadata.name}-${hash}`;
}

export function ordinalOf(stsName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${stsName}-`)) return undefined;
  const rest = podName.slice(stsName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function claimName(claimTemplate: string, stsName: string, ordinal: number): string {
  return `${claimTemplate}-${stsName}-${ordinal}`;
}

export const isTerminating = (pod: KubeObject) => Boolean(pod.metadata.deletionTimestamp);
export const isFailed = (pod: KubeObject) => pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
export function isRunningAndReady(pod: KubeObject): boolean {
  return (
    pod.status?.phase === 'Running' &&
    !isTerminating(pod) &&
    (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')
  );
}

function ownerRef(sts: KubeObject) {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name, uid: sts.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** The PVCs for one ordinal, from volumeClaimTemplates. */
export function claimsFor(sts: KubeObject, ordinal: number): KubeObject[] {
  const selectorLabels = sts.spec?.selector?.matchLabels ?? {};
  const deleteWithSet = sts.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
  return (sts.spec?.volumeClaimTemplates ?? []).map((t: KubeObject) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(t.metadata.name, sts.metadata.name, ordinal),
      namespace: sts.metadata.namespace,
      labels: { ...(t.metadata.labels ?? {}), ...selectorLabels },
      ...(t.metadata.annotations ? { annotations: t.metadata.annotations } : {}),
      // Retention whenDeleted=Delete is implemented as Kubernetes does: the set owns the claim, GC deletes it.
      ...(deleteWithSet ? { ownerReferences: [{ ...ownerRef(sts), controller: false }] } : {}),
    },
    spec: structuredClone(t.spec ?? {}),
  }));
}

/** The pod for one ordinal: template + identity labels, hostname/subdomain, claim volumes, owner. */
export function podFor(sts: KubeObject, ordinal: number, revision: string): KubeObject {
  const name = `${sts.metadata.name}-${ordinal}`;
  const tmpl = sts.spec?.template ?? {};
  const spec = structuredClone(tmpl.spec ?? {});
  const claimVolumes = (sts.spec?.volumeClaimTemplates ?? []).map((t: KubeObject) => ({
    name: t.metadata.name,
    persistentVolumeClaim: { claimName: claimName(t.metadata.name, sts.metadata.name, ordinal) },
  }));
  // A claim template replaces a template volume of the same name, as in Kubernetes.
  const claimNames = new Set(claimVolumes.map((v: { name: string }) => v.name));
  spec.volumes = [...(spec.volumes ?? []).filter((v: { name: string }) => !claimNames.has(v.name)), ...claimVolumes];
  if (spec.volumes.length === 0) delete spec.volumes;
  spec.hostname = name;
  if (sts.spec?.serviceName) spec.subdomain = sts.spec.serviceName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: sts.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [REVISION_LABEL]: revision, [POD_INDEX_LABEL]: String(ordinal) },
      ...(tmpl.metadata?.annotations ? { annotations: { ...tmpl.metadata.annotations } } : {}),
      ownerReferences: [ownerRef(sts)],
    },
    spec,
  };
}

export function planStatefulSet(sts: KubeObject, ownedPods: KubeObject[], existingClaims: Set<string>): StatefulSetPlan {
  const name = sts.metadata.name;
  const replicas: number = sts.spec?.replicas ?? 1;
  const ordered = (sts.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
  const updateRevision = templateRevision(sts);
  const plan: StatefulSetPlan = { createClaims: [], createPods: [], deletePods: [], deleteClaims: [], status: {} };
  const byOrdinal = new Map<number, KubeObject>();
  for (const p of ownedPods) {
    const o = ordinalOf(name, p.metadata.name);
    if (o !== undefined) byOrdinal.set(o, p);
  }
  const ensureClaims = (ordinal: number) => {
    for (const c of claimsFor(sts, ordinal)) if (!existingClaims.has(c.metadata.name)) plan.createClaims.push(c);
  };

  // Pods 0..replicas-1: create the missing, replace the failed; OrderedReady waits on every unhealthy one.
  let blocked = false;
  for (let i = 0; i < replicas && !blocked; i++) {
    const pod = byOrdinal.get(i);
    if (!pod) {
      ensureClaims(i);
      plan.createPods.push(podFor(sts, i, updateRevision));
      blocked = ordered;
    } else if (isTerminating(pod)) {
      blocked = ordered;
    } else if (isFailed(pod)) {
      plan.deletePods.push(pod.metadata.name);
      blocked = ordered;
    } else {
      ensureClaims(i);
      if (!isRunningAndReady(pod)) blocked = ordered;
    }
  }

  // Condemned ordinals (>= replicas), highest first; OrderedReady deletes one at a time and only
  // when everything below is healthy.
  const condemned = [...byOrdinal.keys()].filter((o) => o >= replicas).sort((a, b) => b - a);
  if (!blocked) {
    for (const o of condemned) {
      const pod = byOrdinal.get(o)!;
      if (isTerminating(pod)) {
        if (ordered) {
          blocked = true;
          break;
        }
        continue;
      }
      plan.deletePods.push(pod.metadata.name);
      if (ordered) {
        blocked = true;
        break;
      }
    }
  }
  if (sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') {
    for (const claim of existingClaims) {
      for (const t of sts.spec?.volumeClaimTemplates ?? []) {
        const o = ordinalOf(`${t.metadata.name}-${name}`, claim);
        if (o !== undefined && o >= replicas && !byOrdinal.has(o)) plan.deleteClaims.push(claim);
      }
    }
  }

  // Rolling update: when all is created, healthy and nothing else is moving, replace the highest
  // out-of-date ordinal at or above the partition.
  const strategy = sts.spec?.updateStrategy?.type ?? 'RollingUpdate';
  const quiet = plan.createPods.length === 0 && plan.deletePods.length === 0 && condemned.length === 0;
  if (strategy === 'RollingUpdate' && quiet) {
    const partition: number = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const allHealthy = [...Array(replicas).keys()].every((i) => byOrdinal.has(i) && isRunningAndReady(byOrdinal.get(i)!));
    if (allHealthy || !ordered) {
      // As kube-controller-manager: the highest pod at or above the partition that runs another
      // revision goes; an unhealthy pod on the way down (one just replaced, still starting) stops the
      // walk, with any pod management policy.
      for (let i = replicas - 1; i >= partition; i--) {
        const pod = byOrdinal.get(i);
        if (!pod) break;
        if (!isTerminating(pod) && pod.metadata.labels?.[REVISION_LABEL] !== updateRevision) {
          plan.deletePods.push(pod.metadata.name);
          break;
        }
        if (!isRunningAndReady(pod)) break;
      }
    }
  }

  plan.status = statusFor(sts, [...byOrdinal.values()], updateRevision);
  return plan;
}

export function statusFor(sts: KubeObject, pods: KubeObject[], updateRevision: string): Record<string, unknown> {
  const replicas: number = sts.spec?.replicas ?? 1;
  const live = pods.filter((p) => !isTerminating(p));
  const ready = live.filter(isRunningAndReady).length;
  const updated = live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision).length;
  let currentRevision: string = sts.status?.currentRevision ?? updateRevision;
  // The update is complete when every wanted replica runs the new revision and is ready.
  if (updated === replicas && live.length === replicas && ready === replicas) currentRevision = updateRevision;
  const current = live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentRevision).length;
  return {
    observedGeneration: sts.metadata.generation ?? 0,
    replicas: live.length,
    readyReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    availableReplicas: ready,
    currentRevision,
    updateRevision,
    collisionCount: sts.status?.collisionCount ?? 0,
  };
}
