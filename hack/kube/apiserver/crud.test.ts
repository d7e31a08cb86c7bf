// Conformance: CRUD verbs, optimistic concurrency, selectors, pagination, patches, status and
// generation semantics, finalizers. Runs against the emulator, or any cluster named by KUBECONFIG.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PatchStrategy, setHeaderOptions, type V1ConfigMap, type V1StatefulSet } from '@kubernetes/client-node';
import { kubeTestEnv, statusOf, type KubeTestEnv } from './testenv.ts';

let env: KubeTestEnv;
test.before(async () => {
  env = await kubeTestEnv('crud');
});
test.after(async () => {
  await env?.close();
});

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = { a: '1' }): V1ConfigMap => ({
  metadata: { name, labels },
  data,
});

test('create, get, AlreadyExists and NotFound are Kubernetes-shaped', async () => {
  const made = await env.core.createNamespacedConfigMap({ namespace: env.ns, body: cm('one') });
  assert.ok(made.metadata?.uid);
  assert.ok(made.metadata?.creationTimestamp);
  assert.match(made.metadata!.resourceVersion!, /^\d+$/);
  const again = await statusOf(env.core.createNamespacedConfigMap({ namespace: env.ns, body: cm('one') }));
  assert.is(again.code, 409);
  assert.is(again.body?.reason, 'AlreadyExists');
  assert.is(again.body?.message, 'configmaps "one" already exists');
  const missing = await statusOf(env.core.readNamespacedConfigMap({ namespace: env.ns, name: 'nope' }));
  assert.is(missing.code, 404);
  assert.is(missing.body?.kind, 'Status');
  assert.is(missing.body?.reason, 'NotFound');
  assert.equal(missing.body?.details, { name: 'nope', kind: 'configmaps' });
});

test('generateName makes a unique name; missing name is 422', async () => {
  const a = await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { generateName: 'gen-' } } });
  const b = await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { generateName: 'gen-' } } });
  assert.match(a.metadata!.name!, /^gen-[a-z0-9]{5}$/);
  assert.is.not(a.metadata!.name, b.metadata!.name);
  const bad = await statusOf(env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: {} } }));
  assert.is(bad.code, 422);
  assert.match(bad.body?.message, /metadata.name: Required value: name or generateName is required/);
});

test('update with a stale resourceVersion is a 409 Conflict', async () => {
  const v1 = await env.core.createNamespacedConfigMap({ namespace: env.ns, body: cm('occ') });
  const v2 = await env.core.replaceNamespacedConfigMap({ namespace: env.ns, name: 'occ', body: { ...v1, data: { a: '2' } } });
  assert.ok(Number(v2.metadata!.resourceVersion) > Number(v1.metadata!.resourceVersion));
  const stale = await statusOf(env.core.replaceNamespacedConfigMap({ namespace: env.ns, name: 'occ', body: { ...v1, data: { a: '3' } } }));
  assert.is(stale.code, 409);
  assert.is(stale.body?.reason, 'Conflict');
  assert.is(
    stale.body?.message,
    'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
  );
  const noop = await env.core.replaceNamespacedConfigMap({ namespace: env.ns, name: 'occ', body: v2 });
  assert.is(noop.metadata!.resourceVersion, v2.metadata!.resourceVersion, 'a write that changes nothing keeps the resourceVersion');
  const two = await env.core.replaceNamespacedConfigMap({ namespace: env.ns, name: 'occ', body: { ...v2, data: { a: '2', b: '1' } } });
  const reordered = await env.core.replaceNamespacedConfigMap({ namespace: env.ns, name: 'occ', body: { ...two, data: { b: '1', a: '2' } } });
  assert.is(reordered.metadata!.resourceVersion, two.metadata!.resourceVersion, 'key order is not a change');
});

test('label selectors (equality and set-based), field selectors, limit/continue', async () => {
  for (let i = 0; i < 5; i++)
    await env.core.createNamespacedConfigMap({
      namespace: env.ns,
      body: cm(`sel-${i}`, { app: 'sel', tier: i % 2 ? 'odd' : 'even', ...(i === 4 ? { canary: 'yes' } : {}) }),
    });
  const names = (l: { items: V1ConfigMap[] }) => l.items.map((c) => c.metadata!.name).sort();
  assert.equal(names(await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'app=sel,tier=odd' })), ['sel-1', 'sel-3']);
  assert.equal(names(await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'app=sel,tier in (even),!canary' })), ['sel-0', 'sel-2']);
  assert.equal(names(await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'tier notin (even),app' })), ['sel-1', 'sel-3']);
  assert.equal(names(await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'canary' })), ['sel-4']);
  assert.equal(names(await env.core.listNamespacedConfigMap({ namespace: env.ns, fieldSelector: 'metadata.name=sel-2' })), ['sel-2']);
  assert.equal(names(await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'app=sel', fieldSelector: 'metadata.name!=sel-2' })), [
    'sel-0',
    'sel-1',
    'sel-3',
    'sel-4',
  ]);
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'app=sel', limit: 2, _continue: token });
    seen.push(...page.items.map((c) => c.metadata!.name!));
    token = page.metadata?._continue || undefined;
    if (token) assert.ok((page.metadata?.remainingItemCount ?? 0) > 0);
    pages++;
  } while (token && pages < 10);
  assert.is(pages, 3);
  assert.equal(seen.sort(), ['sel-0', 'sel-1', 'sel-2', 'sel-3', 'sel-4']);
  const bad = await statusOf(env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'a in (b' }));
  assert.is(bad.code, 400);
  const unsupported = await statusOf(env.core.listNamespacedConfigMap({ namespace: env.ns, fieldSelector: 'data.a=1' }));
  assert.is(unsupported.code, 400);
  assert.match(unsupported.body?.message, /field label not supported: data.a/);
});

test('deletecollection removes only what the selector matches', async () => {
  for (const [n, l] of [
    ['dc-1', 'a'],
    ['dc-2', 'a'],
    ['dc-3', 'b'],
  ])
    await env.core.createNamespacedConfigMap({ namespace: env.ns, body: cm(n, { dc: l }) });
  await env.core.deleteCollectionNamespacedConfigMap({ namespace: env.ns, labelSelector: 'dc=a' });
  const left = await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'dc' });
  assert.equal(
    left.items.map((c) => c.metadata!.name),
    ['dc-3'],
  );
});

test('continue tokens page through one consistent snapshot; resourceVersionMatch=Exact lists the past', async () => {
  for (const n of ['pg-a', 'pg-b', 'pg-c', 'pg-e']) await env.core.createNamespacedConfigMap({ namespace: env.ns, body: cm(n, { pg: 'x' }, { v: '1' }) });
  const first = await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'pg', limit: 2 });
  assert.equal(
    first.items.map((c) => c.metadata!.name),
    ['pg-a', 'pg-b'],
  );
  await env.core.createNamespacedConfigMap({ namespace: env.ns, body: cm('pg-d', { pg: 'x' }) });
  await env.core.patchNamespacedConfigMap(
    { namespace: env.ns, name: 'pg-e', body: { data: { v: '2' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const rest = await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'pg', limit: 10, _continue: first.metadata!._continue });
  assert.equal(
    rest.items.map((c) => c.metadata!.name),
    ['pg-c', 'pg-e'],
    'objects created after the first page are not in it',
  );
  assert.is(rest.items[1].data!.v, '1', 'and later changes are not seen');
  assert.is(rest.metadata!.resourceVersion, first.metadata!.resourceVersion);
  const past = await env.core.listNamespacedConfigMap({
    namespace: env.ns,
    labelSelector: 'pg',
    resourceVersion: first.metadata!.resourceVersion,
    resourceVersionMatch: 'Exact',
  });
  assert.equal(
    past.items.map((c) => `${c.metadata!.name}=${c.data?.v}`),
    ['pg-a=1', 'pg-b=1', 'pg-c=1', 'pg-e=1'],
  );
  const now = await env.core.listNamespacedConfigMap({ namespace: env.ns, labelSelector: 'pg' });
  assert.equal(
    now.items.map((c) => `${c.metadata!.name}=${c.data?.v}`),
    ['pg-a=1', 'pg-b=1', 'pg-c=1', 'pg-d=undefined', 'pg-e=2'],
  );
});

test('merge, JSON (with a failing test op) and strategic merge patches', async () => {
  await env.core.createNamespacedConfigMap({ namespace: env.ns, body: cm('patchme', { x: '1' }, { a: '1', b: '2' }) });
  const merged = await env.core.patchNamespacedConfigMap(
    { namespace: env.ns, name: 'patchme', body: { data: { b: null, c: '3' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  assert.equal(merged.data, { a: '1', c: '3' });
  const jp = await env.core.patchNamespacedConfigMap(
    {
      namespace: env.ns,
      name: 'patchme',
      body: [
        { op: 'test', path: '/data/a', value: '1' },
        { op: 'replace', path: '/data/a', value: '9' },
      ],
    },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  assert.is(jp.data!.a, '9');
  const failed = await statusOf(
    env.core.patchNamespacedConfigMap(
      {
        namespace: env.ns,
        name: 'patchme',
        body: [
          { op: 'test', path: '/data/a', value: '1' },
          { op: 'remove', path: '/data/a' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ),
  );
  assert.is(failed.code, 422);
  const sts: V1StatefulSet = {
    metadata: { name: 'smp' },
    spec: {
      serviceName: 'smp',
      selector: { matchLabels: { app: 'smp' } },
      template: {
        metadata: { labels: { app: 'smp' } },
        spec: {
          containers: [
            { name: 'a', image: 'one', env: [{ name: 'X', value: '1' }] },
            { name: 'b', image: 'two' },
          ],
        },
      },
    },
  };
  await env.apps.createNamespacedStatefulSet({ namespace: env.ns, body: sts });
  const patched = await env.apps.patchNamespacedStatefulSet(
    {
      namespace: env.ns,
      name: 'smp',
      body: {
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'b', image: 'three' },
                { name: 'a', env: [{ name: 'Y', value: '2' }] },
              ],
            },
          },
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  const cs = patched.spec!.template.spec!.containers;
  assert.equal(cs.map((c) => `${c.name}=${c.image}`).sort(), ['a=one', 'b=three'], 'containers merge by name');
  assert.equal(
    cs
      .find((c) => c.name === 'a')!
      .env!.map((e) => e.name)
      .sort(),
    ['X', 'Y'],
    'env merges by name',
  );
});

test('status subresource: main writes ignore status, status writes ignore spec; generation follows spec', async () => {
  const sts = await env.apps.createNamespacedStatefulSet({
    namespace: env.ns,
    body: {
      metadata: { name: 'gen' },
      spec: {
        replicas: 1,
        serviceName: 'gen',
        selector: { matchLabels: { app: 'gen' } },
        template: { metadata: { labels: { app: 'gen' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
      status: { replicas: 42 } as never,
    },
  });
  assert.is(sts.metadata!.generation, 1);
  assert.is.not(sts.status?.replicas, 42, 'create ignores status');
  const st = await env.apps.replaceNamespacedStatefulSetStatus({
    namespace: env.ns,
    name: 'gen',
    body: { ...sts, spec: { ...sts.spec!, replicas: 7 }, status: { replicas: 1, observedGeneration: 1 } },
  });
  assert.is(st.status!.replicas, 1);
  assert.is(st.spec!.replicas, 1, 'status write ignores spec');
  assert.is(st.metadata!.generation, 1, 'status write does not bump generation');
  const main = await env.apps.replaceNamespacedStatefulSet({
    namespace: env.ns,
    name: 'gen',
    body: { ...st, spec: { ...st.spec!, replicas: 3 }, status: { replicas: 99 } },
  });
  assert.is(main.spec!.replicas, 3);
  assert.is(main.status!.replicas, 1, 'main write ignores status');
  assert.is(main.metadata!.generation, 2, 'spec change bumps generation');
  const labelled = await env.apps.patchNamespacedStatefulSet(
    { namespace: env.ns, name: 'gen', body: { metadata: { labels: { l: 'v' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  assert.is(labelled.metadata!.generation, 2, 'metadata change keeps generation');
  const scale = await env.apps.readNamespacedStatefulSetScale({ namespace: env.ns, name: 'gen' });
  assert.is(scale.spec!.replicas, 3);
  assert.is(scale.status!.selector, 'app=gen');
  await env.apps.replaceNamespacedStatefulSetScale({ namespace: env.ns, name: 'gen', body: { ...scale, spec: { replicas: 5 } } });
  const after = await env.apps.readNamespacedStatefulSet({ namespace: env.ns, name: 'gen' });
  assert.is(after.spec!.replicas, 5);
  assert.is(after.metadata!.generation, 3);
});

test('finalizers keep a deleted object until they are removed', async () => {
  await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'fin', finalizers: ['cairn.dev/test'] } } });
  await env.core.deleteNamespacedConfigMap({ namespace: env.ns, name: 'fin' });
  const held = await env.core.readNamespacedConfigMap({ namespace: env.ns, name: 'fin' });
  assert.ok(held.metadata!.deletionTimestamp, 'deletionTimestamp set');
  const more = await statusOf(
    env.core.patchNamespacedConfigMap(
      { namespace: env.ns, name: 'fin', body: [{ op: 'add', path: '/metadata/finalizers/-', value: 'cairn.dev/other' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ),
  );
  assert.is(more.code, 422, 'no new finalizers on a deleting object');
  await env.core.patchNamespacedConfigMap(
    {
      namespace: env.ns,
      name: 'fin',
      body: [
        { op: 'test', path: '/metadata/finalizers/0', value: 'cairn.dev/test' },
        { op: 'remove', path: '/metadata/finalizers/0' },
      ],
    },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  const gone = await statusOf(env.core.readNamespacedConfigMap({ namespace: env.ns, name: 'fin' }));
  assert.is(gone.code, 404);
});

test('built-in validation: selector must match template labels; StatefulSet spec is mostly immutable', async () => {
  const sts = (labels: Record<string, string>, claim = 'data'): V1StatefulSet => ({
    metadata: { name: 'immut' },
    spec: {
      serviceName: 'immut',
      selector: { matchLabels: { app: 'immut' } },
      template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      volumeClaimTemplates: [{ metadata: { name: claim }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  const mismatch = await statusOf(env.apps.createNamespacedStatefulSet({ namespace: env.ns, body: sts({ app: 'other' }) }));
  assert.is(mismatch.code, 422);
  assert.match(mismatch.body?.message, /spec.template.metadata.labels: Invalid value: .*`selector` does not match template `labels`/);
  const made = await env.apps.createNamespacedStatefulSet({ namespace: env.ns, body: sts({ app: 'immut' }) });
  const changed = await statusOf(
    env.apps.replaceNamespacedStatefulSet({
      namespace: env.ns,
      name: 'immut',
      body: { ...made, spec: { ...made.spec!, volumeClaimTemplates: sts({}, 'other').spec!.volumeClaimTemplates } },
    }),
  );
  assert.is(changed.code, 422);
  assert.match(changed.body?.message, /spec: Forbidden: updates to statefulset spec for fields other than 'replicas'/);
  const noImage = await statusOf(
    env.core.createNamespacedPod({ namespace: env.ns, body: { metadata: { name: 'noimg' }, spec: { containers: [{ name: 'c' } as never] } } }),
  );
  assert.is(noImage.code, 422);
  assert.match(noImage.body?.message, /spec.containers\[0\].image: Required value/);
});

test('pods/binding assigns a node once; spec.nodeName cannot be patched', async () => {
  await env.core.createNamespacedPod({ namespace: env.ns, body: { metadata: { name: 'bindme' }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
  await env.core.createNamespacedBinding({
    namespace: env.ns,
    body: { metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } },
  });
  assert.is((await env.core.readNamespacedPod({ namespace: env.ns, name: 'bindme' })).spec!.nodeName, 'node-a');
  const again = await statusOf(
    env.core.createNamespacedBinding({ namespace: env.ns, body: { metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-b' } } }),
  );
  assert.is(again.code, 409);
  const patched = await statusOf(
    env.core.patchNamespacedPod(
      { namespace: env.ns, name: 'bindme', body: { spec: { nodeName: 'node-b' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  assert.is(patched.code, 422);
});

test('secret stringData is stored as base64 data', async () => {
  const s = await env.core.createNamespacedSecret({ namespace: env.ns, body: { metadata: { name: 'creds' }, stringData: { key: 'value' } } });
  assert.equal(s.data, { key: Buffer.from('value').toString('base64') });
  assert.is(s.stringData, undefined);
  assert.is(s.type, 'Opaque');
  await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'frozen' }, data: { a: '1' }, immutable: true } });
  const frozen = await statusOf(
    env.core.patchNamespacedConfigMap(
      { namespace: env.ns, name: 'frozen', body: { data: { a: '2' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  assert.is(frozen.code, 422);
  assert.match(frozen.body?.message, /data: Forbidden: field is immutable when `immutable` is set/);
});

test('delete preconditions and objects in missing namespaces', async () => {
  const c = await env.core.createNamespacedConfigMap({ namespace: env.ns, body: cm('pre') });
  const wrong = await statusOf(env.core.deleteNamespacedConfigMap({ namespace: env.ns, name: 'pre', body: { preconditions: { uid: 'not-the-uid' } } }));
  assert.is(wrong.code, 409);
  await env.core.deleteNamespacedConfigMap({ namespace: env.ns, name: 'pre', body: { preconditions: { uid: c.metadata!.uid } } });
  const none = await statusOf(env.core.createNamespacedConfigMap({ namespace: 'no-such-ns', body: cm('x') }));
  assert.is(none.code, 404);
  assert.is(none.body?.message, 'namespaces "no-such-ns" not found');
});

test.run();
