import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimName, ordinalOf, planStatefulSet, podFor, REVISION_LABEL, templateRevision } from './statefulset.ts';
import type { KubeObject } from './informers.ts';
import { planRevisions } from './revisions.ts';

function sts(over: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'ns1', uid: 'u-1', generation: 3 },
    spec: {
      replicas: 3,
      serviceName: 'web-hl',
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'cairn', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...over,
    },
  };
}

function pod(set: KubeObject, i: number, opts: { ready?: boolean; phase?: string; terminating?: boolean; revision?: string } = {}): KubeObject {
  const p = podFor(set, i, opts.revision ?? templateRevision(set));
  p.metadata.uid = `pod-${i}`;
  if (opts.terminating) p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  p.status = { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] };
  return p;
}

const allClaims = (n: number) => new Set([...Array(n).keys()].map((i) => claimName('data', 'web', i)));

test('ordinals and claim names follow the Kubernetes scheme', () => {
  assert.is(ordinalOf('web', 'web-12'), 12);
  assert.is(ordinalOf('web', 'web-01'), undefined);
  assert.is(ordinalOf('web', 'webx-1'), undefined);
  assert.is(claimName('data', 'web', 2), 'data-web-2');
});

test('a pod gets identity labels, hostname/subdomain, its claim as a volume and a controller owner', () => {
  const p = podFor(sts(), 1, 'web-abc');
  assert.is(p.metadata.name, 'web-1');
  assert.equal(p.metadata.labels, {
    app: 'web',
    'statefulset.kubernetes.io/pod-name': 'web-1',
    'controller-revision-hash': 'web-abc',
    'apps.kubernetes.io/pod-index': '1',
  });
  assert.equal(p.metadata.ownerReferences, [
    { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u-1', controller: true, blockOwnerDeletion: true },
  ]);
  assert.is(p.spec.hostname, 'web-1');
  assert.is(p.spec.subdomain, 'web-hl');
  assert.equal(p.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } }]);
});

test('OrderedReady creates one pod at a time, claim first, and waits for Running+Ready', () => {
  const s = sts();
  let plan = planStatefulSet(s, [], new Set());
  assert.equal(
    plan.createPods.map((p) => p.metadata.name),
    ['web-0'],
  );
  assert.equal(
    plan.createClaims.map((c) => c.metadata.name),
    ['data-web-0'],
  );
  assert.equal(plan.createClaims[0].metadata.labels, { app: 'web' });
  plan = planStatefulSet(s, [pod(s, 0, { ready: false })], allClaims(1));
  assert.equal(plan.createPods, [], 'waits while web-0 is not ready');
  plan = planStatefulSet(s, [pod(s, 0)], allClaims(1));
  assert.equal(
    plan.createPods.map((p) => p.metadata.name),
    ['web-1'],
  );
  assert.equal(plan.status.replicas, 1);
  assert.equal(plan.status.readyReplicas, 1);
  assert.equal(plan.status.observedGeneration, 3);
});

test('Parallel creates every missing pod at once', () => {
  const s = sts({ podManagementPolicy: 'Parallel' });
  const plan = planStatefulSet(s, [], new Set());
  assert.equal(
    plan.createPods.map((p) => p.metadata.name),
    ['web-0', 'web-1', 'web-2'],
  );
  assert.equal(plan.createClaims.length, 3);
});

test('a deleted pod is recreated with the same name; a failed one is deleted first', () => {
  const s = sts();
  let plan = planStatefulSet(s, [pod(s, 0), pod(s, 2)], allClaims(3));
  assert.equal(
    plan.createPods.map((p) => p.metadata.name),
    ['web-1'],
  );
  plan = planStatefulSet(s, [pod(s, 0), pod(s, 1, { phase: 'Failed' }), pod(s, 2)], allClaims(3));
  assert.equal(plan.deletePods, ['web-1']);
});

test('scale down removes the highest ordinal first, one at a time (OrderedReady), and keeps claims', () => {
  const s = sts({ replicas: 1 });
  let plan = planStatefulSet(s, [pod(s, 0), pod(s, 1), pod(s, 2)], allClaims(3));
  assert.equal(plan.deletePods, ['web-2']);
  assert.equal(plan.deleteClaims, []);
  plan = planStatefulSet(s, [pod(s, 0), pod(s, 1), pod(s, 2, { terminating: true })], allClaims(3));
  assert.equal(plan.deletePods, [], 'waits for web-2 to terminate');
  assert.is(plan.status.replicas, 2);
  const par = sts({ replicas: 1, podManagementPolicy: 'Parallel' });
  assert.equal(planStatefulSet(par, [pod(par, 0), pod(par, 1), pod(par, 2)], allClaims(3)).deletePods, ['web-2', 'web-1']);
});

test('whenScaled: Delete removes claims of ordinals that are gone', () => {
  const s = sts({ replicas: 1, persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Retain' } });
  const plan = planStatefulSet(s, [pod(s, 0), pod(s, 1)], allClaims(3));
  assert.equal(plan.deleteClaims, ['data-web-2']);
});

test('a template change rolls pods from the highest ordinal, one at a time', () => {
  const s = sts();
  const old = 'web-old';
  const pods = [pod(s, 0, { revision: old }), pod(s, 1, { revision: old }), pod(s, 2, { revision: old })];
  let plan = planStatefulSet(s, pods, allClaims(3));
  assert.equal(plan.deletePods, ['web-2']);
  assert.is(plan.status.updatedReplicas, 0);
  pods[2] = pod(s, 2);
  plan = planStatefulSet({ ...s, status: { currentRevision: old } }, pods, allClaims(3));
  assert.equal(plan.deletePods, ['web-1']);
  assert.is(plan.status.updatedReplicas, 1);
  assert.is(plan.status.currentReplicas, 2);
  assert.is(plan.status.currentRevision, old);
  const done = planStatefulSet({ ...s, status: { currentRevision: old } }, [pod(s, 0), pod(s, 1), pod(s, 2)], allClaims(3));
  assert.is(done.status.currentRevision, templateRevision(s), 'current revision moves when the update is complete');
  assert.is(done.status.currentReplicas, 3);
  assert.is(pods[2].metadata.labels![REVISION_LABEL], templateRevision(s));
});

test('Parallel rolls one pod at a time too: a replaced pod still starting stops the walk; the partition bounds it', () => {
  const s = sts({ podManagementPolicy: 'Parallel' });
  const old = 'web-old';
  const starting = [pod(s, 0, { revision: old }), pod(s, 1, { revision: old }), pod(s, 2, { ready: false })];
  assert.equal(planStatefulSet(s, starting, allClaims(3)).deletePods, [], 'web-2 is not ready yet: web-1 waits');
  const ready = [pod(s, 0, { revision: old }), pod(s, 1, { revision: old }), pod(s, 2)];
  assert.equal(planStatefulSet(s, ready, allClaims(3)).deletePods, ['web-1']);
  const held = sts({ podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
  assert.equal(
    planStatefulSet(
      held,
      ready.map((_p, i) => (i === 2 ? pod(held, 2) : pod(held, i, { revision: old }))),
      allClaims(3),
    ).deletePods,
    [],
    'below the partition nothing goes',
  );
});

test('OnDelete never replaces pods', () => {
  const s = sts({ updateStrategy: { type: 'OnDelete' } });
  const plan = planStatefulSet(s, [pod(s, 0, { revision: 'x' }), pod(s, 1, { revision: 'x' }), pod(s, 2, { revision: 'x' })], allClaims(3));
  assert.equal(plan.deletePods, []);
});

test('ControllerRevisions: one per template, renumbered when a template comes back, history limited', () => {
  const s = sts();
  let plan = planRevisions(s, []);
  assert.is(plan.create!.metadata.name, templateRevision(s));
  assert.is(plan.create!.revision, 1);
  assert.is(plan.create!.data.spec.template.$patch, 'replace');
  const rev = (name: string, revision: number): KubeObject => ({ metadata: { name }, revision });
  plan = planRevisions(s, [rev(templateRevision(s), 1), rev('web-newer', 2)]);
  assert.equal(plan.renumber, { name: templateRevision(s), revision: 3 });
  const many = [...Array(13).keys()].map((i) => rev(`web-${i}`, i + 1));
  plan = planRevisions({ ...s, spec: { ...s.spec, revisionHistoryLimit: 10 } }, [...many, rev(templateRevision(s), 20)]);
  assert.equal(plan.delete, ['web-0', 'web-1', 'web-2']);
});

test.run();
