// Conformance: server-side apply — create by apply, managedFields per manager, conflicts with a
// Kubernetes-shaped 409, force takes ownership, fields a manager stops applying are removed, and
// fields still owned by someone else stay.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PatchStrategy, setHeaderOptions, type KubernetesObject, type V1ConfigMap, type V1Deployment } from '@kubernetes/client-node';
import { kubeTestEnv, statusOf, type KubeTestEnv } from './testenv.ts';

let env: KubeTestEnv;
test.before(async () => {
  env = await kubeTestEnv('ssa');
});
test.after(async () => {
  await env?.close();
});

const apply = <T extends KubernetesObject>(obj: T, manager: string, force = false) =>
  env.objects.patch(obj, undefined, undefined, manager, force, PatchStrategy.ServerSideApply) as Promise<T>;
const cm = (name: string, data: Record<string, string>, labels?: Record<string, string>): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: env.ns, ...(labels ? { labels } : {}) },
  data,
});

test('apply creates the object and records an Apply managedFields entry', async () => {
  const made = await apply(cm('ssa1', { a: '1', b: '2' }), 'alice');
  assert.equal(made.data, { a: '1', b: '2' });
  const entry = made.metadata!.managedFields!.find((m) => m.manager === 'alice')!;
  assert.is(entry.operation, 'Apply');
  assert.is(entry.fieldsType, 'FieldsV1');
  assert.equal((entry.fieldsV1 as Record<string, Record<string, unknown>>)['f:data'], { 'f:a': {}, 'f:b': {} });
});

test('a second manager changing an owned field gets a 409 conflict; force takes it over', async () => {
  const clash = await statusOf(apply(cm('ssa1', { a: 'changed' }), 'bob'));
  assert.is(clash.code, 409);
  assert.is(clash.body?.reason, 'Conflict');
  assert.is(clash.body?.message, 'Apply failed with 1 conflict: conflict with "alice": .data.a');
  assert.equal(clash.body?.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.data.a' }]);
  const same = await apply(cm('ssa1', { a: '1' }), 'bob');
  assert.is(same.data!.a, '1', 'applying the same value is shared ownership, no conflict');
  const forced = await apply(cm('ssa1', { a: 'forced' }), 'bob', true);
  assert.is(forced.data!.a, 'forced');
  const alice = forced.metadata!.managedFields!.find((m) => m.manager === 'alice')!;
  assert.not.ok('f:a' in ((alice.fieldsV1 as Record<string, Record<string, unknown>>)['f:data'] ?? {}), 'alice lost .data.a');
});

test('fields a manager no longer applies are removed unless another manager owns them', async () => {
  await apply(cm('ssa2', { keep: '1', drop: '2', shared: '3' }, { team: 'x' }), 'alice');
  await apply(cm('ssa2', { shared: '3' }), 'carol');
  const after = await apply(cm('ssa2', { keep: '1' }), 'alice');
  assert.equal(after.data, { keep: '1', shared: '3' }, 'drop removed, shared kept (carol owns it)');
  assert.is(after.metadata!.labels?.team, undefined, 'label alice stopped applying is removed');
});

test('an Update by another manager transfers ownership; the applier then conflicts', async () => {
  await apply(cm('ssa3', { a: '1' }), 'alice');
  await env.core.patchNamespacedConfigMap(
    { namespace: env.ns, name: 'ssa3', body: { data: { a: 'edited' } }, fieldManager: 'editor' },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const clash = await statusOf(apply(cm('ssa3', { a: '1' }), 'alice'));
  assert.is(clash.code, 409);
  assert.match(clash.body?.message, /conflict with "editor" using v1: .data.a/);
});

test('apply merges list items by key (containers by name) and replicas with a Deployment', async () => {
  const dep = (containers: { name: string; image: string }[], replicas?: number): V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ssa-dep', namespace: env.ns },
    spec: {
      ...(replicas ? { replicas } : {}),
      selector: { matchLabels: { app: 'd' } },
      template: { metadata: { labels: { app: 'd' } }, spec: { containers } },
    },
  });
  await apply(dep([{ name: 'main', image: 'a:1' }], 2), 'operator');
  await apply(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ssa-dep', namespace: env.ns },
      spec: { template: { spec: { containers: [{ name: 'sidecar', image: 's:1' }] } } },
    } as V1Deployment,
    'injector',
  );
  const both = await env.apps.readNamespacedDeployment({ namespace: env.ns, name: 'ssa-dep' });
  assert.equal(both.spec!.template.spec!.containers.map((c) => c.name).sort(), ['main', 'sidecar']);
  const scaled = await statusOf(apply(dep([{ name: 'main', image: 'a:1' }], 5), 'autoscaler'));
  assert.is(scaled.code, 409);
  assert.match(scaled.body?.message, /\.spec\.replicas/);
  const moved = await apply(dep([{ name: 'main', image: 'a:2' }], 2), 'operator');
  assert.equal(moved.spec!.template.spec!.containers.map((c) => `${c.name}=${c.image}`).sort(), ['main=a:2', 'sidecar=s:1']);
});

test('a list item (by key) a manager stops applying goes whole, its key fields with it', async () => {
  const dep = (containers: { name: string; image: string }[]): V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ssa-drop', namespace: env.ns },
    spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers } } },
  });
  await apply(
    dep([
      { name: 'main', image: 'a:1' },
      { name: 'extra', image: 'e:1' },
    ]),
    'operator',
  );
  const after = await apply(dep([{ name: 'main', image: 'a:1' }]), 'operator');
  assert.equal(
    after.spec!.template.spec!.containers.map((c) => `${c.name}=${c.image}`),
    ['main=a:1'],
  );
});

test('apply without fieldManager is rejected', async () => {
  const r = await statusOf(
    env.core.patchNamespacedConfigMap(
      { namespace: env.ns, name: 'ssa1', body: cm('ssa1', { a: '1' }) },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    ),
  );
  assert.is(r.code, 422);
  assert.match(r.body?.message, /fieldManager: Required value/);
});

test.run();
