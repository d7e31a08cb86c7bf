// StatefulSet controller shell: watches StatefulSets, Pods, PVCs and ControllerRevisions,
// reconciles one set at a time through the work queue, and carries out the pure plans of
// statefulset.ts and revisions.ts with plain create/delete calls and a merge patch on the status
// subresource (as kube-controller-manager does).
import type { V1ControllerRevision } from '@kubernetes/client-node';
import type { Clients } from './client.ts';
import { isAlreadyExists, isNotFound, matchesSelector, mergePatch, stableJson } from './client.ts';
import type { Informers, KubeObject } from './informers.ts';
import { controllerLoop, workQueue } from './controller-loop.ts';
import { ordinalOf, planStatefulSet } from './statefulset.ts';
import { eventRecorder } from './events.ts';
import { planRevisions } from './revisions.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';

const log = logger('statefulset-controller');

export interface Controller {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function statefulSetController(c: Clients, informers: Informers, resyncMs = 30_000): Controller {
  const queue = workQueue('statefulset');
  const record = eventRecorder(c, 'statefulset-controller');
  const sets = informers.informer(
    'statefulsets',
    (_k, o) => queue.add(key(o.metadata.namespace, o.metadata.name)),
    () => enqueueAll(),
  );
  const pods = informers.informer('pods', (_k, o, old) => {
    enqueueOwner(o);
    if (old) enqueueOwner(old);
  });
  const claims = informers.informer('persistentvolumeclaims');
  const revisions = informers.informer('controllerrevisions');

  function key(ns: string | undefined, name: string) {
    return `${ns ?? 'default'}/${name}`;
  }
  function enqueueAll() {
    for (const s of sets.list()) queue.add(key(s.metadata.namespace, s.metadata.name));
  }
  const loop = controllerLoop({ caches: [sets, pods, claims, revisions], queues: [[queue, reconcile]], enqueueAll, resyncMs });
  function enqueueOwner(pod: KubeObject) {
    const ref = pod.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'StatefulSet');
    if (ref) queue.add(key(pod.metadata.namespace, ref.name));
  }

  async function reconcile(k: string): Promise<void> {
    const sts = sets.get(k);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const ns = sts.metadata.namespace ?? 'default';
    const owned = pods.list().filter((p) => p.metadata.namespace === ns && p.metadata.ownerReferences?.some((r) => r.controller && r.uid === sts.metadata.uid));
    // Orphans (no controller) that match the selector and an ordinal name are adopted, as in
    // Kubernetes; otherwise creating that ordinal would fail on the name forever.
    for (const p of pods.list()) {
      if (p.metadata.namespace !== ns || p.metadata.deletionTimestamp || p.metadata.ownerReferences?.some((r) => r.controller)) continue;
      if (ordinalOf(sts.metadata.name, p.metadata.name) === undefined || !matchesSelector(p.metadata.labels, sts.spec?.selector)) continue;
      const ownerReferences = [
        ...(p.metadata.ownerReferences ?? []),
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name, uid: sts.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ];
      await c.core.patchNamespacedPod(
        { namespace: ns, name: p.metadata.name, body: { metadata: { ownerReferences, resourceVersion: p.metadata.resourceVersion } } },
        mergePatch,
      );
      owned.push({ ...p, metadata: { ...p.metadata, ownerReferences } });
      log.info({ pod: p.metadata.name }, 'adopted pod');
    }
    const existing = new Set(
      claims
        .list()
        .filter((p) => p.metadata.namespace === ns)
        .map((p) => p.metadata.name),
    );
    const plan = planStatefulSet(sts, owned, existing);
    const subject = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: sts.metadata };
    for (const body of plan.createClaims) {
      try {
        await c.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: body as object });
        log.info({ claim: body.metadata.name }, 'created claim');
        record(subject, 'Normal', 'SuccessfulCreate', `create Claim ${body.metadata.name} in StatefulSet ${sts.metadata.name} success`);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    for (const body of plan.createPods) {
      try {
        await c.core.createNamespacedPod({ namespace: ns, body: body as object });
        log.info({ pod: body.metadata.name }, 'created pod');
        record(subject, 'Normal', 'SuccessfulCreate', `create Pod ${body.metadata.name} in StatefulSet ${sts.metadata.name} successful`);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    for (const name of plan.deletePods) {
      try {
        await c.core.deleteNamespacedPod({ namespace: ns, name });
        log.info({ pod: name }, 'deleted pod');
        record(subject, 'Normal', 'SuccessfulDelete', `delete Pod ${name} in StatefulSet ${sts.metadata.name} successful`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    for (const name of plan.deleteClaims) {
      try {
        await c.core.deleteNamespacedPersistentVolumeClaim({ namespace: ns, name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    await syncRevisions(sts);
    const old = sts.status ?? {};
    const changed = Object.entries(plan.status).some(([f, v]) => stableJson(old[f]) !== stableJson(v));
    if (changed) {
      try {
        await c.apps.patchNamespacedStatefulSetStatus({ namespace: ns, name: sts.metadata.name, body: { status: plan.status } }, mergePatch);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  async function syncRevisions(sts: KubeObject): Promise<void> {
    const ns = sts.metadata.namespace!;
    const owned = revisions
      .list()
      .filter((r) => r.metadata.namespace === ns && r.metadata.ownerReferences?.some((o) => o.controller && o.uid === sts.metadata.uid));
    const plan = planRevisions(sts, owned);
    if (plan.create) {
      try {
        await c.apps.createNamespacedControllerRevision({ namespace: ns, body: plan.create as unknown as V1ControllerRevision });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    if (plan.renumber)
      await c.apps.patchNamespacedControllerRevision({ namespace: ns, name: plan.renumber.name, body: { revision: plan.renumber.revision } }, mergePatch);
    for (const name of plan.delete) {
      try {
        await c.apps.deleteNamespacedControllerRevision({ namespace: ns, name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  return { start: loop.start, stop: loop.stop };
}
