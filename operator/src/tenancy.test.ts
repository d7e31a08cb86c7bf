// Tenancy in the operator, against the API server emulator (real HTTP, watches, CEL) with the
// in-memory admin API (operator/test/memory-admin.ts): a bucket name is bound to the first Bucket
// that claims it (NameTaken for any other, in any namespace); Buckets share their objects with
// other Buckets' users (spec.sharedWith); spec.encryption sets the default encryption; the cluster
// Secret keeps the master key and is never made again while the cluster exists.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { startApiServer, type ApiServer } from '../../hack/kube/apiserver/server.ts';
import { loopbackAddress, waitFor } from '../../hack/testing/net.ts';
import { MemoryAdmin } from '../test/memory-admin.ts';
import { loadKubeConfig } from './kube/config.ts';
import { KubeApiError, KubeRest, PATCH_MERGE } from './kube/rest.ts';
import { startOperator, type Operator } from './main.ts';
import { masterKeyFromSecret } from '../../node-runtime/src/node/keys.ts';

const repo = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'cairn-tenancy-test-'));
const kubeconfig = join(dir, 'kubeconfig');
const host = loopbackAddress();
const admin = new MemoryAdmin();
const NS = 'storage';
let api: ApiServer;
let rest: KubeRest;
let op: Operator;

const get = (path: string) =>
  rest.request<any>('GET', path).catch((e) => {
    if (e instanceof KubeApiError && e.status === 404) return undefined;
    throw e;
  });
const bucketPath = (ns: string, name: string) => `/apis/storage.cairn.dev/v1alpha1/namespaces/${ns}/buckets/${name}`;
const secretPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/secrets/${name}`;
const ready = (o: any) => o?.status?.conditions?.find((c: any) => c.type === 'Ready');
const events = async (ns: string, name: string) => (await get(`/api/v1/namespaces/${ns}/events`)).items.filter((e: any) => e.involvedObject.name === name);

async function namespace(name: string): Promise<void> {
  await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
}

async function createBucket(ns: string, name: string, spec: Record<string, unknown> = {}): Promise<any> {
  return rest.request<any>('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${ns}/buckets`, {
    body: { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'Bucket', metadata: { name }, spec: { clusterRef: { name: 'demo', namespace: NS }, ...spec } },
  });
}

async function deleteBucket(ns: string, name: string): Promise<void> {
  await rest.request('DELETE', bucketPath(ns, name));
  await waitFor(async () => !(await get(bucketPath(ns, name))), { what: `${ns}/${name} gone`, timeoutMs: 15_000 });
}

const phase = (ns: string, name: string, want: string) =>
  waitFor(
    async () => {
      const o = await get(bucketPath(ns, name));
      return o?.status?.phase === want && o.status.observedGeneration === o.metadata.generation && o;
    },
    { what: `${ns}/${name} ${want}`, timeoutMs: 15_000 },
  );

test.before(async () => {
  api = await startApiServer({ host });
  api.writeKubeconfig(kubeconfig);
  rest = new KubeRest(loadKubeConfig(kubeconfig));
  for (const file of ['storagecluster.yaml', 'bucket.yaml']) {
    await rest.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: parse(readFileSync(join(repo, 'crds', file), 'utf8')) });
  }
  for (const ns of [NS, 'team-a', 'team-b']) await namespace(ns);
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
  admin.setMembers(['demo-roots-0', 'demo-nodes-0', 'demo-nodes-1']);
  await rest.request('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'demo' },
      spec: { roots: { replicas: 1 }, nodes: { replicas: 2 } },
    },
  });
  await waitFor(() => get(secretPath(NS, 'demo-cluster-secret')), { what: 'cluster secret', timeoutMs: 15_000 });
});

test.after(async () => {
  await op?.stop();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a bucket name is its first Bucket's: a claim from another namespace is NameTaken, with no Secret and an Event, until the name is free", async () => {
  const first = await createBucket('team-a', 'photos', { reclaimPolicy: 'Delete' });
  await phase('team-a', 'photos', 'Ready');
  await createBucket('team-b', 'photos');
  const taken = await phase('team-b', 'photos', 'Failed');
  assert.equal([ready(taken).status, ready(taken).reason], ['False', 'NameTaken']);
  assert.match(ready(taken).message, 'claimed by Bucket team-a/photos');
  assert.equal([taken.status.accessKeyId, taken.status.credentialsSecret], [undefined, undefined], 'status names no key');
  assert.not.ok(await get(secretPath('team-b', 'photos-credentials')), 'no credentials Secret');
  assert.not.ok(
    [...admin.keys.values()].some((k) => k.user === 'bucket.team-b.photos'),
    'no key for its user',
  );
  const event = await waitFor(async () => (await events('team-b', 'photos')).find((e: any) => e.reason === 'NameTaken'), { what: 'a NameTaken Event' });
  assert.is(event.type, 'Warning');
  assert.is(admin.claims.get('photos')?.uid, first.metadata.uid, "the name stays the first Bucket's");

  // The first goes (and its data with it): the name is free, and the waiting Bucket takes it at once.
  await deleteBucket('team-a', 'photos');
  const now = await phase('team-b', 'photos', 'Ready');
  assert.is(admin.buckets.get('photos')?.owner, 'bucket.team-b.photos');
  assert.is(admin.keys.get(now.status.accessKeyId)?.user, 'bucket.team-b.photos');
  await deleteBucket('team-b', 'photos');
});

test('a Bucket that finds its name claimed by another (a race it lost) gives up its Secret and its key', async () => {
  await createBucket('team-a', 'raced');
  const b = await phase('team-a', 'raced', 'Ready');
  assert.ok(await get(secretPath('team-a', 'raced-credentials')));
  // Another Bucket's claim won in the cluster (two operators' writes, a restored registry...).
  admin.claims.set('raced', { namespace: 'team-b', name: 'raced', uid: 'someone-else' });
  await rest.request('PATCH', bucketPath('team-a', 'raced'), { contentType: PATCH_MERGE, body: { spec: { quota: { objects: 10 } } } });
  const taken = await phase('team-a', 'raced', 'Failed');
  assert.is(ready(taken).reason, 'NameTaken');
  await waitFor(async () => !(await get(secretPath('team-a', 'raced-credentials'))), { what: 'the Secret deleted', timeoutMs: 15_000 });
  await waitFor(() => !admin.keys.has(b.status.accessKeyId), { what: 'its key revoked', timeoutMs: 15_000 });
  admin.claims.delete('raced');
  await deleteBucket('team-a', 'raced');
});

test('spec.sharedWith and spec.encryption are checked by the API server', async () => {
  const refused = async (spec: Record<string, unknown>) => {
    const err = await createBucket('team-a', 'checked', spec).then(
      () => undefined,
      (e) => e,
    );
    assert.instance(err, KubeApiError, `refused: ${JSON.stringify(spec)}`);
    assert.is(err.status, 422);
    return err.message as string;
  };
  assert.match(
    await refused({
      sharedWith: [
        { bucketRef: { name: 'x' }, access: 'read' },
        { bucketRef: { name: 'x' }, access: 'read-write' },
      ],
    }),
    'spec.sharedWith names a Bucket more than once',
  );
  assert.match(await refused({ sharedWith: [{ bucketRef: { name: 'checked' }, access: 'read' }] }), 'spec.sharedWith names this Bucket itself');
  assert.match(await refused({ sharedWith: [{ bucketRef: { name: 'x' }, access: 'write' }] }), 'spec.sharedWith[0].access');
  assert.match(await refused({ sharedWith: [{ access: 'read' }] }), 'spec.sharedWith[0].bucketRef');
  assert.match(await refused({ encryption: { default: 'aws:kms' } }), 'spec.encryption.default');
  // The same name in two namespaces is two Buckets; itself in another namespace is another Bucket.
  await createBucket('team-a', 'checked', {
    sharedWith: [
      { bucketRef: { name: 'x' }, access: 'read' },
      { bucketRef: { name: 'x', namespace: 'team-b' }, access: 'read' },
      { bucketRef: { name: 'checked', namespace: 'team-b' }, access: 'read' },
    ],
    encryption: { default: 'None' },
  });
  await deleteBucket('team-a', 'checked');
});

test("spec.sharedWith grants other Buckets' users access; a grant waits for its Bucket; status shows both sides", async () => {
  const cond = (o: any) => o?.status?.conditions?.find((c: any) => c.type === 'GrantsApplied');
  const bucket = (ns: string, name: string) => get(bucketPath(ns, name));
  await createBucket('team-a', 'etl');
  await phase('team-a', 'etl', 'Ready');
  await createBucket('team-b', 'reports', {
    sharedWith: [
      { bucketRef: { name: 'etl', namespace: 'team-a' }, access: 'read' },
      { bucketRef: { name: 'later', namespace: 'team-a' }, access: 'read-write' },
    ],
  });
  const reports = await phase('team-b', 'reports', 'Ready');
  assert.equal([cond(reports).status, cond(reports).reason], ['False', 'BucketNotFound']);
  assert.match(cond(reports).message, 'Bucket team-a/later not found: granted read-write once it exists');
  assert.equal(admin.buckets.get('reports')?.shares, [{ user: 'bucket.team-a.etl', access: 'read' }], 'the grant whose Bucket exists is in effect');
  assert.is(reports.status.owner, 'bucket.team-b.reports');
  assert.equal(reports.status.sharedWith, [{ bucketRef: { namespace: 'team-a', name: 'etl' }, user: 'bucket.team-a.etl', access: 'read' }]);
  await waitFor(async () => (await events('team-b', 'reports')).find((e: any) => e.reason === 'GrantPending' && e.type === 'Warning'), {
    what: 'a GrantPending Event',
  });
  // The other side: etl's key may read reports.
  const etl = await waitFor(
    async () => {
      const o = await bucket('team-a', 'etl');
      return o?.status?.sharedBy && o;
    },
    { what: 'etl sharedBy', timeoutMs: 15_000 },
  );
  assert.equal(etl.status.sharedBy, [{ bucketName: 'reports', bucketRef: { namespace: 'team-b', name: 'reports' }, access: 'read' }]);

  // The Bucket it waits for appears: the grant applies, without touching reports.
  await createBucket('team-a', 'later');
  await waitFor(async () => cond(await bucket('team-b', 'reports'))?.status === 'True', { what: 'GrantsApplied', timeoutMs: 15_000 });
  assert.equal(admin.buckets.get('reports')?.shares, [
    { user: 'bucket.team-a.etl', access: 'read' },
    { user: 'bucket.team-a.later', access: 'read-write' },
  ]);
  const later = await waitFor(
    async () => {
      const o = await bucket('team-a', 'later');
      return o?.status?.sharedBy && o;
    },
    { what: 'later sharedBy', timeoutMs: 15_000 },
  );
  assert.equal(later.status.sharedBy, [{ bucketName: 'reports', bucketRef: { namespace: 'team-b', name: 'reports' }, access: 'read-write' }]);

  // A grant taken out of the spec is withdrawn, and the Bucket that had it hears of it.
  await rest.request('PATCH', bucketPath('team-b', 'reports'), {
    contentType: PATCH_MERGE,
    body: { spec: { sharedWith: [{ bucketRef: { name: 'later', namespace: 'team-a' }, access: 'read-write' }] } },
  });
  await waitFor(() => admin.buckets.get('reports')?.shares?.length === 1, { what: "etl's grant withdrawn", timeoutMs: 15_000 });
  await waitFor(async () => (await bucket('team-a', 'etl'))?.status?.sharedBy === undefined, { what: 'etl no longer shared with', timeoutMs: 15_000 });
  // The Bucket granted to goes: the grant goes with it, and waits again.
  await deleteBucket('team-a', 'later');
  const waiting = await waitFor(
    async () => {
      const o = await bucket('team-b', 'reports');
      return cond(o)?.status === 'False' && o;
    },
    { what: 'waiting again', timeoutMs: 15_000 },
  );
  assert.is(waiting.status.sharedWith, undefined);
  assert.is(admin.buckets.get('reports')?.shares, undefined);
  for (const [ns, name] of [
    ['team-b', 'reports'],
    ['team-a', 'etl'],
  ] as const)
    await deleteBucket(ns, name);
});

test("spec.encryption sets the bucket's default encryption; unset, it is left as the owner set it over S3", async () => {
  await createBucket('team-a', 'sealed', { encryption: { default: 'AES256' } });
  let b = await phase('team-a', 'sealed', 'Ready');
  assert.equal([admin.requests.get('sealed')?.encryption, b.status.encryption], ['AES256', 'AES256']);
  await rest.request('PATCH', bucketPath('team-a', 'sealed'), { contentType: PATCH_MERGE, body: { spec: { encryption: { default: 'None' } } } });
  b = await waitFor(
    async () => {
      const o = await get(bucketPath('team-a', 'sealed'));
      return o.status.encryption === 'None' && o;
    },
    { what: 'encryption off', timeoutMs: 15_000 },
  );
  assert.is(admin.requests.get('sealed')?.encryption, null);
  // Unset, it is the owner's to set over S3 (PutBucketEncryption). The owner's change comes once the
  // operator has taken the unset spec: while the spec said None, any reconcile (its own status write
  // wakes one) set None again, as that spec asked.
  await rest.request('PATCH', bucketPath('team-a', 'sealed'), { contentType: PATCH_MERGE, body: { spec: { encryption: null } } });
  await waitFor(
    async () => {
      const o = await get(bucketPath('team-a', 'sealed'));
      return o.status.observedGeneration === o.metadata.generation && o;
    },
    { what: 'unset spec taken', timeoutMs: 15_000 },
  );
  admin.buckets.get('sealed')!.encryption = 'AES256'; // the owner turns it on over S3
  // Any other change: the next reconcile reads the bucket again and must leave its encryption be.
  await rest.request('PATCH', bucketPath('team-a', 'sealed'), { contentType: PATCH_MERGE, body: { spec: { quota: { objects: 10 } } } });
  b = await waitFor(
    async () => {
      const o = await get(bucketPath('team-a', 'sealed'));
      return o.status.observedGeneration === o.metadata.generation && o.status.encryption === 'AES256' && o;
    },
    { what: 'left as it is', timeoutMs: 15_000 },
  );
  assert.not.ok('encryption' in admin.requests.get('sealed')!, 'unset: not sent');
  await deleteBucket('team-a', 'sealed');
});

test('the cluster Secret holds the master key every pod gets; lost, it is never made again: Degraded, with how to restore it', async () => {
  const scPath = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters/demo`;
  const secret = await get(secretPath(NS, 'demo-cluster-secret'));
  assert.is(Buffer.from(Buffer.from(secret.data.masterKey, 'base64').toString(), 'base64').length, 32, 'a 32-byte master key');
  for (const role of ['roots', 'nodes']) {
    const env = (await get(`/apis/apps/v1/namespaces/${NS}/statefulsets/demo-${role}`)).spec.template.spec.containers[0].env;
    assert.equal(
      env.find((v: any) => v.name === 'CAIRN_MASTER_KEY')?.valueFrom,
      { secretKeyRef: { name: 'demo-cluster-secret', key: 'masterKey' } },
      `${role} get it`,
    );
  }
  const backup = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'demo-cluster-secret', labels: secret.metadata.labels },
    type: 'Opaque',
    data: secret.data,
  };

  await rest.request('DELETE', secretPath(NS, 'demo-cluster-secret'));
  const sc = await waitFor(
    async () => {
      const o = await get(scPath);
      return o?.status?.conditions?.find((c: any) => c.type === 'Degraded')?.reason === 'ClusterSecretMissing' && o;
    },
    { what: 'Degraded', timeoutMs: 15_000 },
  );
  const degraded = sc.status.conditions.find((c: any) => c.type === 'Degraded');
  assert.equal([sc.status.phase, degraded.status, ready(sc).reason], ['Degraded', 'True', 'ClusterSecretMissing']);
  assert.match(degraded.message, `Restore it from your backup`);
  assert.match(degraded.message, `kubectl exec -n ${NS} demo-roots-0 -- printenv CAIRN_CLUSTER_SECRET CAIRN_MASTER_KEY`);
  await waitFor(
    async () => (await events(NS, 'demo')).find((e: any) => e.reason === 'Degraded' && e.type === 'Warning' && e.message.includes('demo-cluster-secret')),
    { what: 'a Degraded Event' },
  );
  // A spec change is reconciled (observedGeneration) but changes nothing while the Secret is gone.
  await rest.request('PATCH', scPath, { contentType: PATCH_MERGE, body: { spec: { rebalance: { failureTimeoutSeconds: 45 } } } });
  await waitFor(
    async () => {
      const o = await get(scPath);
      return o.status.observedGeneration === o.metadata.generation;
    },
    { what: 'the change seen', timeoutMs: 15_000 },
  );
  assert.not.ok(await get(secretPath(NS, 'demo-cluster-secret')), 'no new cluster Secret');
  assert.is.not((await get(`/api/v1/namespaces/${NS}/configmaps/demo-config`)).data.CAIRN_FAILURE_TIMEOUT_MS, '45000', 'no child changed');
  const bucket = await createBucket('team-a', 'meanwhile');
  const pending = await waitFor(
    async () => {
      const o = await get(bucketPath('team-a', 'meanwhile'));
      return ready(o)?.reason === 'ClusterNotReady' && o;
    },
    { what: 'a Bucket waits', timeoutMs: 15_000 },
  );
  assert.match(ready(pending).message, 'no cluster Secret');

  // Restored from the backup: the operator carries on with the same values.
  await rest.request('POST', `/api/v1/namespaces/${NS}/secrets`, { body: backup });
  await waitFor(async () => (await get(`/api/v1/namespaces/${NS}/configmaps/demo-config`)).data.CAIRN_FAILURE_TIMEOUT_MS === '45000', {
    what: 'the change applied',
    timeoutMs: 30_000,
  });
  await waitFor(
    async () => {
      const o = await get(scPath);
      return o.status.conditions.every((c: any) => c.reason !== 'ClusterSecretMissing');
    },
    { what: 'no longer missing', timeoutMs: 15_000 },
  );
  assert.equal((await get(secretPath(NS, 'demo-cluster-secret'))).data, secret.data, 'the same values');
  await phase('team-a', 'meanwhile', 'Ready');
  assert.ok(bucket.metadata.uid);
  await deleteBucket('team-a', 'meanwhile');
});

test('a cluster from before the master key was kept gets the one its pods derived from the cluster secret', async () => {
  // What an older operator left: a cluster Secret with the cluster secret alone.
  await rest.request('POST', `/api/v1/namespaces/${NS}/secrets`, {
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'legacy-cluster-secret' },
      type: 'Opaque',
      data: { secret: Buffer.from('legacy-secret').toString('base64') },
    },
  });
  await rest.request('POST', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`, {
    body: {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'legacy' },
      spec: { roots: { replicas: 1 }, nodes: { replicas: 1 }, replication: { factor: 1 } },
    },
  });
  const s = await waitFor(
    async () => (await get(secretPath(NS, 'legacy-cluster-secret')))?.data?.masterKey && (await get(secretPath(NS, 'legacy-cluster-secret'))),
    { what: 'master key kept', timeoutMs: 15_000 },
  );
  assert.is(Buffer.from(s.data.secret, 'base64').toString(), 'legacy-secret', 'the cluster secret unchanged');
  assert.is(Buffer.from(s.data.masterKey, 'base64').toString(), masterKeyFromSecret('legacy-secret').toString('base64'));
  await rest.request('DELETE', `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters/legacy`);
});

test.run();
