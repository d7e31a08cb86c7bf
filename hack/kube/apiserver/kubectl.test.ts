// Conformance with kubectl (the real binary): apply -f of a CRD and a custom resource, get -o yaml,
// get with printer columns, describe, scale, wait --for=condition, apply --server-side, delete.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { kubeTestEnv, widgetCrd, type KubeTestEnv } from './testenv.ts';

let env: KubeTestEnv;
const group = `k${Math.random().toString(36).slice(2, 7)}.conformance.cairn.dev`;
test.before(async () => {
  env = await kubeTestEnv('kubectl');
});
test.after(async () => {
  if (env) {
    await env.kubectl(['delete', 'crd', `widgets.${group}`, '--wait=false']);
    await env.close();
  }
});

async function ok(args: string[], input?: string): Promise<string> {
  const r = await env.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const widgetYaml = (replicas: number) =>
  YAML.stringify({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1', namespace: env.ns }, spec: { image: 'cairn:dev', replicas } });

test('apply -f a CRD, wait for Established, apply -f a custom resource (create, then update)', async () => {
  assert.match(await ok(['apply', '-f', '-'], YAML.stringify(widgetCrd(group))), /customresourcedefinition.apiextensions.k8s.io\/widgets\.\S+ created/);
  await ok(['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=20s']);
  assert.match(await ok(['apply', '-f', '-'], widgetYaml(3)), /widget\.\S+\/w1 created/);
  assert.match(await ok(['apply', '-f', '-'], widgetYaml(5)), /widget\.\S+\/w1 configured/);
  assert.match(await ok(['apply', '-f', '-'], widgetYaml(5)), /widget\.\S+\/w1 unchanged/);
  assert.match(await ok(['apply', '--dry-run=server', '-f', '-'], widgetYaml(7)), /configured \(server dry run\)/);
  const bad = await env.kubectl(['apply', '--dry-run=server', '-f', '-'], widgetYaml(2));
  assert.match(bad.stderr, /replicas must be odd/, 'server dry run validates');
});

test('get -o yaml shows the stored object with defaults and last-applied annotation', async () => {
  const obj = YAML.parse(await ok(['get', `widgets.${group}`, 'w1', '-n', env.ns, '-o', 'yaml']));
  assert.is(obj.kind, 'Widget');
  assert.is(obj.spec.replicas, 5);
  assert.is(obj.spec.mode, 'safe');
  assert.ok(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  assert.is(obj.metadata.generation, 2);
});

test('get prints the printer columns; short names resolve', async () => {
  await ok([
    'patch',
    `widgets.${group}`,
    'w1',
    '-n',
    env.ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        phase: 'Running',
        replicas: 5,
        conditions: [{ type: 'Ready', status: 'True', reason: 'AllGood', message: 'ok', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
      },
    }),
  ]);
  const out = await ok(['get', `widgets.${group}`, '-n', env.ns]);
  const [head, row] = out.trim().split('\n');
  assert.equal(head.split(/\s+/), ['NAME', 'REPLICAS', 'PHASE', 'READY']);
  assert.equal(row.split(/\s+/), ['w1', '5', 'Running', 'True']);
});

test('describe shows spec, status and conditions', async () => {
  const out = await ok(['describe', `widgets.${group}`, 'w1', '-n', env.ns]);
  assert.match(out, /Name:\s+w1/);
  assert.match(out, /Replicas:\s+5/);
  assert.match(out, /Phase:\s+Running/);
});

test('explain reads the custom resource schema from /openapi/v3', async () => {
  const out = await ok(['explain', `widgets.${group}.spec`]);
  assert.match(out, /KIND:\s+Widget/);
  assert.match(out, /replicas\s+<integer>/);
});

test('wait --for=condition=Ready returns once the condition holds', async () => {
  assert.match(await ok(['wait', '--for=condition=Ready', `widgets.${group}/w1`, '-n', env.ns, '--timeout=10s']), /condition met/);
});

test('scale goes through the scale subresource and is validated', async () => {
  assert.match(await ok(['scale', `widgets.${group}/w1`, '-n', env.ns, '--replicas=7']), /scaled/);
  const obj = YAML.parse(await ok(['get', `widgets.${group}`, 'w1', '-n', env.ns, '-o', 'yaml']));
  assert.is(obj.spec.replicas, 7);
  const even = await env.kubectl(['scale', `widgets.${group}/w1`, '-n', env.ns, '--replicas=4']);
  assert.is.not(even.code, 0);
  assert.match(even.stderr, /replicas must be odd/);
});

test('apply --server-side: conflicts are reported, --force-conflicts wins', async () => {
  const cm = (v: string) => YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: env.ns }, data: { k: v } });
  assert.match(await ok(['apply', '--server-side', '--field-manager=one', '-f', '-'], cm('1')), /serverside-applied/);
  const clash = await env.kubectl(['apply', '--server-side', '--field-manager=two', '-f', '-'], cm('2'));
  assert.is.not(clash.code, 0);
  assert.match(clash.stderr, /Apply failed with 1 conflict: conflict with "one": \.data\.k/);
  await ok(['apply', '--server-side', '--field-manager=two', '--force-conflicts', '-f', '-'], cm('2'));
  assert.is((await ok(['get', 'configmap', 'ssa', '-n', env.ns, '-o', 'jsonpath={.data.k}'])).trim(), '2');
});

test('apply -f of a built-in (client-side, strategic merge) and get of built-ins as tables', async () => {
  const dep = (image: string) =>
    YAML.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: env.ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 80 }] }] } },
      },
    });
  assert.match(await ok(['apply', '-f', '-'], dep('nginx:1')), /deployment.apps\/web created/);
  assert.match(await ok(['apply', '-f', '-'], dep('nginx:2')), /deployment.apps\/web configured/);
  assert.is((await ok(['get', 'deploy', 'web', '-n', env.ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).trim(), 'nginx:2');
  assert.match(await ok(['scale', 'deployment/web', '-n', env.ns, '--replicas=3']), /scaled/);
  const table = await ok(['get', 'deployments', '-n', env.ns]);
  assert.match(table, /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
  assert.match(table, /web\s+0\/3/);
  assert.match(await ok(['get', 'ns', env.ns]), new RegExp(`${env.ns}\\s+Active`));
});

test('imperative create of namespaces, configmaps and secrets (protobuf bodies)', async () => {
  const ns = `${env.ns}-imp`;
  assert.match(await ok(['create', 'namespace', ns]), /created/);
  try {
    await ok(['create', 'configmap', 'cfg', '-n', ns, '--from-literal=a=b']);
    await ok(['create', 'secret', 'generic', 'sec', '-n', ns, '--from-literal=pw=hunter2']);
    assert.is((await ok(['get', 'configmap', 'cfg', '-n', ns, '-o', 'jsonpath={.data.a}'])).trim(), 'b');
    assert.is(Buffer.from((await ok(['get', 'secret', 'sec', '-n', ns, '-o', 'jsonpath={.data.pw}'])).trim(), 'base64').toString(), 'hunter2');
    assert.match(await ok(['get', 'ns', ns, '--show-labels']), new RegExp(`kubernetes.io/metadata.name=${ns}`));
  } finally {
    await env.kubectl(['delete', 'namespace', ns, '--wait=false']);
  }
});

test('delete removes the custom resource', async () => {
  assert.match(await ok(['delete', `widgets.${group}`, 'w1', '-n', env.ns]), /deleted/);
  const r = await env.kubectl(['get', `widgets.${group}`, 'w1', '-n', env.ns]);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /NotFound|not found/);
});

test.run();
