// The Helm chart, rendered by the Go-template subset in helm-subset.ts (helm itself is not
// installable here): every template renders to valid YAML with default and non-default values,
// the Deployment runs `cairn operator` with 2 replicas as non-root, and the ClusterRole grants
// what the operator calls and nothing broader.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { renderChart } from './helm-subset.ts';

const chartDir = new URL('../../charts/cairn-operator', import.meta.url).pathname;

function objects(values: Record<string, unknown> = {}): any[] {
  const out: any[] = [];
  for (const [file, text] of Object.entries(renderChart(chartDir, values))) {
    for (const doc of parseAllDocuments(text)) {
      assert.equal(doc.errors.map(String), [], `${file} is valid YAML`);
      const o = doc.toJS();
      if (o) out.push(o);
    }
  }
  return out;
}
const find = (objs: any[], kind: string) => objs.filter((o) => o.kind === kind);

test('default values render the operator install', () => {
  const objs = objects();
  assert.equal(objs.map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  const [dep] = find(objs, 'Deployment');
  assert.is(dep.metadata.name, 'cairn-cairn-operator');
  assert.is(dep.metadata.namespace, 'cairn-system');
  assert.is(dep.spec.replicas, 2);
  const c = dep.spec.template.spec.containers[0];
  assert.is(c.image, 'cairn:0.1.0');
  assert.equal(c.command, ['cairn']);
  assert.equal(c.args, ['operator', '--metrics-bind-address=0.0.0.0:8080', '--workers=2', '--lease-namespace=$(POD_NAMESPACE)', '--lease-name=cairn-operator']);
  assert.is(c.readinessProbe.httpGet.path, '/readyz');
  assert.is(c.livenessProbe.httpGet.path, '/healthz');
  assert.is(dep.spec.template.spec.securityContext.runAsNonRoot, true);
  assert.is(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(dep.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'cairn-operator', 'app.kubernetes.io/instance': 'cairn' });
  assert.is(dep.spec.template.spec.serviceAccountName, 'cairn-cairn-operator');
  const [svc] = find(objs, 'Service');
  assert.equal(svc.spec.ports, [{ name: 'metrics', port: 8080, targetPort: 'metrics' }]);
});

test('options: namespace watch, no leader election, ServiceMonitor, image tag', () => {
  const objs = objects({ watchNamespace: 'storage', leaderElection: { enabled: false }, replicaCount: 1, image: { tag: 'dev' }, metrics: { serviceMonitor: { enabled: true, labels: { release: 'prom' } } } });
  const c = find(objs, 'Deployment')[0].spec.template.spec.containers[0];
  assert.ok(c.args.includes('--namespace=storage'));
  assert.ok(c.args.includes('--no-leader-elect'));
  assert.is(c.image, 'cairn:dev');
  assert.equal(find(objs, 'Role'), []);
  const [sm] = find(objs, 'ServiceMonitor');
  assert.is(sm.metadata.labels.release, 'prom');
  assert.equal(sm.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '30s' }]);
});

test('RBAC: what the operator calls is allowed, nothing is a wildcard, leases are namespaced', () => {
  const objs = objects();
  const rules = find(objs, 'ClusterRole')[0].rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
  const allows = (group: string, resource: string, verb: string) => rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  const needed: [string, string, string[]][] = [
    ['storage.cairn.dev', 'storageclusters', ['get', 'list', 'watch']], ['storage.cairn.dev', 'buckets', ['get', 'list', 'watch', 'patch']],
    ['storage.cairn.dev', 'storageclusters/status', ['patch']], ['storage.cairn.dev', 'buckets/status', ['patch']],
    ['apps', 'statefulsets', ['get', 'list', 'watch', 'create', 'patch']], ['', 'secrets', ['get', 'list', 'watch', 'create', 'patch']],
    ['', 'services', ['create', 'patch']], ['', 'configmaps', ['create', 'patch']], ['policy', 'poddisruptionbudgets', ['create', 'patch']],
    ['', 'events', ['create', 'patch']], ['monitoring.coreos.com', 'servicemonitors', ['create', 'patch']], ['apiextensions.k8s.io', 'customresourcedefinitions', ['get']],
  ];
  for (const [g, r, verbs] of needed) for (const v of verbs) assert.ok(allows(g, r, v), `ClusterRole allows ${v} ${g}/${r}`);
  for (const r of rules) {
    assert.not.ok([...r.apiGroups, ...r.resources, ...r.verbs].includes('*'), 'no wildcards');
    assert.not.ok(r.verbs.includes('delete'), 'the operator deletes nothing itself (owner references do)');
  }
  assert.not.ok(allows('', 'pods', 'get'));
  assert.not.ok(allows('coordination.k8s.io', 'leases', 'update'), 'leases are not cluster-wide');
  const role = find(objs, 'Role')[0];
  assert.equal(role.rules, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
});

test('the chart ships the generated CRDs', () => {
  for (const f of readdirSync(join(chartDir, 'crds'))) {
    assert.is(readFileSync(join(chartDir, 'crds', f), 'utf8'), readFileSync(new URL(`../../crds/${f}`, import.meta.url), 'utf8'));
  }
  assert.equal(readdirSync(join(chartDir, 'crds')).sort(), ['bucket.yaml', 'storagecluster.yaml']);
});

test.run();
