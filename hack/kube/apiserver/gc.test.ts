// Conformance: ownerReference garbage collection (background, foreground with blockOwnerDeletion,
// orphan), namespace termination, and Leases/Events as plain stored kinds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PatchStrategy, setHeaderOptions, type V1ConfigMap, type V1OwnerReference } from '@kubernetes/client-node';
import { waitFor } from '../../testing/net.ts';
import { kubeTestEnv, statusOf, type KubeTestEnv } from './testenv.ts';

let env: KubeTestEnv;
test.before(async () => {
  env = await kubeTestEnv('gc');
});
test.after(async () => {
  await env?.close();
});

const ref = (o: V1ConfigMap, block = false): V1OwnerReference => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  name: o.metadata!.name!,
  uid: o.metadata!.uid!,
  controller: true,
  ...(block ? { blockOwnerDeletion: true } : {}),
});
const mk = (name: string, owner?: V1OwnerReference, finalizers?: string[]) =>
  env.core.createNamespacedConfigMap({
    namespace: env.ns,
    body: { metadata: { name, ...(owner ? { ownerReferences: [owner] } : {}), ...(finalizers ? { finalizers } : {}) } },
  });
const exists = async (name: string) => (await statusOf(env.core.readNamespacedConfigMap({ namespace: env.ns, name }))).code !== 404;
const read = (name: string) => env.core.readNamespacedConfigMap({ namespace: env.ns, name });
const json = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

test('background: dependents are deleted after the owner is gone', async () => {
  const owner = await mk('bg-owner');
  await mk('bg-child', ref(owner));
  const grand = await read('bg-child');
  await mk('bg-grandchild', ref(grand));
  await env.core.deleteNamespacedConfigMap({ namespace: env.ns, name: 'bg-owner', propagationPolicy: 'Background' });
  assert.not.ok(await exists('bg-owner'), 'owner deleted at once');
  await waitFor(async () => !(await exists('bg-child')) && !(await exists('bg-grandchild')), { what: 'dependents collected', timeoutMs: 30_000 });
});

test('foreground: the owner waits (foregroundDeletion finalizer) until blocking dependents are gone', async () => {
  const owner = await mk('fg-owner');
  await mk('fg-child', ref(owner, true), ['cairn.dev/hold']);
  await env.core.deleteNamespacedConfigMap({ namespace: env.ns, name: 'fg-owner', propagationPolicy: 'Foreground' });
  const deleting = await read('fg-owner');
  assert.ok(deleting.metadata!.deletionTimestamp);
  assert.ok(deleting.metadata!.finalizers!.includes('foregroundDeletion'));
  await waitFor(async () => !!(await read('fg-child')).metadata!.deletionTimestamp, { what: 'child being deleted', timeoutMs: 30_000 });
  assert.ok(await exists('fg-owner'), 'owner still there while the child is held by its finalizer');
  await env.core.patchNamespacedConfigMap({ namespace: env.ns, name: 'fg-child', body: [{ op: 'remove', path: '/metadata/finalizers' }] }, json);
  await waitFor(async () => !(await exists('fg-owner')), { what: 'owner deleted after child', timeoutMs: 30_000 });
});

test('orphan: dependents stay and lose the ownerReference', async () => {
  const owner = await mk('or-owner');
  await mk('or-child', ref(owner));
  await env.core.deleteNamespacedConfigMap({ namespace: env.ns, name: 'or-owner', propagationPolicy: 'Orphan' });
  await waitFor(async () => !(await exists('or-owner')), { what: 'owner deleted', timeoutMs: 30_000 });
  const child = await read('or-child');
  assert.is((child.metadata!.ownerReferences ?? []).length, 0);
});

test('a dependent whose owner never existed is collected; one live owner keeps it', async () => {
  const live = await mk('live-owner');
  await mk('dangling', { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' });
  await env.core.createNamespacedConfigMap({
    namespace: env.ns,
    body: {
      metadata: {
        name: 'two-owners',
        ownerReferences: [ref(live), { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000001' }],
      },
    },
  });
  await waitFor(async () => !(await exists('dangling')), { what: 'dangling dependent collected', timeoutMs: 30_000 });
  assert.ok(await exists('two-owners'));
});

test('deleting a namespace deletes its contents, then the namespace', async () => {
  const ns = `${env.ns}-x`;
  await env.core.createNamespace({ body: { metadata: { name: ns } } });
  await env.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'inside' } } });
  await env.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'secret' }, stringData: { a: 'b' } } });
  await env.core.deleteNamespace({ name: ns });
  const term = await statusOf(
    env.core.readNamespace({ name: ns }).then((n) => {
      if (n.status?.phase !== 'Terminating') throw new Error(String(n.status?.phase));
    }),
  );
  assert.ok(term.code === undefined || term.code === 404, 'Terminating while contents go');
  await waitFor(async () => (await statusOf(env.core.readNamespace({ name: ns }))).code === 404, { what: 'namespace gone', timeoutMs: 60_000 });
  const r = await statusOf(env.core.readNamespacedConfigMap({ namespace: ns, name: 'inside' }));
  assert.is(r.code, 404);
});

test('namespaces get a default ServiceAccount; the system namespaces cannot be deleted', async () => {
  await waitFor(async () => (await statusOf(env.core.readNamespacedServiceAccount({ namespace: env.ns, name: 'default' }))).code === undefined, {
    what: 'default service account',
  });
  const r = await statusOf(env.core.deleteNamespace({ name: 'default' }));
  assert.is(r.code, 403);
  assert.is(r.body?.message, 'namespaces "default" is forbidden: this namespace may not be deleted');
});

test('leases and events are stored kinds', async () => {
  const lease = await env.coord.createNamespacedLease({
    namespace: env.ns,
    body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: new Date(), renewTime: new Date() } },
  });
  assert.is(lease.spec!.holderIdentity, 'a');
  const taken = await env.coord.replaceNamespacedLease({ namespace: env.ns, name: 'leader', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } });
  assert.is(taken.spec!.holderIdentity, 'b');
  const stale = await statusOf(
    env.coord.replaceNamespacedLease({ namespace: env.ns, name: 'leader', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } } }),
  );
  assert.is(stale.code, 409, 'lease takeover races are decided by resourceVersion');
  await env.core.createNamespacedEvent({
    namespace: env.ns,
    body: { metadata: { name: 'ev1' }, involvedObject: { kind: 'ConfigMap', name: 'x', namespace: env.ns }, reason: 'Test', message: 'hello', type: 'Normal' },
  });
  const evs = await env.core.listNamespacedEvent({ namespace: env.ns, fieldSelector: 'involvedObject.name=x' });
  assert.is(evs.items.length, 1);
  assert.is(evs.items[0].message, 'hello');
});

test.run();
