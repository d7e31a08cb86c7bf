import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredClusterChildren, type KubeObject } from './children.ts';
import { nodeFacts } from './node-facts.ts';
import { fixtureCluster, fixtureInputs } from '../../test/fixtures.ts';

// Snapshot: the full rendered children of the fixture cluster. Regenerate deliberately with
// UPDATE_SNAPSHOTS=1 npx node operator/src/builders/children.test.ts and review the diff.
const snapshotFile = new URL('./__snapshots__/children.json', import.meta.url).pathname;

const find = (objs: KubeObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind} ${name}`);
  return o as any;
};

test('children match the snapshot', () => {
  const text = JSON.stringify(desiredClusterChildren(fixtureInputs()), null, 2) + '\n';
  if (process.env.UPDATE_SNAPSHOTS || !existsSync(snapshotFile)) {
    mkdirSync(new URL('./__snapshots__', import.meta.url).pathname, { recursive: true });
    writeFileSync(snapshotFile, text);
  }
  assert.fixture(text, readFileSync(snapshotFile, 'utf8'));
});

test('every child has an explicit name, the namespace and a controller owner reference', () => {
  const objs = desiredClusterChildren(fixtureInputs());
  assert.equal(
    objs.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'ConfigMap/demo-config',
      'ConfigMap/demo-node-facts',
      'Secret/demo-cluster-secret',
      'Secret/demo-admin',
      'Service/demo',
      'Service/demo-console',
      'Service/demo-roots',
      'Service/demo-nodes',
      'StatefulSet/demo-roots',
      'StatefulSet/demo-nodes',
      'PodDisruptionBudget/demo-roots',
      'PodDisruptionBudget/demo-nodes',
    ],
  );
  for (const o of objs) {
    assert.is(o.metadata.namespace, 'storage');
    assert.equal(o.metadata.ownerReferences, [
      {
        apiVersion: 'storage.cairn.dev/v1alpha1',
        kind: 'StorageCluster',
        name: 'demo',
        uid: '0b7e1c1e-1111-4222-8333-444455556666',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  }
  assert.not.match(JSON.stringify(objs), 'cdk8s.io/metadata.addr');
});

test('node pods run cairn server with downward-API identity, secrets and the roots list', () => {
  const ss = find(desiredClusterChildren(fixtureInputs()), 'StatefulSet', 'demo-nodes');
  const ctr = ss.spec.template.spec.containers[0];
  assert.equal(ctr.command, ['cairn']);
  assert.equal(ctr.args, [
    'server',
    '--role',
    'node',
    '--name',
    '$(POD_NAME)',
    '--api',
    '$(POD_IP):9000',
    '--cluster',
    '$(POD_IP):9100',
    '--advertise',
    '$(POD_IP)',
    '--console',
    '$(POD_IP):9001',
    '--data',
    '/data',
    '--roots',
    'http://demo-roots-0.demo-roots.storage.svc.cluster.local:9100,http://demo-roots-1.demo-roots.storage.svc.cluster.local:9100,http://demo-roots-2.demo-roots.storage.svc.cluster.local:9100',
    '--zone-file',
    '/etc/cairn/facts/zone.$(NODE_NAME)',
    '--volume-size-file',
    '/etc/cairn/facts/volume.$(POD_NAME)',
  ]);
  const env = Object.fromEntries(ctr.env.map((e: any) => [e.name, e.valueFrom]));
  assert.equal(env.POD_IP, { fieldRef: { fieldPath: 'status.podIP' } });
  assert.equal(env.NODE_NAME, { fieldRef: { fieldPath: 'spec.nodeName' } });
  assert.equal(env.CAIRN_CLUSTER_SECRET, { secretKeyRef: { name: 'demo-cluster-secret', key: 'secret' } });
  assert.equal(env.CAIRN_SECRET_KEY, { secretKeyRef: { name: 'demo-admin', key: 'AWS_SECRET_ACCESS_KEY' } });
  assert.equal(ctr.readinessProbe.httpGet.path, '/readyz');
  assert.is(ctr.readinessProbe.httpGet.port, 9100);
  assert.equal(ctr.livenessProbe.httpGet.path, '/healthz');
  assert.equal(ss.spec.selector.matchLabels, { 'storage.cairn.dev/cluster': 'demo', 'storage.cairn.dev/role': 'node' });
  assert.is(ss.spec.serviceName, 'demo-nodes');
  assert.is(ss.spec.podManagementPolicy, 'Parallel');
  assert.equal(ss.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '10Gi');
  assert.ok(ctr.volumeMounts.some((m: any) => m.name === 'data' && m.mountPath === '/data'));
});

test('replicas come from the scaling decision; storage class and ServiceMonitor follow the spec', () => {
  const cluster = fixtureCluster({ nodes: { replicas: 5, storage: { size: '50Gi', storageClassName: 'fast' } }, monitoring: { serviceMonitor: true } });
  const objs = desiredClusterChildren(fixtureInputs(cluster, { nodeReplicas: 4, serviceMonitorAvailable: true }));
  const ss = find(objs, 'StatefulSet', 'demo-nodes');
  assert.is(ss.spec.replicas, 4);
  assert.is(ss.spec.volumeClaimTemplates[0].spec.storageClassName, 'fast');
  assert.is(find(objs, 'ServiceMonitor', 'demo').spec.endpoints[0].port, 'cluster');
  assert.not.ok(desiredClusterChildren(fixtureInputs(cluster, { serviceMonitorAvailable: false })).some((o) => o.kind === 'ServiceMonitor'));
});

test("the nodes' claim template keeps the size the StatefulSet was made with (immutable); new StatefulSets take the spec's", () => {
  const cluster = fixtureCluster({ nodes: { storage: { size: '50Gi' } } });
  const size = (o: KubeObject[]) => find(o, 'StatefulSet', 'demo-nodes').spec.volumeClaimTemplates[0].spec.resources.requests.storage;
  assert.is(size(desiredClusterChildren(fixtureInputs(cluster))), '50Gi');
  assert.is(size(desiredClusterChildren(fixtureInputs(cluster, { claimTemplateSize: '10Gi' }))), '10Gi');
});

test('headless Services publish not-ready addresses; the file API selects every pod', () => {
  const objs = desiredClusterChildren(fixtureInputs());
  assert.is(find(objs, 'Service', 'demo-roots').spec.publishNotReadyAddresses, true);
  assert.is(find(objs, 'Service', 'demo-roots').spec.clusterIP, 'None');
  assert.equal(find(objs, 'Service', 'demo').spec.selector, { 'storage.cairn.dev/cluster': 'demo' });
  const admin = find(objs, 'Secret', 'demo-admin');
  assert.is(Buffer.from(admin.data.S3_ENDPOINT, 'base64').toString(), 'http://demo.storage.svc.cluster.local:9000');
});

test('an out-of-range chunk size is a clear error', () => {
  assert.throws(() => desiredClusterChildren(fixtureInputs(fixtureCluster({ chunkSize: '1Gi' }))), /spec.chunkSize 1Gi is outside 4Ki..64Mi/);
});

test('a settings change changes the pod template hash (rolls pods)', () => {
  const hash = (spec: Record<string, unknown>) =>
    find(desiredClusterChildren(fixtureInputs(fixtureCluster(spec))), 'StatefulSet', 'demo-nodes').spec.template.metadata.annotations[
      'storage.cairn.dev/config-hash'
    ];
  assert.is.not(hash({ chunkSize: '8Mi' }), hash({}));
  assert.is(hash({}), hash({}));
});

test("zones: node pods read their Kubernetes node's zone from the node facts and spread over it; spec.nodes.zones restricts where they run", () => {
  const facts = { zones: { 'node-1': 'a', 'node-2': 'b', bare: '' }, volumes: { 'demo-nodes-0': 10 * 2 ** 30 } };
  const objs = desiredClusterChildren(fixtureInputs(fixtureCluster({ nodes: { replicas: 3 } }), { nodeFacts: facts }));
  assert.equal(find(objs, 'ConfigMap', 'demo-node-facts').data, {
    'zone.node-1': 'a',
    'zone.node-2': 'b',
    'zone.bare': '',
    'volume.demo-nodes-0': '10737418240',
  });
  const nodes = find(objs, 'StatefulSet', 'demo-nodes').spec.template.spec;
  assert.equal(
    nodes.volumes.find((v: any) => v.name === 'node-facts'),
    { name: 'node-facts', configMap: { name: 'demo-node-facts' } },
  );
  assert.equal(
    nodes.containers[0].volumeMounts.find((m: any) => m.name === 'node-facts'),
    { name: 'node-facts', mountPath: '/etc/cairn/facts', readOnly: true },
  );
  assert.equal(nodes.topologySpreadConstraints, [
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'storage.cairn.dev/cluster': 'demo', 'storage.cairn.dev/role': 'node' } },
    },
  ]);
  assert.is(nodes.affinity, undefined, 'any zone');
  const roots = find(objs, 'StatefulSet', 'demo-roots').spec.template.spec;
  assert.not.ok(roots.containers[0].args.includes('--zone-file'), 'roots hold no data: no zone');
  assert.is(roots.topologySpreadConstraints, undefined);
  // A custom topology key is both the spread and the zone label; listed zones become a node affinity.
  const custom = fixtureCluster({ nodes: { zones: ['a', 'b'], topologySpread: { topologyKey: 'example.com/rack', maxSkew: 2 } } });
  const spec = find(desiredClusterChildren(fixtureInputs(custom)), 'StatefulSet', 'demo-nodes').spec.template.spec;
  assert.is(spec.topologySpreadConstraints[0].topologyKey, 'example.com/rack');
  assert.equal(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [
    { matchExpressions: [{ key: 'example.com/rack', operator: 'In', values: ['a', 'b'] }] },
  ]);
  assert.not.ok(JSON.stringify(spec).includes('CAIRN_ZONES'), 'no zone by ordinal any more');
});

test("node facts: zones from the Nodes' labels, volume sizes from the bound node PVCs", () => {
  const c = fixtureCluster();
  const facts = nodeFacts(
    c,
    [{ metadata: { name: 'node-1', labels: { 'topology.kubernetes.io/zone': 'eu-1a' } } }, { metadata: { name: 'node-2', labels: {} } }],
    [
      { metadata: { name: 'data-demo-nodes-0' }, status: { capacity: { storage: '10Gi' } } },
      { metadata: { name: 'data-demo-nodes-1' }, status: {} },
      { metadata: { name: 'data-demo-roots-0' }, status: { capacity: { storage: '1Gi' } } },
      { metadata: { name: 'data-other-nodes-0' }, status: { capacity: { storage: '1Gi' } } },
    ],
  );
  assert.equal(facts, { zones: { 'node-1': 'eu-1a', 'node-2': '' }, volumes: { 'demo-nodes-0': 10 * 2 ** 30 } });
  const rack = nodeFacts(
    fixtureCluster({ nodes: { topologySpread: { topologyKey: 'rack' } } }),
    [{ metadata: { name: 'n', labels: { rack: 'r7', 'topology.kubernetes.io/zone': 'z' } } }],
    [],
  );
  assert.equal(rack.zones, { n: 'r7' });
});

test.run();
