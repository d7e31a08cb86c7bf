import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '@marcbachmann/cel-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { Ajv } from 'ajv';
import { bucketSpecSchema } from './bucket.ts';
import { CRD_DIRS, renderCrds } from './crds.ts';
import { applyDefaults, type JsonSchema } from './schema.ts';
import { storageClusterSpecSchema, type StorageClusterSpec } from './storagecluster.ts';

const repo = new URL('../../..', import.meta.url).pathname;

test('committed crds/*.yaml match the TypeScript source (run `npx node hack/gen-crds.ts`)', () => {
  for (const [file, text] of Object.entries(renderCrds()))
    for (const dir of CRD_DIRS) {
      const committed = readFileSync(join(repo, dir, file), 'utf8');
      const a = committed.split('\n'),
        b = text.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      assert.ok(
        committed === text,
        `${dir}/${file} is stale at line ${line + 1} (${JSON.stringify(a[line])} ≠ ${JSON.stringify(b[line])}): run npx node hack/gen-crds.ts`,
      );
    }
});

test('StorageCluster CRD carries scale + status subresources and printer columns', () => {
  const crd = parse(renderCrds()['storagecluster.yaml']);
  const v = crd.spec.versions[0];
  assert.equal(v.subresources.scale, {
    specReplicasPath: '.spec.nodes.replicas',
    statusReplicasPath: '.status.nodes.replicas',
    labelSelectorPath: '.status.nodes.selector',
  });
  assert.equal(v.subresources.status, {});
  assert.equal(
    v.additionalPrinterColumns.map((c: { name: string }) => c.name),
    ['Phase', 'Ready', 'Nodes', 'Used', 'Under-Replicated', 'Zones', 'Endpoint', 'Age'],
  );
  // structural: every property schema has a type (or is int-or-string)
  const check = (s: JsonSchema, path: string) => {
    assert.ok(s.type || s['x-kubernetes-int-or-string'], `no type at ${path}`);
    for (const [k, sub] of Object.entries(s.properties ?? {})) check(sub, `${path}.${k}`);
    if (s.items) check(s.items, `${path}[]`);
  };
  check(v.schema.openAPIV3Schema, '');
});

/** Every field's path in a CRD schema (array items' fields as `a[].b`), with its schema. */
function fieldsOf(s: JsonSchema, path = ''): [string, JsonSchema][] {
  const out: [string, JsonSchema][] = [];
  for (const [k, sub] of Object.entries(s.properties ?? {})) out.push([`${path}.${k}`, sub], ...fieldsOf(sub, `${path}.${k}`));
  if (s.items) out.push(...fieldsOf(s.items, `${path}[]`));
  return out;
}

test('every field of both CRDs has a description (kubectl explain shows none as <empty>)', () => {
  for (const [file, text] of Object.entries(renderCrds())) {
    const root = parse(text).spec.versions[0].schema.openAPIV3Schema as JsonSchema;
    const fields = fieldsOf(root);
    assert.ok(fields.length > 20, `${file}: the walk sees the fields`);
    const bare = fields.filter(([, s]) => !s.description?.trim()).map(([p]) => p);
    assert.equal(bare, [], `${file}: fields without a description`);
    assert.ok(root.description?.trim(), `${file}: the kind has a description`);
  }
});

test('defaults fill nested objects like structural defaulting', () => {
  const spec = applyDefaults<StorageClusterSpec>(storageClusterSpecSchema, { nodes: { replicas: 5 } });
  assert.is(spec.nodes.replicas, 5);
  assert.is(spec.nodes.storage.size, '10Gi');
  assert.is(spec.roots.replicas, 3);
  assert.is(spec.replication.factor, 2);
  assert.is(spec.rebalance.failureTimeoutSeconds, 30);
  assert.is(spec.autoscaling, undefined);
});

// CEL as the API server evaluates it: integers are int64 (BigInt here), `self`/`oldSelf` bound per rule.
const big = (v: unknown): unknown =>
  typeof v === 'number' && Number.isInteger(v)
    ? BigInt(v)
    : Array.isArray(v)
      ? v.map(big)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, big(x)]))
        : v;
function failing(schema: JsonSchema, self: unknown, oldSelf?: unknown): string[] {
  const out: string[] = [];
  const visit = (s: JsonSchema, cur: unknown, old: unknown) => {
    if (cur === undefined) return;
    for (const r of s['x-kubernetes-validations'] ?? []) {
      if (r.rule.includes('oldSelf') && old === undefined) continue; // transition rules run on update only
      if (evaluate(r.rule, { self: big(cur), oldSelf: big(old) }) !== true) out.push(r.message);
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      visit(sub, (cur as Record<string, unknown>)[k], (old as Record<string, unknown> | undefined)?.[k]);
    }
  };
  visit(schema, self, oldSelf);
  return out;
}
const scSpec = (x: unknown) => applyDefaults<StorageClusterSpec>(storageClusterSpecSchema, x);

test('CEL: replication factor ≤ node count, autoscaling bounds', () => {
  assert.equal(failing(storageClusterSpecSchema.json, scSpec({})), []);
  assert.equal(failing(storageClusterSpecSchema.json, scSpec({ nodes: { replicas: 1 }, replication: { factor: 3 } })), [
    'spec.replication.factor must be ≤ spec.nodes.replicas (each replica needs its own node)',
  ]);
  assert.equal(failing(storageClusterSpecSchema.json, scSpec({ autoscaling: { minReplicas: 5, maxReplicas: 3 } })), [
    'spec.autoscaling.minReplicas must be ≤ maxReplicas',
  ]);
  assert.equal(failing(storageClusterSpecSchema.json, scSpec({ autoscaling: { minReplicas: 1, maxReplicas: 3 } })), [
    'spec.replication.factor must be ≤ spec.autoscaling.minReplicas',
  ]);
});

test('CEL: storageClassName and clusterRef are immutable', () => {
  const a = scSpec({ nodes: { storage: { storageClassName: 'fast' } } });
  const b = scSpec({ nodes: { storage: { storageClassName: 'slow' } } });
  assert.equal(failing(storageClusterSpecSchema.json, a, a), []);
  assert.equal(failing(storageClusterSpecSchema.json, b, a), ['spec.nodes.storage.storageClassName is immutable']);
  assert.equal(failing(storageClusterSpecSchema.json, scSpec({}), a), ['spec.nodes.storage.storageClassName is immutable']);
  const bucket = (cluster: string) => applyDefaults(bucketSpecSchema, { clusterRef: { name: cluster } });
  assert.equal(failing(bucketSpecSchema.json, bucket('one'), bucket('one')), []);
  assert.equal(failing(bucketSpecSchema.json, bucket('two'), bucket('one')), ['spec.clusterRef is immutable: a bucket cannot move between clusters']);
});

test('sizes: storage size and chunk size must be positive quantities, other quantities not negative', () => {
  const spec = storageClusterSpecSchema.json.properties!;
  const size = spec.nodes!.properties!.storage!.properties!.size!;
  const chunk = spec.chunkSize!;
  const bandwidth = spec.rebalance!.properties!.bandwidth!;
  // As the API server checks an int-or-string: the pattern for strings, minimum for integers.
  const accepts = (s: JsonSchema, v: string | number) => (typeof v === 'number' ? v >= s.minimum! : new RegExp(s.pattern!, 'u').test(v));
  for (const v of ['10Gi', '1', '+1Gi', '0.5Gi', '.5Mi', '500m', '1e3', '4Mi', 1, 4096]) {
    assert.ok(accepts(size, v) && accepts(chunk, v), `accepts ${v}`);
  }
  for (const v of ['-1Gi', '-1', '0', '0Gi', '0.0', '00', '-0', '+0Mi', '.0', '0e3', 'Gi', '', 0, -1]) {
    assert.not.ok(accepts(size, v) || accepts(chunk, v), `refuses ${JSON.stringify(v)}`);
  }
  assert.ok(accepts(bandwidth, '0') && accepts(bandwidth, 0), '0 = unlimited bandwidth');
  assert.not.ok(accepts(bandwidth, '-1Mi') || accepts(bandwidth, -1), 'no negative bandwidth');
});

test('examples/*.yaml validate against the generated CRD schemas and CEL rules', () => {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
  const schemas: Record<string, JsonSchema> = {};
  for (const text of Object.values(renderCrds())) {
    const crd = parse(text);
    schemas[crd.spec.names.kind] = crd.spec.versions[0].schema.openAPIV3Schema;
  }
  let checked = 0;
  for (const file of ['storagecluster.yaml', 'bucket.yaml']) {
    for (const doc of parseAllDocuments(readFileSync(join(repo, 'examples', file), 'utf8'))) {
      const obj = doc.toJS();
      if (obj?.apiVersion !== 'storage.cairn.dev/v1alpha1') continue;
      const schema = schemas[obj.kind]!;
      assert.ok(ajv.validate(schema, obj), `${file}: ${ajv.errorsText()}`);
      assert.equal(failing(schema.properties!.spec!, applyDefaults(schema.properties!.spec!, obj.spec)), [], `${file}: CEL`);
      checked++;
    }
  }
  assert.is(checked, 2);
  assert.not.ok(ajv.validate(schemas.Bucket!, { spec: { clusterRef: {}, access: 'world' } }), 'the schema rejects a bad Bucket');
  assert.match(ajv.errorsText(), "must have required property 'name'");
});

test('examples/autoscaling scale the example StorageCluster (same name and namespace) through its scale subresource', () => {
  const cluster = parseAllDocuments(readFileSync(join(repo, 'examples', 'storagecluster.yaml'), 'utf8'))
    .map((d) => d.toJS())
    .find((o) => o?.kind === 'StorageCluster');
  const crd = parse(renderCrds()['storagecluster.yaml']);
  let targets = 0;
  for (const file of readdirSync(join(repo, 'examples', 'autoscaling')).filter((f) => f.endsWith('.yaml'))) {
    for (const obj of parseAllDocuments(readFileSync(join(repo, 'examples', 'autoscaling', file), 'utf8')).map((d) => d.toJS())) {
      const ref = obj?.spec?.scaleTargetRef;
      if (!ref) continue;
      assert.equal(
        [ref.apiVersion, ref.kind, ref.name],
        [cluster.apiVersion, 'StorageCluster', cluster.metadata.name],
        `${file}: ${obj.kind} ${obj.metadata.name} targets the example cluster`,
      );
      assert.is(obj.metadata.namespace, cluster.metadata.namespace, `${file}: in the example cluster's namespace`);
      targets++;
    }
  }
  assert.is(targets, 2, 'the HPA and the KEDA ScaledObject');
  assert.ok(crd.spec.versions[0].subresources.scale, 'what they scale through');
});

test.run();
