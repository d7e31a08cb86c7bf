// The Helm chart, linted and rendered by the real helm CLI (helm.ts): `helm lint --strict` passes
// with default and non-default values, every template renders to valid YAML, the Deployment runs
// `cairn operator` with 2 replicas as non-root, the ClusterRole grants what the operator calls and
// nothing broader, and the CRDs helm installs are the generated ones.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { runHelm } from './helm.ts';

const chartDir = new URL('../../charts/cairn-operator', import.meta.url).pathname;
const release = ['cairn', chartDir, '--namespace', 'cairn-system'];

// Every optional feature of values.yaml switched on or away from its default.
const optionValues = {
  watchNamespace: 'storage',
  leaderElection: { enabled: false },
  replicaCount: 1,
  image: { tag: 'dev' },
  metrics: { service: { enabled: false }, serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } } },
  serviceAccount: { create: false, name: 'ops' },
  podAnnotations: { 'example.com/team': 'storage' },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'storage', operator: 'Exists', effect: 'NoSchedule' }],
};

async function helmOk(args: string[], values?: object): Promise<string> {
  const r = await runHelm(args, { values });
  assert.is(r.code, 0, `helm ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

async function objects(values?: object, extra: string[] = []): Promise<any[]> {
  const out: any[] = [];
  for (const doc of parseAllDocuments(await helmOk(['template', ...release, ...extra], values))) {
    assert.equal(doc.errors.map(String), [], 'helm renders valid YAML');
    const o = doc.toJS();
    if (o) out.push(o);
  }
  return out;
}
const find = (objs: any[], kind: string) => objs.filter((o) => o.kind === kind);

test('helm lint --strict passes with default and optional values', async () => {
  for (const values of [undefined, optionValues]) {
    const out = await helmOk(['lint', '--strict', chartDir, '--namespace', 'cairn-system'], values);
    assert.match(out, '1 chart(s) linted, 0 chart(s) failed');
    assert.not.match(out, /\[(WARNING|ERROR)\]/);
  }
});

test('default values render the operator install', async () => {
  const objs = await objects();
  assert.equal(objs.map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  const [dep] = find(objs, 'Deployment');
  assert.is(dep.metadata.name, 'cairn-cairn-operator');
  assert.is(dep.metadata.namespace, 'cairn-system');
  assert.is(dep.metadata.labels['app.kubernetes.io/managed-by'], 'Helm');
  assert.is(dep.metadata.labels['app.kubernetes.io/version'], '0.1.0');
  assert.is(dep.spec.replicas, 2);
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  assert.is(c.image, 'cairn:0.1.0');
  assert.equal(c.command, ['cairn']);
  assert.equal(c.args, ['operator', '--metrics-bind-address=0.0.0.0:8080', '--workers=2', '--lease-namespace=$(POD_NAMESPACE)', '--lease-name=cairn-operator']);
  assert.equal(
    c.env.find((e: any) => e.name === 'CAIRN_LOG_LEVEL'),
    { name: 'CAIRN_LOG_LEVEL', value: 'info' },
  );
  assert.is(c.readinessProbe.httpGet.path, '/readyz');
  assert.is(c.livenessProbe.httpGet.path, '/healthz');
  assert.is(pod.securityContext.runAsNonRoot, true);
  assert.is(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.capabilities, { drop: ['ALL'] });
  assert.equal(dep.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'cairn-operator', 'app.kubernetes.io/instance': 'cairn' });
  assert.is(pod.serviceAccountName, 'cairn-cairn-operator');
  // Empty scheduling values leave the fields out rather than rendering `{}` / `[]`.
  for (const k of ['nodeSelector', 'tolerations', 'affinity']) assert.not.ok(k in pod, `${k} omitted`);
  assert.not.ok('annotations' in dep.spec.template.metadata);
  const [svc] = find(objs, 'Service');
  assert.equal(svc.spec.ports, [{ name: 'metrics', port: 8080, targetPort: 'metrics' }]);
  assert.equal(svc.spec.selector, dep.spec.selector.matchLabels);
  assert.is(find(objs, 'ServiceAccount')[0].metadata.name, pod.serviceAccountName);
});

test('options: namespace watch, no leader election, ServiceMonitor, own ServiceAccount, scheduling', async () => {
  const objs = await objects(optionValues);
  assert.equal(objs.map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'ServiceMonitor']);
  const dep = find(objs, 'Deployment')[0];
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  assert.ok(c.args.includes('--namespace=storage'));
  assert.ok(c.args.includes('--no-leader-elect'));
  assert.is(c.image, 'cairn:dev');
  assert.is(dep.spec.replicas, 1);
  assert.is(pod.serviceAccountName, 'ops');
  assert.equal(find(objs, 'ClusterRoleBinding')[0].subjects, [{ kind: 'ServiceAccount', name: 'ops', namespace: 'cairn-system' }]);
  assert.equal(dep.spec.template.metadata.annotations, optionValues.podAnnotations);
  assert.equal(pod.nodeSelector, optionValues.nodeSelector);
  assert.equal(pod.tolerations, optionValues.tolerations);
  const [sm] = find(objs, 'ServiceMonitor');
  assert.is(sm.apiVersion, 'monitoring.coreos.com/v1');
  assert.is(sm.metadata.namespace, 'cairn-system');
  assert.is(sm.metadata.labels.release, 'prom');
  assert.is(sm.metadata.labels['app.kubernetes.io/name'], 'cairn-operator');
  assert.equal(sm.spec.selector.matchLabels, dep.spec.selector.matchLabels);
  assert.equal(sm.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '15s' }]);
});

test('RBAC: what the operator calls is allowed, nothing is a wildcard, leases are namespaced', async () => {
  const objs = await objects();
  const rules = find(objs, 'ClusterRole')[0].rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
  const allows = (group: string, resource: string, verb: string) =>
    rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  const needed: [string, string, string[]][] = [
    ['storage.cairn.dev', 'storageclusters', ['get', 'list', 'watch']],
    ['storage.cairn.dev', 'buckets', ['get', 'list', 'watch', 'patch']],
    ['storage.cairn.dev', 'storageclusters/status', ['patch']],
    ['storage.cairn.dev', 'buckets/status', ['patch']],
    ['apps', 'statefulsets', ['get', 'list', 'watch', 'create', 'patch']],
    ['', 'secrets', ['get', 'list', 'watch', 'create', 'patch', 'delete']],
    ['', 'services', ['create', 'patch']],
    ['', 'configmaps', ['create', 'patch']],
    ['policy', 'poddisruptionbudgets', ['create', 'patch']],
    ['', 'persistentvolumeclaims', ['get', 'list', 'watch', 'patch']],
    ['storage.k8s.io', 'storageclasses', ['get']],
    ['', 'nodes', ['get', 'list', 'watch']],
    ['', 'events', ['create', 'patch']],
    ['monitoring.coreos.com', 'servicemonitors', ['create', 'patch']],
    ['apiextensions.k8s.io', 'customresourcedefinitions', ['get']],
  ];
  for (const [g, r, verbs] of needed) for (const v of verbs) assert.ok(allows(g, r, v), `ClusterRole allows ${v} ${g}/${r}`);
  for (const r of rules) {
    assert.not.ok([...r.apiGroups, ...r.resources, ...r.verbs].includes('*'), 'no wildcards');
    // Owner references delete children; the one exception is a Bucket's Secret after its cluster went.
    if (!r.resources.includes('secrets'))
      assert.not.ok(r.verbs.includes('delete'), `the operator deletes no ${r.resources.join(', ')} itself (owner references do)`);
  }
  assert.ok(allows('', 'pods', 'list'), 'rollouts read pod revisions');
  assert.not.ok(allows('', 'pods', 'delete'), 'the StatefulSet controller replaces pods, not the operator');
  assert.not.ok(allows('coordination.k8s.io', 'leases', 'update'), 'leases are not cluster-wide');
  const role = find(objs, 'Role')[0];
  assert.is(role.metadata.namespace, 'cairn-system');
  assert.equal(role.rules, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
  const binding = find(objs, 'RoleBinding')[0];
  assert.equal(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
});

test('the chart ships the generated CRDs and helm installs exactly those', async () => {
  const files = readdirSync(join(chartDir, 'crds')).sort();
  assert.equal(files, ['bucket.yaml', 'storagecluster.yaml']);
  for (const f of files) {
    assert.is(readFileSync(join(chartDir, 'crds', f), 'utf8'), readFileSync(new URL(`../../crds/${f}`, import.meta.url), 'utf8'));
  }
  const rendered = find(await objects(undefined, ['--include-crds']), 'CustomResourceDefinition');
  const byName = (a: any, b: any) => a.metadata.name.localeCompare(b.metadata.name);
  assert.equal(rendered.sort(byName), files.map((f) => parse(readFileSync(join(chartDir, 'crds', f), 'utf8'))).sort(byName));
});

test.run();
