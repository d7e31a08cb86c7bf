// Conformance: CustomResourceDefinitions — registration and discovery, structural schema
// validation with Kubernetes' messages, defaults, pruning, CEL rules (incl. transition rules),
// status/scale subresources and generation, printer columns, cleanup when the CRD goes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { waitFor } from '../../testing/net.ts';
import { installWidgets, kubeTestEnv, removeWidgets, statusOf, widgetCrd, type KubeTestEnv } from './testenv.ts';

let env: KubeTestEnv;
const group = `g${Math.random().toString(36).slice(2, 7)}.conformance.cairn.dev`;
test.before(async () => {
  env = await kubeTestEnv('crd');
  await installWidgets(env, group);
});
test.after(async () => {
  if (env) {
    await removeWidgets(env, group);
    await env.close();
  }
});

type W = Record<string, any>;
const widget = (name: string, spec: W): W => ({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec });
const create = (w: W, query: { fieldValidation?: string } = {}) =>
  env.custom.createNamespacedCustomObject({ group, version: 'v1', namespace: env.ns, plural: 'widgets', body: w, ...query }) as Promise<W>;
const get = (name: string) => env.custom.getNamespacedCustomObject({ group, version: 'v1', namespace: env.ns, plural: 'widgets', name }) as Promise<W>;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const patch = (name: string, body: W) =>
  env.custom.patchNamespacedCustomObject({ group, version: 'v1', namespace: env.ns, plural: 'widgets', name, body }, merge) as Promise<W>;
const patchStatus = (name: string, body: W) =>
  env.custom.patchNamespacedCustomObjectStatus({ group, version: 'v1', namespace: env.ns, plural: 'widgets', name, body }, merge) as Promise<W>;

test('the CRD is established and its resource is in discovery with subresources', async () => {
  const res = await env.kc.makeApiClient((await import('@kubernetes/client-node')).CustomObjectsApi).getAPIResources({ group, version: 'v1' });
  const names = res.resources.map((r) => r.name);
  assert.ok(names.includes('widgets') && names.includes('widgets/status') && names.includes('widgets/scale'), names.join(','));
  const w = res.resources.find((r) => r.name === 'widgets')!;
  assert.is(w.kind, 'Widget');
  assert.ok(w.namespaced);
  assert.equal(w.shortNames, ['wdg']);
});

test('defaults are applied and unknown fields pruned (preserve-unknown-fields kept)', async () => {
  const made = await create(widget('defaults', { image: 'cairn:1', bogus: true, extra: { anything: { goes: 1 } }, limits: { size: '10Gi' } }));
  assert.is(made.spec.replicas, 1);
  assert.is(made.spec.mode, 'safe');
  assert.is(made.spec.bogus, undefined);
  assert.equal(made.spec.extra, { anything: { goes: 1 } });
  assert.is(made.spec.limits.size, '10Gi');
  assert.is(made.metadata.generation, 1);
  const strict = await statusOf(create(widget('strict', { image: 'cairn:1', bogus: true }), { fieldValidation: 'Strict' }));
  assert.is(strict.code, 400);
  assert.match(strict.body?.message, /unknown field "spec.bogus"/);
});

test('schema violations are a 422 listing every field error as Kubernetes words them', async () => {
  const r = await statusOf(create(widget('bad', { replicas: 0, mode: 'turbo', tags: ['a', 'b', 'c', 'd'], limits: { size: 1.5 } })));
  assert.is(r.code, 422);
  assert.is(r.body?.reason, 'Invalid');
  const msg: string = r.body?.message;
  assert.ok(msg.startsWith(`Widget.${group} "bad" is invalid: [`), msg);
  for (const part of [
    'spec.image: Required value',
    'spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
    'spec.mode: Unsupported value: "turbo": supported values: "fast", "safe"',
    'spec.tags: Too many: 4: must have at most 3 items',
    'spec.limits.size: Invalid value: "number": spec.limits.size in body must be of type integer,string: "number"',
  ])
    assert.ok(msg.includes(part), `missing "${part}" in ${msg}`);
  const fields = (r.body?.details?.causes as { field: string }[]).map((c) => c.field);
  assert.ok(fields.includes('spec.image') && fields.includes('spec.replicas'));
  const typed = await statusOf(create(widget('typed', { image: 'UPPER', replicas: 'three' })));
  assert.match(typed.body?.message, /spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"/);
  assert.match(typed.body?.message, /spec.image: Invalid value: "UPPER": spec.image in body should match '\^\[a-z0-9:.\/-\]\+\$'/);
});

test('CEL rules: message on failure, transition rule with oldSelf on update', async () => {
  const even = await statusOf(create(widget('even', { image: 'cairn:1', replicas: 2 })));
  assert.is(even.code, 422);
  assert.is(even.body?.message, `Widget.${group} "even" is invalid: spec: Invalid value: "object": replicas must be odd`);
  await create(widget('cel', { image: 'cairn:1', replicas: 3, mode: 'fast' }));
  const flip = await statusOf(patch('cel', { spec: { mode: 'safe' } }));
  assert.is(flip.code, 422);
  assert.match(flip.body?.message, /spec: Invalid value: "object": mode is immutable/);
  const ok = await patch('cel', { spec: { replicas: 5 } });
  assert.is(ok.spec.replicas, 5);
});

test('status subresource and generation for a custom resource', async () => {
  const w = await create({ ...widget('st', { image: 'cairn:1' }), status: { phase: 'Sneaky' } });
  assert.is(w.status, undefined, 'create ignores status');
  const s = await patchStatus('st', { status: { phase: 'Running', replicas: 1, observedGeneration: 1 }, spec: { replicas: 7 } });
  assert.is(s.status.phase, 'Running');
  assert.is(s.spec.replicas, 1, 'status write ignores spec');
  assert.is(s.metadata.generation, 1);
  const m = await patch('st', { spec: { replicas: 3 }, status: { phase: 'Ignored' } });
  assert.is(m.status.phase, 'Running', 'main write ignores status');
  assert.is(m.metadata.generation, 2);
  const l = await patch('st', { metadata: { labels: { a: 'b' } } });
  assert.is(l.metadata.generation, 2, 'metadata-only change keeps generation');
  const { resourceVersion: _rv, ...metaNoRv } = l.metadata;
  void _rv;
  const blind = await statusOf(
    env.custom.replaceNamespacedCustomObject({ group, version: 'v1', namespace: env.ns, plural: 'widgets', name: 'st', body: { ...l, metadata: metaNoRv } }),
  );
  assert.is(blind.code, 422, 'custom resources refuse unconditional updates');
  assert.match(blind.body?.message, /metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/);
});

test('scale subresource maps onto spec/status paths; strategic merge is refused for custom resources', async () => {
  await create(widget('sc', { image: 'cairn:1', replicas: 3 }));
  await patchStatus('sc', { status: { replicas: 3, selector: 'app=sc' } });
  const scale = (await env.custom.getNamespacedCustomObjectScale({ group, version: 'v1', namespace: env.ns, plural: 'widgets', name: 'sc' })) as W;
  assert.equal(
    { kind: scale.kind, spec: scale.spec, status: scale.status },
    { kind: 'Scale', spec: { replicas: 3 }, status: { replicas: 3, selector: 'app=sc' } },
  );
  await env.custom.patchNamespacedCustomObjectScale(
    { group, version: 'v1', namespace: env.ns, plural: 'widgets', name: 'sc', body: { spec: { replicas: 5 } } },
    merge,
  );
  assert.is((await get('sc')).spec.replicas, 5);
  const even = await statusOf(
    env.custom.patchNamespacedCustomObjectScale(
      { group, version: 'v1', namespace: env.ns, plural: 'widgets', name: 'sc', body: { spec: { replicas: 4 } } },
      merge,
    ),
  );
  assert.is(even.code, 422, 'scale writes go through the CR validation');
  const smp = await statusOf(
    env.custom.patchNamespacedCustomObject(
      { group, version: 'v1', namespace: env.ns, plural: 'widgets', name: 'sc', body: { spec: { replicas: 7 } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    ),
  );
  assert.is(smp.code, 415);
});

test('Table output carries the printer columns', async () => {
  await create(widget('tbl', { image: 'cairn:1', replicas: 3 }));
  await patchStatus('tbl', { status: { phase: 'Ready', conditions: [{ type: 'Ready', status: 'True' }] } });
  const res = await fetch(`${env.kc.getCurrentCluster()!.server}/apis/${group}/v1/namespaces/${env.ns}/widgets`, {
    headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
  });
  const table = (await res.json()) as W;
  assert.is(table.kind, 'Table');
  assert.equal(
    table.columnDefinitions.map((c: W) => c.name),
    ['Name', 'Replicas', 'Phase', 'Ready'],
  );
  const row = table.rows.find((r: W) => r.cells[0] === 'tbl');
  assert.equal(row.cells, ['tbl', 3, 'Ready', 'True']);
  assert.is(row.object.kind, 'PartialObjectMetadata');
});

test('a non-structural CRD schema is rejected as Kubernetes does', async () => {
  const bad = widgetCrd(`bad.${group}`) as W;
  const schema = bad.spec.versions[0].schema.openAPIV3Schema;
  delete schema.properties.spec.properties.image.type;
  schema.properties.spec.properties.tags = { type: 'array' };
  const r = await env.kubectl(['create', '-f', '-'], JSON.stringify(bad));
  assert.is.not(r.code, 0);
  assert.match(
    r.stderr,
    /spec.versions\[0\].schema.openAPIV3Schema.properties\[spec\].properties\[image\].type: Required value: must not be empty for specified object fields/,
  );
  assert.match(r.stderr, /spec.versions\[0\].schema.openAPIV3Schema.properties\[spec\].properties\[tags\].items: Required value/);
});

test('deleting the CRD deletes its custom resources and unregisters the resource', async () => {
  const g2 = `h${Math.random().toString(36).slice(2, 7)}.conformance.cairn.dev`;
  await installWidgets(env, g2);
  await env.custom.createNamespacedCustomObject({
    group: g2,
    version: 'v1',
    namespace: env.ns,
    plural: 'widgets',
    body: { apiVersion: `${g2}/v1`, kind: 'Widget', metadata: { name: 'doomed' }, spec: { image: 'x' } },
  });
  await removeWidgets(env, g2);
  await waitFor(async () => (await statusOf(env.ext.readCustomResourceDefinition({ name: `widgets.${g2}` }))).code === 404, {
    what: 'CRD gone',
    timeoutMs: 30_000,
  });
  const r = await statusOf(env.custom.listNamespacedCustomObject({ group: g2, version: 'v1', namespace: env.ns, plural: 'widgets' }));
  assert.is(r.code, 404);
});

test.run();
