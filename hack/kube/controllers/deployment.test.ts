import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HASH_LABEL, planDeployment, planReplicaSet, scaledValue, templateHash } from './deployment.ts';
import type { KubeObject } from './informers.ts';

const deploy = (over: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'op', namespace: 'ns', uid: 'd-1', generation: 2 },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: 'op' } },
    template: { metadata: { labels: { app: 'op' } }, spec: { containers: [{ name: 'c' }] } },
    ...over,
  },
});
const rs = (name: string, replicas: number, ready: number): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: name },
  spec: { replicas },
  status: { replicas, readyReplicas: ready },
});

test('percentages round up for surge and down for unavailability', () => {
  assert.is(scaledValue(undefined, 4, '25%', true), 1);
  assert.is(scaledValue('30%', 4, '25%', true), 2);
  assert.is(scaledValue('30%', 4, '25%', false), 1);
  assert.is(scaledValue(2, 4, '25%', false), 2);
});

test('a new Deployment creates its ReplicaSet with every replica, labelled by the template hash', () => {
  const plan = planDeployment(deploy(), []);
  const hash = templateHash(deploy());
  assert.is(plan.create!.metadata.name, `op-${hash}`);
  assert.is(plan.create!.spec.replicas, 4);
  assert.is(plan.create!.spec.selector.matchLabels[HASH_LABEL], hash);
  assert.is(plan.create!.spec.template.metadata.labels[HASH_LABEL], hash);
  assert.equal(plan.create!.metadata.ownerReferences![0], {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: 'op',
    uid: 'd-1',
    controller: true,
    blockOwnerDeletion: true,
  });
});

test('a rolling update surges the new set and scales the old one down only as new pods become ready', () => {
  const d = deploy();
  const name = `op-${templateHash(d)}`;
  let plan = planDeployment(d, [rs('op-old', 4, 4)]);
  assert.is(plan.create!.spec.replicas, 1, 'surge of one');
  assert.equal(plan.scale, [{ name: 'op-old', replicas: 3 }], 'maxUnavailable 25% of 4 = 1: one old pod may go');
  plan = planDeployment(d, [rs('op-old', 3, 3), rs(name, 1, 0)]);
  assert.equal(plan.scale, [{ name, replicas: 2 }], 'no old pod goes while the new one is not ready');
  plan = planDeployment(d, [rs('op-old', 3, 3), rs(name, 2, 2)]);
  assert.equal(plan.scale, [{ name: 'op-old', replicas: 1 }]);
  plan = planDeployment(d, [rs('op-old', 0, 0), rs(name, 4, 4)]);
  assert.equal(plan.scale, []);
  assert.is((plan.status.conditions as { reason: string }[])[1].reason, 'NewReplicaSetAvailable');
  assert.is(plan.status.updatedReplicas, 4);
});

test('revisions: a new template is the next revision, a template that comes back becomes the newest', () => {
  const d = deploy();
  const name = `op-${templateHash(d)}`;
  const withRev = (r: KubeObject, n: number) => ({ ...r, metadata: { ...r.metadata, annotations: { 'deployment.kubernetes.io/revision': String(n) } } });
  let plan = planDeployment(d, [withRev(rs('op-old', 4, 4), 3)]);
  assert.is(plan.create!.metadata.annotations!['deployment.kubernetes.io/revision'], '4');
  assert.is(plan.deploymentRevision, '4');
  plan = planDeployment(d, [withRev(rs('op-old', 0, 0), 5), withRev(rs(name, 4, 4), 2)]);
  assert.equal(plan.revise, { name, revision: 6 });
  const many = [...Array(12).keys()].map((i) => withRev(rs(`op-${i}`, 0, 0), i + 1));
  plan = planDeployment({ ...d, spec: { ...d.spec, revisionHistoryLimit: 10 } }, [...many, withRev(rs(name, 4, 4), 13)]);
  assert.equal(plan.delete, ['op-0', 'op-1']);
});

test('the template hash ignores unset-as-null fields and a leftover pod-template-hash label', () => {
  const d = deploy();
  const undone = deploy({
    template: { metadata: { creationTimestamp: null, labels: { app: 'op', [HASH_LABEL]: 'x' } }, spec: { containers: [{ name: 'c', resources: {} }] } },
  });
  assert.is(templateHash(undone), templateHash(d));
});

test('Recreate empties the old sets before the new one gets replicas', () => {
  const d = deploy({ strategy: { type: 'Recreate' } });
  const name = `op-${templateHash(d)}`;
  let plan = planDeployment(d, [rs('op-old', 4, 4)]);
  assert.equal(plan.scale, [{ name: 'op-old', replicas: 0 }]);
  assert.is(plan.create!.spec.replicas, 0);
  plan = planDeployment(d, [rs('op-old', 0, 0), rs(name, 0, 0)]);
  assert.equal(plan.scale, [{ name, replicas: 4 }]);
});

test('a ReplicaSet creates missing pods and removes unready, then newest pods first', () => {
  const set: KubeObject = {
    metadata: { name: 'op-abc', namespace: 'ns', uid: 'r' },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'op' } }, spec: {} } },
  };
  const pod = (name: string, ready: boolean, t: string): KubeObject => ({
    metadata: { name, creationTimestamp: t },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  let plan = planReplicaSet({ ...set, spec: { ...set.spec, replicas: 2 } }, []);
  assert.is(plan.create.length, 2);
  assert.match(plan.create[0].metadata.name, /^op-abc-[0-9a-f]{5}$/);
  plan = planReplicaSet(set, [pod('a', true, '1'), pod('b', true, '2'), pod('c', false, '0')]);
  assert.equal(plan.delete, ['c', 'b']);
  assert.is(plan.status.readyReplicas, 2);
});

test.run();
