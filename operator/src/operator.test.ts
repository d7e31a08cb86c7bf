// The operator against the local API server emulator (real HTTP, real client-node, real watch
// protocol): CRDs installed from crds/, a StorageCluster reconciled into owned children, status
// through the status subresource, schema/CEL rejections, drain-gated scaling through the scale
// subresource, Bucket finalizer + credentials, metrics/health, and leader hand-over on stop.
// The roots' admin API is the in-memory MemoryAdmin (no node processes here; see operator/test/e2e).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { startApiServer, type ApiServer } from '../../hack/kube/apiserver/server.ts';
import { loopbackAddress, waitFor } from '../../hack/testing/net.ts';
import { kubectlBinary } from '../../hack/testing/tools.ts';
import { MemoryAdmin } from '../test/memory-admin.ts';
import { startOtlpReceiver } from '../../node-runtime/test/otlp-receiver.ts';
import { loadKubeConfig } from './kube/config.ts';
import { KubeApiError, KubeRest, PATCH_MERGE } from './kube/rest.ts';
import { runOperator, startOperator, type Operator } from './main.ts';
import { STATUS_FRESHNESS_MS } from './controller/cadence.ts';

const repo = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'cairn-operator-test-'));
const kubeconfig = join(dir, 'kubeconfig');
let api: ApiServer;
let rest: KubeRest;
let op: Operator;
const admin = new MemoryAdmin();
const host = loopbackAddress();
const NS = 'storage';
const scPath = (name = 'demo') => `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters/${name}`;
const get = (path: string) =>
  rest.request<any>('GET', path).catch((e) => {
    if (e instanceof KubeApiError && e.status === 404) return undefined;
    throw e;
  });
const sts = (name: string) => get(`/apis/apps/v1/namespaces/${NS}/statefulsets/${name}`);

async function rejection(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KubeApiError) return e;
    throw e;
  }
  throw new Error('expected the API server to reject the request');
}

test.before(async () => {
  api = await startApiServer({ host });
  api.writeKubeconfig(kubeconfig);
  rest = new KubeRest(loadKubeConfig(kubeconfig));
  for (const file of ['storagecluster.yaml', 'bucket.yaml']) {
    await rest.request<any>('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: parse(readFileSync(join(repo, 'crds', file), 'utf8')) });
  }
  await rest.request<any>('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
  await waitFor(() => get(`/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`), { what: 'CRD served' });
  op = await startOperator({
    kubeconfig,
    metricsHost: host,
    metricsPort: 0,
    identity: 'op-a',
    leaseNamespace: 'default',
    adminFactory: admin.factory,
    retryMs: 200,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
  });
});

test.after(async () => {
  await op?.stop();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a StorageCluster becomes owned children and a status written through the subresource', async () => {
  admin.setMembers(['demo-roots-0', 'demo-roots-1', 'demo-roots-2', 'demo-nodes-0', 'demo-nodes-1', 'demo-nodes-2']);
  const created = await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
    body: { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'StorageCluster', metadata: { name: 'demo' }, spec: { nodes: { replicas: 3 } } },
  });
  assert.is(created.spec.replication.factor, 2, 'schema defaults applied by the API server');
  const uid = created.metadata.uid;
  const children = [
    `/apis/apps/v1/namespaces/${NS}/statefulsets/demo-roots`,
    `/apis/apps/v1/namespaces/${NS}/statefulsets/demo-nodes`,
    `/api/v1/namespaces/${NS}/services/demo`,
    `/api/v1/namespaces/${NS}/services/demo-roots`,
    `/api/v1/namespaces/${NS}/services/demo-nodes`,
    `/api/v1/namespaces/${NS}/configmaps/demo-config`,
    `/api/v1/namespaces/${NS}/secrets/demo-cluster-secret`,
    `/api/v1/namespaces/${NS}/secrets/demo-admin`,
    `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/demo-nodes`,
  ];
  for (const path of children) {
    const o = await waitFor(() => get(path), { what: path, timeoutMs: 15_000 });
    assert.equal(o.metadata.ownerReferences?.[0]?.uid, uid, `${path} owned by the StorageCluster`);
    assert.is(o.metadata.ownerReferences[0].controller, true);
    assert.ok(
      o.metadata.managedFields?.some((f: any) => f.manager === 'cairn-operator' && f.operation === 'Apply'),
      `${path} applied by cairn-operator`,
    );
  }
  assert.is((await sts('demo-nodes')).spec.replicas, 3);
  const sc = await waitFor(
    async () => {
      const o = await get(scPath());
      return o?.status?.observedGeneration === 1 && o;
    },
    { what: 'status' },
  );
  assert.equal(
    sc.status.conditions.map((c: any) => c.type),
    ['Ready', 'Progressing', 'Degraded', 'Rebalancing', 'ScaleDownBlocked', 'RolloutPaused', 'VolumesResized'],
  );
  assert.is(sc.status.endpoint, `http://demo.${NS}.svc.cluster.local:9000`);
  assert.is(sc.status.nodes.selector, 'storage.cairn.dev/cluster=demo,storage.cairn.dev/role=node');
  assert.ok(
    sc.metadata.managedFields.some((f: any) => f.manager === 'cairn-operator' && f.subresource === 'status'),
    'status applied through the status subresource',
  );
  assert.ok(admin.urls.has(`http://demo-roots-0.demo-roots.${NS}.svc.cluster.local:9100`), 'admin API reached through the roots');
});

test('kubectl explain describes every field of both kinds (no <empty>)', async () => {
  const kubectl = await kubectlBinary();
  const explain = (path: string) =>
    new Promise<string>((resolve, reject) =>
      execFile(kubectl, ['--kubeconfig', kubeconfig, 'explain', path], (err, out, errOut) => (err ? reject(new Error(`${path}: ${errOut}`)) : resolve(out))),
    );
  // Every object field of each CRD, as kubectl names it (list items are explained through the list).
  const objectPaths = (kind: string, file: string) => {
    const out: string[] = [];
    const walk = (schema: any, path: string) => {
      const props = schema.properties ?? schema.items?.properties;
      if (!props) return;
      out.push(path);
      for (const [k, sub] of Object.entries(props)) walk(sub, `${path}.${k}`);
    };
    walk(parse(readFileSync(join(repo, 'crds', file), 'utf8')).spec.versions[0].schema.openAPIV3Schema, kind);
    return out;
  };
  const paths = [...objectPaths('storageclusters', 'storagecluster.yaml'), ...objectPaths('buckets', 'bucket.yaml')];
  assert.ok(paths.length > 20 && paths.includes('storageclusters.spec.nodes.storage') && paths.includes('buckets.status.usage'));
  for (const [i, out] of (await Promise.all(paths.map(explain))).entries()) {
    assert.match(out, 'FIELDS:', `${paths[i]} lists its fields`);
    assert.not.match(out, '<empty>', `${paths[i]}: a field without a description:\n${out}`);
  }
});

test('invalid specs are rejected by the API server with the schema/CEL message', async () => {
  const create = (name: string, spec: unknown) =>
    rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
      body: { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'StorageCluster', metadata: { name }, spec },
    });
  const tooMany = await rejection(create('bad1', { nodes: { replicas: 1 }, replication: { factor: 3 } }));
  assert.is(tooMany.status, 422);
  assert.match(tooMany.message, 'spec.replication.factor must be ≤ spec.nodes.replicas');
  const noRoots = await rejection(create('bad2', { roots: { replicas: 0 } }));
  assert.match(noRoots.message, 'spec.roots.replicas');
  // Sizes that are not positive: refused by the API server, not discovered by a failing StatefulSet.
  const negative = await rejection(create('bad3', { nodes: { storage: { size: '-1Gi' } } }));
  assert.is(negative.status, 422);
  assert.match(negative.message, 'spec.nodes.storage.size');
  for (const chunkSize of ['0', 0]) {
    const zero = await rejection(create('bad4', { chunkSize }));
    assert.is(zero.status, 422, `chunkSize ${JSON.stringify(chunkSize)}`);
    assert.match(zero.message, 'spec.chunkSize');
  }
  const immutable = await rejection(
    rest.request<any>('PATCH', scPath(), { contentType: PATCH_MERGE, body: { spec: { nodes: { storage: { storageClassName: 'other' } } } } }),
  );
  assert.match(immutable.message, 'storageClassName is immutable');
});

test('scale subresource: up at once, down only after the highest ordinals drained, then forgotten', async () => {
  const scale = (n: number) => rest.request<any>('PATCH', `${scPath()}/scale`, { contentType: PATCH_MERGE, body: { spec: { replicas: n } } });
  await scale(5);
  assert.is((await get(scPath())).spec.nodes.replicas, 5);
  // What an HPA reads: the Scale object built from the scale subresource paths.
  const sc = await waitFor(
    async () => {
      const o = await get(`${scPath()}/scale`);
      return o?.status?.selector && o;
    },
    { what: 'Scale status' },
  );
  assert.equal([sc.kind, sc.spec.replicas, sc.status.selector], ['Scale', 5, 'storage.cairn.dev/cluster=demo,storage.cairn.dev/role=node']);
  await waitFor(async () => (await sts('demo-nodes'))?.spec.replicas === 5, { what: 'StatefulSet at 5' });
  admin.setMembers(['demo-nodes-3', 'demo-nodes-4']);

  admin.refuseDrain = 'remaining nodes cannot hold 3 replicas of 40 GiB';
  await scale(3);
  const blocked = await waitFor(
    async () => {
      const o = await get(scPath());
      return o.status.conditions.find((c: any) => c.type === 'ScaleDownBlocked' && c.status === 'True') && o;
    },
    { what: 'ScaleDownBlocked' },
  );
  assert.match(blocked.status.conditions.find((c: any) => c.type === 'ScaleDownBlocked').message, 'remaining nodes cannot hold');
  assert.is((await sts('demo-nodes')).spec.replicas, 5, 'a refused drain never lowers the StatefulSet');

  admin.refuseDrain = undefined;
  await waitFor(() => admin.members.get('demo-nodes-4')?.state === 'draining' && admin.members.get('demo-nodes-3')?.state === 'draining', {
    what: 'drains',
    timeoutMs: 15_000,
  });
  admin.setState('demo-nodes-4', 'drained');
  await waitFor(async () => (await get(scPath())).status.conditions.find((c: any) => c.type === 'Progressing')?.reason === 'Draining', { what: 'Draining' });
  assert.is((await sts('demo-nodes')).spec.replicas, 5, 'held while demo-nodes-3 is still draining');
  admin.setState('demo-nodes-3', 'drained');
  await waitFor(async () => (await sts('demo-nodes'))?.spec.replicas === 3, { what: 'StatefulSet lowered to 3', timeoutMs: 15_000 });
  // No kubelet here: pods "disappear" once the StatefulSet status says so; then members are forgotten.
  await rest.request<any>('PATCH', `/apis/apps/v1/namespaces/${NS}/statefulsets/demo-nodes/status`, {
    contentType: PATCH_MERGE,
    body: { status: { replicas: 3 } },
  });
  await waitFor(() => !admin.members.has('demo-nodes-3') && !admin.members.has('demo-nodes-4'), { what: 'forgotten', timeoutMs: 15_000 });
});

test('the operator never writes spec (an HPA owns spec.nodes.replicas through the scale subresource)', async () => {
  const sc = await get(scPath());
  const mine = sc.metadata.managedFields.filter((f: any) => f.manager === 'cairn-operator');
  assert.ok(mine.length > 0);
  for (const f of mine) assert.is(f.subresource, 'status', 'cairn-operator manages status only');
});

test("a child the API server refuses is reported as InvalidSpec with the API's message and an Event, until the spec is fixed", async () => {
  // A topology key the schema lets through but that is no label key: the API server refuses the
  // StatefulSet's pod template (422). The spec is valid but cannot be carried out.
  const spread = (topologyKey: string | null) =>
    rest.request('PATCH', scPath(), { contentType: PATCH_MERGE, body: { spec: { nodes: { topologySpread: topologyKey ? { topologyKey } : null } } } });
  await spread('not a label key!');
  const sc = await waitFor(
    async () => {
      const o = await get(scPath());
      return o?.status?.phase === 'Failed' && o.status.observedGeneration === o.metadata.generation && o;
    },
    { what: 'Failed status', timeoutMs: 15_000 },
  );
  const ready = sc.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal([ready.status, ready.reason], ['False', 'InvalidSpec']);
  assert.match(ready.message, 'the API server refused StatefulSet demo-nodes');
  assert.match(ready.message, 'topologySpreadConstraints[0].topologyKey: Invalid value', "the API server's own message");
  const event = await waitFor(
    async () =>
      (await get(`/api/v1/namespaces/${NS}/events`)).items.find(
        (e: any) => e.involvedObject.name === 'demo' && e.involvedObject.kind === 'StorageCluster' && e.reason === 'InvalidSpec',
      ),
    { what: 'an InvalidSpec Event' },
  );
  assert.is(event.type, 'Warning');
  assert.match(event.message, 'the API server refused StatefulSet demo-nodes');
  await spread(null);
  await waitFor(
    async () => {
      const o = await get(scPath());
      return o.status.phase !== 'Failed' && o.status.conditions.find((c: any) => c.type === 'Ready').reason !== 'InvalidSpec';
    },
    { what: 'InvalidSpec cleared', timeoutMs: 15_000 },
  );
});

test('a larger storage size grows the node PVCs whose StorageClass allows it, and says so when it does not', async () => {
  // The PVCs and their binding are what the StatefulSet controller and a provisioner would make.
  const sc = (name: string, allowVolumeExpansion: boolean) =>
    rest.request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
      body: { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner: 'example.com/disk', allowVolumeExpansion },
    });
  await sc('grows', true);
  await sc('fixed', false);
  const claimPath = (n: number) => `/api/v1/namespaces/${NS}/persistentvolumeclaims/data-vol-nodes-${n}`;
  for (const [n, cls] of [
    [0, 'grows'],
    [1, 'grows'],
    [2, 'fixed'],
  ] as const) {
    await rest.request('POST', `/api/v1/namespaces/${NS}/persistentvolumeclaims`, {
      body: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name: `data-vol-nodes-${n}`,
          labels: { 'storage.cairn.dev/cluster': 'vol', 'app.kubernetes.io/component': 'nodes', 'app.kubernetes.io/managed-by': 'cairn-operator' },
        },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: { requests: { storage: '1Gi' } } },
      },
    });
    await rest.request('PATCH', `${claimPath(n)}/status`, { contentType: PATCH_MERGE, body: { status: { phase: 'Bound', capacity: { storage: '1Gi' } } } });
  }
  admin.setMembers(['vol-nodes-0', 'vol-nodes-1', 'vol-nodes-2']);
  await rest.request('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'vol' },
      spec: { nodes: { replicas: 3, storage: { size: '1Gi' } } },
    },
  });
  const facts = await waitFor(async () => (await get(`/api/v1/namespaces/${NS}/configmaps/vol-node-facts`))?.data, { what: 'node facts', timeoutMs: 15_000 });
  assert.is(facts['volume.vol-nodes-0'], String(2 ** 30), "each pod learns its volume's size");
  await rest.request('PATCH', scPath('vol'), { contentType: PATCH_MERGE, body: { spec: { nodes: { storage: { size: '2Gi' } } } } });
  await waitFor(
    async () => (await get(claimPath(0))).spec.resources.requests.storage === '2Gi' && (await get(claimPath(1))).spec.resources.requests.storage === '2Gi',
    { what: 'claims 0 and 1 asked to grow', timeoutMs: 15_000 },
  );
  assert.is((await get(claimPath(2))).spec.resources.requests.storage, '1Gi', 'a class without expansion is left alone');
  assert.is((await sts('vol-nodes')).spec.volumeClaimTemplates[0].spec.resources.requests.storage, '1Gi', 'the claim template is immutable and kept');
  const cond = (o: any) => o?.status?.conditions?.find((c: any) => c.type === 'VolumesResized');
  const refused = await waitFor(
    async () => {
      const c = cond(await get(scPath('vol')));
      return c?.reason === 'ExpansionNotAllowed' && c;
    },
    { what: 'ExpansionNotAllowed', timeoutMs: 15_000 },
  );
  assert.is(refused.status, 'False');
  assert.match(refused.message, 'data-vol-nodes-2: its StorageClass fixed does not allow volume expansion');
  await waitFor(
    async () =>
      (await get(`/api/v1/namespaces/${NS}/events`)).items.find(
        (e: any) => e.involvedObject.name === 'vol' && e.reason === 'ExpansionNotAllowed' && e.type === 'Warning',
      ),
    { what: 'a Warning Event' },
  );
  // The third claim goes away (say its class was wrong and it was replaced by hand with an expandable one);
  // the resize of the others completes: capacity follows, in the facts too, and the condition turns True.
  await rest.request('DELETE', claimPath(2));
  await waitFor(async () => cond(await get(scPath('vol')))?.reason === 'Resizing', { what: 'Resizing', timeoutMs: 15_000 });
  for (const n of [0, 1])
    await rest.request('PATCH', `${claimPath(n)}/status`, { contentType: PATCH_MERGE, body: { status: { capacity: { storage: '2Gi' } } } });
  const done = await waitFor(
    async () => {
      const c = cond(await get(scPath('vol')));
      return c?.status === 'True' && c;
    },
    { what: 'VolumesResized', timeoutMs: 15_000 },
  );
  assert.is(done.message, 'every node volume has 2Gi');
  await waitFor(async () => (await get(`/api/v1/namespaces/${NS}/configmaps/vol-node-facts`)).data['volume.vol-nodes-1'] === String(2 * 2 ** 30), {
    what: 'facts follow',
    timeoutMs: 15_000,
  });
  await rest.request('DELETE', scPath('vol'));
});

test('a ServiceMonitor is created when asked for and its CRD exists', async () => {
  await rest.request<any>('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'servicemonitors.monitoring.coreos.com' },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { kind: 'ServiceMonitor', listKind: 'ServiceMonitorList', plural: 'servicemonitors', singular: 'servicemonitor' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    },
  });
  await waitFor(() => get(`/apis/monitoring.coreos.com/v1/namespaces/${NS}/servicemonitors`), { what: 'ServiceMonitor CRD served' });
  const created = await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'mon' },
      spec: { monitoring: { serviceMonitor: true, labels: { release: 'prom' } } },
    },
  });
  const sm = await waitFor(() => get(`/apis/monitoring.coreos.com/v1/namespaces/${NS}/servicemonitors/mon`), { what: 'ServiceMonitor', timeoutMs: 15_000 });
  assert.is(sm.metadata.ownerReferences[0].uid, created.metadata.uid);
  assert.is(sm.metadata.labels.release, 'prom');
  assert.equal(sm.spec.endpoints, [{ port: 'cluster', path: '/metrics', interval: '30s' }]);
  await rest.request<any>('DELETE', scPath('mon'));
});

test('spec.autoscaling: used capacity above target raises the nodes StatefulSet', async () => {
  admin.setMembers(['auto-nodes-0', 'auto-nodes-1']);
  for (const m of ['auto-nodes-0', 'auto-nodes-1']) admin.members.get(m)!.usedBytes = 9 * 2 ** 30; // 90% of 10Gi each
  await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'auto' },
      spec: { nodes: { replicas: 2 }, replication: { factor: 2 }, autoscaling: { minReplicas: 2, maxReplicas: 6, targetUsedPercent: 60 } },
    },
  });
  // 18Gi used / (10Gi per node × 0.6) = 3 nodes
  await waitFor(async () => (await sts('auto-nodes'))?.spec.replicas === 3, { what: 'autoscaled to 3' });
  const sc = await waitFor(
    async () => {
      const o = await get(scPath('auto'));
      return o?.status?.autoscaling?.desiredReplicas === 3 && o;
    },
    { what: 'autoscaling status' },
  );
  assert.is(sc.spec.nodes.replicas, 2, 'spec untouched');
  await rest.request<any>('DELETE', scPath('auto'));
});

test('a Bucket gets a finalizer, a scoped key in its own Secret, and is purged on delete with reclaimPolicy Delete', async () => {
  const path = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/photos`;
  await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'photos' },
      spec: { clusterRef: { name: 'demo' }, replication: { factor: 2 }, reclaimPolicy: 'Delete', access: 'public-read' },
    },
  });
  const b = await waitFor(
    async () => {
      const o = await get(path);
      return o?.status?.phase === 'Ready' && o;
    },
    { what: 'bucket Ready', timeoutMs: 15_000 },
  );
  assert.equal(b.metadata.finalizers, ['storage.cairn.dev/bucket']);
  assert.ok(admin.calls.includes('putBucket photos r=2 public-read'));
  const secret = await get(`/api/v1/namespaces/${NS}/secrets/photos-credentials`);
  const data = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v as string, 'base64').toString()]));
  assert.equal([data.AWS_ACCESS_KEY_ID, data.BUCKET_NAME, data.S3_ENDPOINT], [b.status.accessKeyId, 'photos', `http://demo.${NS}.svc.cluster.local:9000`]);
  assert.is(admin.keys.get(b.status.accessKeyId)?.user, `bucket.${NS}.photos`, "the key belongs to the Bucket's own user");
  assert.is(admin.buckets.get('photos')?.owner, `bucket.${NS}.photos`, 'which owns the bucket');
  assert.is(secret.metadata.ownerReferences[0].uid, b.metadata.uid);
  const clusterRef = await rejection(rest.request<any>('PATCH', path, { contentType: PATCH_MERGE, body: { spec: { clusterRef: { name: 'other' } } } }));
  assert.match(clusterRef.message, 'spec.clusterRef is immutable');

  await rest.request<any>('DELETE', path);
  await waitFor(async () => !(await get(path)), { what: 'bucket gone', timeoutMs: 15_000 });
  assert.ok(admin.calls.includes('deleteBucket photos purge=true'));
  assert.ok(admin.calls.includes(`deleteKey ${b.status.accessKeyId}`));
  assert.not.ok(admin.buckets.has('photos'));
});

test('figures nothing watches (objects, bytes, used capacity) reach status within STATUS_FRESHNESS_MS, with no event', async () => {
  const path = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/fresh`;
  await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
    body: { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'Bucket', metadata: { name: 'fresh' }, spec: { clusterRef: { name: 'demo' } } },
  });
  await waitFor(async () => (await get(path))?.status?.phase === 'Ready', { what: 'bucket Ready', timeoutMs: 15_000 });
  // Uploads through S3 change nothing the operator watches: only its own cadence brings them.
  const bucket = admin.buckets.get('fresh')!;
  bucket.objects = 31;
  bucket.bytes = 31 * 2 ** 20;
  for (const m of admin.members.values()) m.usedBytes += 2 ** 30;
  const used = [...admin.members.values()].reduce((a, m) => a + m.usedBytes, 0);
  const limit = { timeoutMs: STATUS_FRESHNESS_MS + 5_000, intervalMs: 250 };
  await waitFor(async () => (await get(path)).status.usage?.objects === 31, { what: "the Bucket's objects", ...limit });
  assert.equal((await get(path)).status.usage, { objects: 31, bytes: 31 * 2 ** 20 });
  await waitFor(async () => (await get(scPath())).status.capacity.usedBytes === used, { what: "the cluster's used bytes", ...limit });
  for (const m of admin.members.values()) m.usedBytes -= 2 ** 30;
  await rest.request<any>('DELETE', path);
  await waitFor(async () => !(await get(path)), { what: 'bucket gone', timeoutMs: 15_000 });
});

test('spec.console: every pod serves the console behind its own Service; turned off, the Service goes and the pods are told', async () => {
  const svcPath = `/api/v1/namespaces/${NS}/services/demo-console`;
  const svc = await waitFor(() => get(svcPath), { what: 'the console Service', timeoutMs: 15_000 });
  assert.equal(
    svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort]),
    [['console', 9001, 9001]],
  );
  assert.equal(svc.spec.selector, { 'storage.cairn.dev/cluster': 'demo' });
  const container = async () => (await sts('demo-nodes')).spec.template.spec.containers[0];
  let c = await container();
  assert.is(c.args[c.args.indexOf('--console') + 1], '$(POD_IP):9001');
  assert.ok(c.ports.some((p: any) => p.name === 'console' && p.containerPort === 9001));

  await rest.request('PATCH', scPath(), { contentType: PATCH_MERGE, body: { spec: { console: { enabled: false } } } });
  await waitFor(async () => !(await get(svcPath)), { what: 'the console Service gone', timeoutMs: 15_000 });
  c = await waitFor(
    async () => {
      const x = await container();
      return x.args.includes('off') && x;
    },
    { what: '--console off', timeoutMs: 15_000 },
  );
  assert.not.ok(c.ports.some((p: any) => p.name === 'console'));
  await rest.request('PATCH', scPath(), { contentType: PATCH_MERGE, body: { spec: { console: { enabled: true } } } });
  await waitFor(() => get(svcPath), { what: 'the console Service back', timeoutMs: 15_000 });
});

test('a changed replication factor: Converging with progress, status.replicas moves only when every object has it', async () => {
  const path = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/factor`;
  admin.replication.set('factor', { underReplicatedChunks: 0, surplusChunks: 0, converged: true, waitingFor: [] });
  await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'factor' },
      spec: { clusterRef: { name: 'demo' }, replication: { factor: 2 } },
    },
  });
  await waitFor(
    async () => {
      const b = await get(path);
      return b?.status?.phase === 'Ready' && b.status.replicas === 2;
    },
    { what: 'factor Ready at 2', timeoutMs: 15_000 },
  );
  // The cluster is repairing: 7 chunks below 3 copies, one node still planning with the old factor.
  admin.replication.set('factor', { underReplicatedChunks: 7, surplusChunks: 0, converged: false, waitingFor: ['demo-nodes-1'] });
  await rest.request<any>('PATCH', path, { contentType: PATCH_MERGE, body: { spec: { replication: { factor: 3 } } } });
  const converging = await waitFor(
    async () => {
      const b = await get(path);
      return b?.status?.phase === 'Converging' && b.status.observedGeneration === b.metadata.generation && b;
    },
    { what: 'Converging', timeoutMs: 15_000 },
  );
  assert.is(converging.status.replicas, 2, 'not called 3 before every object has 3 copies');
  assert.equal(converging.status.replication, { factor: 3, underReplicatedChunks: 7, surplusChunks: 0, membersPending: 1 });
  assert.match(converging.status.conditions[0].message, 'replication 2 → 3: 7 chunks below 3 copies, 0 surplus copies, 1 node(s) not planned with 3 yet');
  admin.replication.set('factor', { underReplicatedChunks: 0, surplusChunks: 0, converged: true, waitingFor: [] });
  const done = await waitFor(
    async () => {
      const b = await get(path);
      return b?.status?.phase === 'Ready' && b;
    },
    { what: 'Ready at 3', timeoutMs: 20_000 },
  );
  assert.is(done.status.replicas, 3);
  await waitFor(
    async () =>
      (await get(`/api/v1/namespaces/${NS}/events`)).items.find((e: any) => e.involvedObject.name === 'factor' && e.reason === 'ReplicationConverged'),
    { what: 'a ReplicationConverged Event' },
  );
  await rest.request<any>('DELETE', path);
  await waitFor(async () => !(await get(path)), { what: 'factor gone', timeoutMs: 15_000 });
});

test('a Retain bucket keeps its data when the Bucket is deleted', async () => {
  const path = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/keep`;
  await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
    body: { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'Bucket', metadata: { name: 'keep' }, spec: { clusterRef: { name: 'demo' } } },
  });
  await waitFor(async () => (await get(path))?.status?.phase === 'Ready', { what: 'keep Ready', timeoutMs: 15_000 });
  await rest.request<any>('DELETE', path);
  await waitFor(async () => !(await get(path)), { what: 'keep gone', timeoutMs: 15_000 });
  assert.ok(admin.buckets.has('keep'));
  assert.not.ok(admin.calls.some((c) => c.startsWith('deleteBucket keep')));
});

test('a lost credentials Secret gets a new key, and the key nobody holds any more is revoked', async () => {
  const path = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/lost`;
  const secretPath = `/api/v1/namespaces/${NS}/secrets/lost-credentials`;
  await rest.request('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
    body: { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'Bucket', metadata: { name: 'lost' }, spec: { clusterRef: { name: 'demo' } } },
  });
  const old = (
    await waitFor(
      async () => {
        const o = await get(path);
        return o?.status?.phase === 'Ready' && o;
      },
      { what: 'lost Ready', timeoutMs: 15_000 },
    )
  ).status.accessKeyId;
  assert.ok(admin.keys.has(old));
  await rest.request('DELETE', secretPath);
  const keyIn = (s: any) => s && Buffer.from(s.data.AWS_ACCESS_KEY_ID, 'base64').toString();
  const fresh = await waitFor(
    async () => {
      const id = keyIn(await get(secretPath));
      return id !== old && id;
    },
    { what: 'a new Secret with a new key', timeoutMs: 15_000 },
  );
  await waitFor(() => !admin.keys.has(old), { what: 'the old key revoked', timeoutMs: 15_000 });
  assert.ok(admin.keys.has(fresh), 'the new key is live');
  await waitFor(async () => (await get(path))?.status?.accessKeyId === fresh, { what: 'status names the new key' });
  await rest.request('DELETE', path);
  await waitFor(async () => !(await get(path)), { what: 'lost gone', timeoutMs: 15_000 });
});

test('notifications: targets on the StorageCluster become a mounted targets file (CEL refuses a bad one); Bucket.spec.notifications goes through the admin API', async () => {
  const target = (t: unknown) => rest.request<any>('PATCH', scPath(), { contentType: PATCH_MERGE, body: { spec: { notifications: { targets: [t] } } } });
  const both = await rejection(target({ name: 'jobs', redis: { address: 'redis:6379', list: 'q' }, webhook: { url: 'http://h/' } }));
  assert.match(both.message, 'a target is exactly one of redis and webhook');
  const listAndStream = await rejection(target({ name: 'jobs', redis: { address: 'redis:6379', list: 'q', stream: 's' } }));
  assert.match(listAndStream.message, 'a redis target has exactly one of list and stream');
  const badName = await rejection(target({ name: 'Jobs!', webhook: { url: 'http://h/' } }));
  assert.match(badName.message, 'spec.notifications.targets[0].name');
  await target({ name: 'jobs', redis: { address: 'redis.apps:6379', list: 'cairn-events', passwordSecretRef: { name: 'redis', key: 'password' } } });
  const cm = await waitFor(() => get(`/api/v1/namespaces/${NS}/configmaps/demo-notifications`), { what: 'the targets ConfigMap', timeoutMs: 15_000 });
  assert.equal(JSON.parse(cm.data['targets.json']).targets, [
    { name: 'jobs', kind: 'redis', address: 'redis.apps:6379', list: 'cairn-events', passwordFile: 'secrets/jobs/password' },
  ]);
  const missing = await waitFor(
    async () =>
      (await get(`/api/v1/namespaces/${NS}/events`)).items.find((e: any) => e.involvedObject.name === 'demo' && e.reason === 'NotificationSecretMissing'),
    { what: 'a NotificationSecretMissing Event' },
  );
  assert.match(missing.message, `key password of Secret ${NS}/redis, which does not exist`);
  for (const name of ['demo-roots', 'demo-nodes']) {
    const pod = await waitFor(
      async () => {
        const s = await sts(name);
        return s?.spec.template.spec.containers[0].args.includes('--notification-targets') && s.spec.template.spec;
      },
      { what: `${name} pointed at the targets`, timeoutMs: 15_000 },
    );
    assert.equal(pod.volumes.find((v: any) => v.name === 'notifications').projected.sources[1], {
      secret: { name: 'redis', items: [{ key: 'password', path: 'secrets/jobs/password' }] },
    });
  }

  admin.notificationTargets = new Set(['jobs']);
  const path = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/inbox`;
  const rule = { id: 'new-files', target: 'jobs', events: ['s3:ObjectCreated:*'], prefix: 'in/' };
  await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'inbox' },
      spec: { clusterRef: { name: 'demo' }, reclaimPolicy: 'Delete', notifications: [rule] },
    },
  });
  await waitFor(async () => (await get(path))?.status?.notificationRules === 1, { what: 'inbox with its rule', timeoutMs: 15_000 });
  assert.equal(admin.buckets.get('inbox')?.notifications, [rule]);
  // A target the cluster does not declare: Failed with the cluster's message; the rule in effect stays.
  await rest.request<any>('PATCH', path, { contentType: PATCH_MERGE, body: { spec: { notifications: [{ ...rule, target: 'nosuch' }] } } });
  const failed = await waitFor(
    async () => {
      const b = await get(path);
      return b?.status?.phase === 'Failed' && b;
    },
    { what: 'inbox Failed', timeoutMs: 15_000 },
  );
  assert.equal([failed.status.conditions[0].reason, failed.status.notificationRules], ['InvalidArgument', 1]);
  assert.match(failed.status.conditions[0].message, 'no target nosuch is declared');
  assert.equal(admin.buckets.get('inbox')?.notifications, [rule]);
  // The field removed: the operator takes back what it set.
  await rest.request<any>('PATCH', path, { contentType: PATCH_MERGE, body: { spec: { notifications: null } } });
  await waitFor(
    async () => {
      const b = await get(path);
      return b?.status?.phase === 'Ready' && b.status.notificationRules === undefined;
    },
    { what: 'inbox Ready without rules', timeoutMs: 15_000 },
  );
  assert.is(admin.buckets.get('inbox')?.notifications, undefined);
  await rest.request('DELETE', path);
  await waitFor(async () => !(await get(path)), { what: 'inbox gone', timeoutMs: 15_000 });
  await rest.request<any>('PATCH', scPath(), { contentType: PATCH_MERGE, body: { spec: { notifications: null } } });
  // Targets removed: the pods run without them (the ConfigMap, unmounted, goes with the cluster).
  await waitFor(async () => !(await sts('demo-nodes')).spec.template.spec.containers[0].args.includes('--notification-targets'), {
    what: 'nodes without targets',
    timeoutMs: 15_000,
  });
});

test("spec.replication.to: Pending until its credentials Secret exists, then the rule goes through the admin API with the Secret's key; lag in status; removed, it stops", async () => {
  const path = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/copied`;
  const bad = await rejection(
    rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
      body: {
        apiVersion: 'storage.cairn.dev/v1alpha1',
        kind: 'Bucket',
        metadata: { name: 'copied' },
        spec: { clusterRef: { name: 'demo' }, replication: { to: { endpoint: 'ftp://x', bucket: 'b-copy', credentialsSecret: { name: 'backup-creds' } } } },
      },
    }),
  );
  assert.match(bad.message, 'spec.replication.to.endpoint');
  admin.replicationProgress = { backlog: 7, lagSeconds: 42, backfill: 'running' as never, membersAnswered: 3, membersAsked: 3 };
  await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'copied' },
      spec: {
        clusterRef: { name: 'demo' },
        reclaimPolicy: 'Delete',
        replication: { to: { endpoint: 'https://backup.example:9000', bucket: 'b-copy', credentialsSecret: { name: 'backup-creds' }, deletes: true } },
      },
    },
  });
  const pending = await waitFor(
    async () => {
      const b = await get(path);
      return b?.status?.conditions?.[0]?.reason === 'ReplicationSecretMissing' && b;
    },
    { what: 'Pending on the Secret', timeoutMs: 15_000 },
  );
  assert.match(pending.status.conditions[0].message, `Secret ${NS}/backup-creds`);
  await rest.request<any>('POST', `/api/v1/namespaces/${NS}/secrets`, {
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'backup-creds' },
      data: { AWS_ACCESS_KEY_ID: Buffer.from('BACKUPKEY').toString('base64'), AWS_SECRET_ACCESS_KEY: Buffer.from('backup-secret').toString('base64') },
    },
  });
  const ready = await waitFor(
    async () => {
      const b = await get(path);
      return b?.status?.replicationTo?.lagSeconds === 42 && b;
    },
    { what: 'replicating, lag in status', timeoutMs: 20_000 },
  );
  assert.equal(ready.status.replicationTo, { endpoint: 'https://backup.example:9000', bucket: 'b-copy', backlog: 7, lagSeconds: 42, backfill: 'running' });
  assert.equal(
    [admin.buckets.get('copied')?.replicateTo?.accessKeyId, admin.replicationSecrets.get('copied'), admin.buckets.get('copied')?.replicateTo?.deletes],
    ['BACKUPKEY', 'backup-secret', true],
  );
  await rest.request<any>('PATCH', path, { contentType: PATCH_MERGE, body: { spec: { replication: { to: null } } } });
  // (the local API server leaves an emptied object behind where a real one drops it: no endpoint is the check)
  let last: unknown;
  await waitFor(
    async () => {
      const b = await get(path);
      last = [b?.status?.replicationTo, admin.buckets.get('copied')?.replicateTo];
      return !b?.status?.replicationTo?.endpoint && admin.buckets.get('copied')?.replicateTo === undefined;
    },
    { what: 'replication stopped', timeoutMs: 15_000 },
  ).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(last)}`);
  });
  await rest.request('DELETE', path);
  await waitFor(async () => !(await get(path)), { what: 'copied gone', timeoutMs: 15_000 });
});

test("a Bucket's credentials Secret goes with its deleted cluster; the Bucket stays, Pending", async () => {
  await rest.request('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
    body: { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'StorageCluster', metadata: { name: 'brief' }, spec: {} },
  });
  const path = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/orphan`;
  const secretPath = `/api/v1/namespaces/${NS}/secrets/orphan-credentials`;
  await rest.request('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'orphan' },
      spec: { clusterRef: { name: 'brief' }, reclaimPolicy: 'Retain' },
    },
  });
  await waitFor(async () => (await get(path))?.status?.phase === 'Ready', { what: 'orphan Ready', timeoutMs: 15_000 });
  assert.ok(await get(secretPath), 'credentials written');
  await rest.request('DELETE', scPath('brief'));
  await waitFor(async () => !(await get(secretPath)), { what: 'the credentials Secret deleted', timeoutMs: 15_000 });
  const b = await waitFor(
    async () => {
      const o = await get(path);
      return o?.status?.conditions?.[0]?.reason === 'ClusterNotFound' && o;
    },
    { what: 'orphan Pending' },
  );
  assert.equal([b.status.phase, b.status.accessKeyId, b.status.credentialsSecret], ['Pending', undefined, undefined], 'status names no key or Secret');
  const event = await waitFor(
    async () => (await get(`/api/v1/namespaces/${NS}/events`)).items.find((e: any) => e.involvedObject.name === 'orphan' && e.reason === 'CredentialsDeleted'),
    { what: 'a CredentialsDeleted Event' },
  );
  assert.match(event.message, 'orphan-credentials');
  await rest.request('DELETE', path);
  await waitFor(async () => !(await get(path)), { what: 'orphan released', timeoutMs: 15_000 });
});

test('a spec the builders refuse is reported as Failed/InvalidSpec and not retried hot', async () => {
  await rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
    body: { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'StorageCluster', metadata: { name: 'huge' }, spec: { chunkSize: '1Gi' } },
  });
  const sc = await waitFor(
    async () => {
      const o = await get(scPath('huge'));
      return o?.status?.phase === 'Failed' && o;
    },
    { what: 'Failed status' },
  );
  const ready = sc.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal([ready.status, ready.reason], ['False', 'InvalidSpec']);
  assert.match(ready.message, 'spec.chunkSize 1Gi is outside 4Ki..64Mi');
  assert.not.ok(await get(`/apis/apps/v1/namespaces/${NS}/statefulsets/huge-nodes`), 'nothing half-built');
  await rest.request<any>('DELETE', scPath('huge'));
});

test('runOperator refuses bad flags with a clear message', async () => {
  const err = await runOperator(['--metrics-bind-address', 'nowhere']).then(
    () => undefined,
    (e) => e,
  );
  assert.match(String(err), '--metrics-bind-address must be host:port');
  const bad = await runOperator(['--workers', 'many']).then(
    () => undefined,
    (e) => e,
  );
  assert.match(String(bad), 'expected a non-negative integer');
});

test('`cairn operator --help` prints the usage and exits 0; a bad flag is one line and exit 1', async () => {
  const cairn = (...args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [join(repo, 'node-runtime/bin/cairn.js'), 'operator', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code, out, err }));
    });
  const help = await cairn('--help');
  assert.is(help.code, 0);
  assert.match(help.out, 'Usage: cairn operator [options]');
  assert.is(help.err, '', 'no stack trace');
  const bad = await cairn('--metrics-bind-address', 'nowhere');
  assert.is(bad.code, 1);
  assert.is(bad.err.trim(), 'cairn operator: --metrics-bind-address must be host:port, got nowhere');
  const workers = await cairn('--workers', 'many');
  assert.is(workers.code, 1);
  assert.not.match(workers.err, 'CommanderError');
  assert.match(workers.err, 'expected a non-negative integer');
});

test('metrics, health and readiness are served', async () => {
  const metrics = await (await fetch(`${op.url}/metrics`)).text();
  assert.match(metrics, /cairn_operator_reconcile_total\{controller="storagecluster",result="requeue"\} \d+/);
  assert.match(metrics, 'cairn_operator_reconcile_time_seconds_bucket');
  assert.match(metrics, 'cairn_operator_workqueue_depth{controller="bucket"}');
  assert.is((await fetch(`${op.url}/healthz`)).status, 200);
  const ready = await fetch(`${op.url}/readyz`);
  assert.is(ready.status, 200);
  assert.is(((await ready.json()) as { leader: boolean }).leader, true);
});

test('`cairn operator` exports a span per reconcile over OTLP and releases its Lease on SIGTERM', async () => {
  const receiver = await startOtlpReceiver(host);
  // OTEL_BSP_SCHEDULE_DELAY: export spans within 200 ms instead of the SDK's default 5 s batches.
  const child = spawn(
    process.execPath,
    [
      join(repo, 'node-runtime/bin/cairn.js'),
      'operator',
      '--kubeconfig',
      kubeconfig,
      '--lease-namespace',
      NS,
      '--lease-name',
      'sigterm-test',
      `--metrics-bind-address=${host}:0`,
    ],
    {
      env: { ...process.env, POD_NAME: 'sigterm-op', CAIRN_LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' },
      stdio: 'ignore',
    },
  );
  try {
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/sigterm-test`;
    await waitFor(async () => (await get(leasePath))?.spec?.holderIdentity?.startsWith('sigterm-op_'), { what: 'child leads', timeoutMs: 20_000 });
    // The child leads its own Lease, so it reconciles the existing StorageCluster demo.
    const span = await waitFor(() => receiver.spans.find((s) => s.name === 'reconcile' && s.attributes['cairn.key'] === `${NS}/demo`), {
      what: 'a reconcile span for storage/demo',
      timeoutMs: 20_000,
    });
    assert.is(span.service, 'cairn-operator');
    assert.is(span.resource['k8s.pod.name'], 'sigterm-op');
    assert.equal([span.attributes['cairn.controller'], span.attributes['k8s.namespace.name'], span.attributes['cairn.name']], ['storagecluster', NS, 'demo']);
    assert.ok(['success', 'requeue', 'error'].includes(String(span.attributes['cairn.result'])), `result attribute: ${span.attributes['cairn.result']}`);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.is(await exited, 0);
    assert.is((await get(leasePath)).spec.holderIdentity, '', 'lease released');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await receiver.close();
  }
});

test('a second replica waits for the lease and takes over when the leader stops', async () => {
  const b = await startOperator({
    kubeconfig,
    metricsHost: host,
    metricsPort: 0,
    identity: 'op-b',
    leaseNamespace: 'default',
    adminFactory: admin.factory,
    retryMs: 200,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
  });
  try {
    // Let the leader renew twice while b campaigns: b must not take a held lease.
    const leasePath = '/apis/coordination.k8s.io/v1/namespaces/default/leases/cairn-operator';
    const seen = new Set<string>();
    await waitFor(
      async () => {
        seen.add((await get(leasePath)).spec.renewTime);
        return seen.size >= 3;
      },
      { what: 'leader renewals' },
    );
    assert.is(b.isLeader(), false);
    assert.is((await fetch(`${b.url}/readyz`)).status, 200, 'a standby is ready');
    const started = Date.now();
    await op.stop();
    await waitFor(() => b.isLeader(), { what: 'b leads', timeoutMs: 5_000 });
    assert.ok(Date.now() - started < 2_500, 'released lease is taken without waiting out its duration');
    const lease = await get(leasePath);
    assert.is(lease.spec.holderIdentity, 'op-b');
    // the new leader reconciles: a change made now is acted on
    await rest.request<any>('PATCH', scPath(), { contentType: PATCH_MERGE, body: { spec: { chunkSize: '8Mi' } } });
    await waitFor(async () => (await get(`/api/v1/namespaces/${NS}/configmaps/demo-config`))?.data?.CAIRN_CHUNK_SIZE === String(8 * 2 ** 20), {
      what: 'new leader reconciles',
    });
  } finally {
    await b.stop();
  }
});

test.run();
