// End to end: the operator (as Pods running `cairn operator`) turns a StorageCluster and Buckets
// into running `cairn server` processes on the local control plane, and keeps them healthy.
// Short profile (in `npm test`): apply → Ready, printer columns, write/read with the bucket Secret,
// invalid spec rejected, Bucket deletion with both reclaim policies, a bucket name claimed from two
// namespaces (NameTaken), sharing between Buckets of two namespaces with real S3 clients (read, read-write,
// default encryption, withdrawal), cluster deletion → children garbage-collected. CAIRN_E2E=full adds: kill a node pod → Degraded → Ready with nothing
// under-replicated; scale 3→5→3 with every object intact; operator leader killed → the other takes
// over. Point CAIRN_E2E_KUBECONFIG at another API server to run the same suite there.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubectlBinary } from '../../../hack/testing/tools.ts';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../hack/testing/net.ts';
import { crashPod } from '../../../hack/kube/faults.ts';
import { PATCH_MERGE } from '../../src/kube/rest.ts';
import { OPERATOR_NS, startE2E, waitForCluster, type E2E } from './harness.ts';

// `npm run e2e` (or CAIRN_E2E=full) runs everything; `npm test` runs the short profile.
const full = process.env.CAIRN_E2E === 'full' || process.env.npm_lifecycle_event === 'e2e';
const NS = 'e2e';
const SC = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`;
const OTHER = 'e2e-other';
const bucketsIn = (ns: string) => `/apis/storage.cairn.dev/v1alpha1/namespaces/${ns}/buckets`;
const BK = bucketsIn(NS);
let e: E2E;

const cond = (sc: any, type: string) => sc.status?.conditions?.find((c: any) => c.type === type);
const decode = (s: any) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v as string, 'base64').toString()]));

/** The file API through a ready pod's IP (the test process has no cluster DNS; pods do). */
async function s3For(secretName: string, ns = NS): Promise<S3Client> {
  const creds = decode(await e.get(`/api/v1/namespaces/${ns}/secrets/${secretName}`));
  const pods = (await e.get(`/api/v1/namespaces/${NS}/pods?labelSelector=storage.cairn.dev/cluster=demo`)).items;
  const ready = pods.find((p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  assert.ok(ready, 'a ready pod serves the file API');
  return new S3Client({
    endpoint: `http://${ready.status.podIP}:9000`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID!, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY! },
  });
}

async function bucketReady(name: string, spec: Record<string, unknown>, ns = NS): Promise<any> {
  await e.apply({
    apiVersion: 'storage.cairn.dev/v1alpha1',
    kind: 'Bucket',
    metadata: { name, namespace: ns },
    spec: { clusterRef: { name: 'demo', namespace: NS }, ...spec },
  });
  return waitFor(
    async () => {
      const b = await e.get(`${bucketsIn(ns)}/${name}`);
      return b?.status?.phase === 'Ready' && b;
    },
    { what: `bucket ${ns}/${name} Ready`, timeoutMs: 60_000 },
  );
}

/** A Bucket that serves (Ready=True), whether or not the nodes' repair pass has counted it yet (phase Converging). */
async function bucketServing(name: string, spec: Record<string, unknown>, ns = NS): Promise<any> {
  await e.apply({
    apiVersion: 'storage.cairn.dev/v1alpha1',
    kind: 'Bucket',
    metadata: { name, namespace: ns },
    spec: { clusterRef: { name: 'demo', namespace: NS }, ...spec },
  });
  return waitFor(
    async () => {
      const b = await e.get(`${bucketsIn(ns)}/${name}`);
      return cond(b, 'Ready')?.status === 'True' && b.status.observedGeneration === b.metadata.generation && b;
    },
    { what: `bucket ${ns}/${name} serving`, timeoutMs: 60_000 },
  );
}

/** What an S3 call comes to: 'ok', or the error's name (AccessDenied, NoSuchKey...). */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (x) => x.name as string,
  );

test.before(async () => {
  e = await startE2E();
  await e.startOperator('cairn-operator-0');
  if (full) await e.startOperator('cairn-operator-1');
  await e.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
});

test.after(async () => {
  await e?.stop();
});

test('apply → Ready; kubectl shows the printer columns', async () => {
  await e.apply({
    apiVersion: 'storage.cairn.dev/v1alpha1',
    kind: 'StorageCluster',
    metadata: { name: 'demo', namespace: NS },
    spec: {
      roots: { replicas: 1 },
      nodes: { replicas: full ? 3 : 2, storage: { size: '1Gi' } },
      replication: { factor: 2 },
      rebalance: { failureTimeoutSeconds: 5 },
    },
  });
  const sc = await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready', 'Ready');
  assert.is(cond(sc, 'Ready').status, 'True');
  assert.is(sc.status.replication.underReplicatedChunks, 0);
  const events = (await e.get(`/api/v1/namespaces/${NS}/events`)).items;
  assert.ok(
    events.some((x: any) => x.involvedObject?.kind === 'StorageCluster' && x.reason === 'Ready' && x.type === 'Normal'),
    'a Ready Event',
  );
  // The Table the API server renders from the printer columns (what kubectl get prints).
  const table = await e.rest.request<any>('GET', SC, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.equal(
    table.columnDefinitions.map((c: any) => c.name),
    ['Name', 'Phase', 'Ready', 'Nodes', 'Used', 'Under-Replicated', 'Zones', 'Endpoint', 'Age'],
  );
  assert.equal(table.rows[0].cells.slice(0, 3), ['demo', 'Ready', full ? 3 : 2]);
  // And kubectl itself. Async: the API server emulator runs in this process.
  const kubectl = await promisify(execFile)(await kubectlBinary(), ['--kubeconfig', e.kubeconfig, 'get', 'storageclusters', '-n', NS], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.match(kubectl.stdout, /NAME\s+PHASE\s+READY\s+NODES\s+USED\s+UNDER-REPLICATED\s+AGE/);
  assert.match(kubectl.stdout, /demo\s+Ready\s+[23]\s+[23]\s+\S+/);
});

test('a Bucket Secret works with a real S3 client; invalid specs are refused with the CEL message', async () => {
  await bucketReady('photos', { reclaimPolicy: 'Delete' });
  const s3 = await s3For('photos-credentials');
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'hello.txt', Body: 'hello from e2e' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'hello.txt' }));
  assert.is(await got.Body!.transformToString(), 'hello from e2e');
  const err = await e
    .apply({
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'bad', namespace: NS },
      spec: { nodes: { replicas: 1 }, replication: { factor: 3 } },
    })
    .then(
      () => undefined,
      (x) => x,
    );
  assert.ok(err, 'invalid StorageCluster rejected');
  assert.match(err.message, 'spec.replication.factor must be ≤ spec.nodes.replicas');
});

test('deleting Buckets: Delete purges, Retain keeps the data', async () => {
  await bucketReady('keep', { reclaimPolicy: 'Retain' });
  const admin = await s3For('demo-admin');
  await e.rest.request<any>('DELETE', `${BK}/photos`);
  await e.rest.request<any>('DELETE', `${BK}/keep`);
  await waitFor(async () => !(await e.get(`${BK}/photos`)) && !(await e.get(`${BK}/keep`)), { what: 'Buckets gone', timeoutMs: 30_000 });
  await admin.send(new HeadBucketCommand({ Bucket: 'keep' }));
  const gone = await admin.send(new HeadBucketCommand({ Bucket: 'photos' })).then(
    () => undefined,
    (x) => x,
  );
  assert.ok(gone, 'photos was purged');
  assert.is(gone.$metadata?.httpStatusCode, 404);
});

test("a bucket name is its first Bucket's: the same name from another namespace is NameTaken, without credentials", async () => {
  const first = await bucketServing('claimed', {});
  await e.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OTHER } });
  await e.apply({
    apiVersion: 'storage.cairn.dev/v1alpha1',
    kind: 'Bucket',
    metadata: { name: 'claimed', namespace: OTHER },
    spec: { clusterRef: { name: 'demo', namespace: NS } },
  });
  const taken = await waitFor(
    async () => {
      const b = await e.get(`${bucketsIn(OTHER)}/claimed`);
      return cond(b, 'Ready')?.reason === 'NameTaken' && b;
    },
    { what: 'NameTaken', timeoutMs: 30_000 },
  );
  assert.equal([taken.status.phase, cond(taken, 'Ready').status], ['Failed', 'False']);
  assert.match(cond(taken, 'Ready').message, `claimed by Bucket ${NS}/claimed`);
  assert.not.ok(await e.get(`/api/v1/namespaces/${OTHER}/secrets/claimed-credentials`), 'no credentials Secret');
  const event = await waitFor(
    async () => (await e.get(`/api/v1/namespaces/${OTHER}/events`)).items.find((x: any) => x.involvedObject.name === 'claimed' && x.reason === 'NameTaken'),
    { what: 'a NameTaken Event' },
  );
  assert.is(event.type, 'Warning');
  // The first Bucket keeps its name and its data to itself.
  const s3 = await s3For('claimed-credentials');
  await s3.send(new PutObjectCommand({ Bucket: 'claimed', Key: 'k', Body: 'first' }));
  assert.is((await e.get(`${BK}/claimed`)).metadata.uid, first.metadata.uid);
});

test("sharing between Buckets: team A's app reads team B's reports and writes its inbox, as granted and no more", async () => {
  // Team B (namespace e2e) shares before team A's Bucket exists: the grants wait for it.
  const grants = (access: string) => ({ sharedWith: [{ bucketRef: { name: 'team-a', namespace: OTHER }, access }] });
  await Promise.all([bucketServing('reports', grants('read')), bucketServing('inbox', { ...grants('read-write'), encryption: { default: 'AES256' } })]);
  const waiting = await e.get(`${BK}/reports`);
  assert.equal([cond(waiting, 'GrantsApplied').status, cond(waiting, 'GrantsApplied').reason], ['False', 'BucketNotFound']);
  const b = await s3For('reports-credentials');
  await b.send(new PutObjectCommand({ Bucket: 'reports', Key: 'q1.csv', Body: 'revenue,1' }));

  const mine = await bucketServing('team-a', {}, OTHER);
  for (const name of ['reports', 'inbox']) {
    await waitFor(async () => cond(await e.get(`${BK}/${name}`), 'GrantsApplied')?.status === 'True', { what: `${name}: grant applied`, timeoutMs: 30_000 });
  }
  const a = await s3For('team-a-credentials', OTHER);
  assert.is(await (await a.send(new GetObjectCommand({ Bucket: 'reports', Key: 'q1.csv' }))).Body!.transformToString(), 'revenue,1');
  assert.is((await a.send(new ListObjectsV2Command({ Bucket: 'reports' }))).KeyCount, 1);
  assert.is(await outcome(a.send(new PutObjectCommand({ Bucket: 'reports', Key: 'forged.csv', Body: 'x' }))), 'AccessDenied', 'read only');
  const put = await a.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'from-a.csv', Body: 'hello b' }));
  assert.is(put.ServerSideEncryption, 'AES256', 'inbox encrypts by default (spec.encryption)');
  assert.is(await (await b.send(new GetObjectCommand({ Bucket: 'reports', Key: 'q1.csv' }))).Body!.transformToString(), 'revenue,1');
  assert.is(await outcome(a.send(new GetObjectCommand({ Bucket: 'claimed', Key: 'k' }))), 'AccessDenied', 'a bucket nobody shared');
  assert.is(await outcome(b.send(new GetObjectCommand({ Bucket: 'team-a', Key: 'k' }))), 'AccessDenied', 'sharing goes one way');
  assert.is(
    await outcome(a.send(new PutBucketPolicyCommand({ Bucket: 'inbox', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }))),
    'AccessDenied',
    'objects only, not the bucket',
  );

  // Status on both sides; kubectl get buckets stays one line each.
  const reports = await e.get(`${BK}/reports`);
  assert.equal(
    [reports.status.owner, reports.status.sharedWith],
    [`bucket.${NS}.reports`, [{ bucketRef: { namespace: OTHER, name: 'team-a' }, user: `bucket.${OTHER}.team-a`, access: 'read' }]],
  );
  const seen = await waitFor(
    async () => {
      const x = await e.get(`${bucketsIn(OTHER)}/team-a`);
      return x.status.sharedBy?.length === 2 && x;
    },
    { what: 'team-a sharedBy', timeoutMs: 30_000 },
  );
  assert.equal(
    seen.status.sharedBy.map((s: any) => `${s.bucketName}:${s.access}`),
    ['inbox:read-write', 'reports:read'],
  );
  assert.is(mine.status.owner, `bucket.${OTHER}.team-a`);
  const kubectl = await promisify(execFile)(await kubectlBinary(), ['--kubeconfig', e.kubeconfig, 'get', 'buckets', '-n', NS, '-o', 'wide'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.match(kubectl.stdout, /NAME\s+CLUSTER\s+PHASE\s+REPLICAS\s+OBJECTS\s+BYTES\s+SECRET\s+OWNER\s+ENCRYPTION\s+REPL-LAG\s+AGE/);
  assert.match(
    kubectl.stdout,
    new RegExp(`inbox\\s+demo\\s+(Ready|Converging)\\s+2?\\s+\\d+\\s+\\d+\\s+inbox-credentials\\s+bucket\\.${NS}\\.inbox\\s+AES256`),
  );

  // The grant withdrawn: team A's key reads no more.
  await e.rest.request('PATCH', `${BK}/reports`, { contentType: PATCH_MERGE, body: { spec: { sharedWith: null } } });
  await waitFor(async () => (await outcome(a.send(new GetObjectCommand({ Bucket: 'reports', Key: 'q1.csv' })))) === 'AccessDenied', {
    what: 'read withdrawn',
    timeoutMs: 30_000,
  });
});

if (full) {
  test('a killed node pod: Degraded, then Ready with nothing under-replicated', async () => {
    const s3 = await s3For('demo-admin');
    await s3.send(new CreateBucketCommand({ Bucket: 'heal' }));
    for (let i = 0; i < 20; i++) await s3.send(new PutObjectCommand({ Bucket: 'heal', Key: `o${i}`, Body: `object ${i} `.repeat(2000) }));
    crashPod(e.plane, NS, 'demo-nodes-1', { signal: 'SIGKILL' });
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Degraded', 'Degraded', 60_000);
    const back = await waitForCluster(
      e,
      NS,
      'demo',
      (s) => s.status?.phase === 'Ready' && s.status.replication?.underReplicatedChunks === 0,
      'Ready again',
      120_000,
    );
    assert.is(cond(back, 'Degraded').status, 'False');
  });

  test('scale 3 → 5 → 3 through the scale subresource with every object intact', async () => {
    const s3 = await s3For('demo-admin');
    await s3.send(new CreateBucketCommand({ Bucket: 'scale' }));
    const bodies = Array.from({ length: 30 }, (_, i) => `scale object ${i} `.repeat(500 + i));
    for (const [i, b] of bodies.entries()) await s3.send(new PutObjectCommand({ Bucket: 'scale', Key: `k${i}`, Body: b }));
    const scale = (n: number) => e.rest.request<any>('PATCH', `${SC}/demo/scale`, { contentType: PATCH_MERGE, body: { spec: { replicas: n } } });
    await scale(5);
    await waitForCluster(
      e,
      NS,
      'demo',
      (s) => s.status?.phase === 'Ready' && s.status.nodes.ready === 5 && s.status.nodes.active === 5,
      '5 nodes Ready',
      120_000,
    );
    await scale(3);
    await waitForCluster(
      e,
      NS,
      'demo',
      (s) => s.status?.phase === 'Ready' && s.status.nodes.replicas === 3 && s.status.nodes.active === 3,
      'back to 3 nodes',
      180_000,
    );
    // The pods went only after the cluster drained them: the operator's Events tell the story.
    const events = (await e.get(`/api/v1/namespaces/${NS}/events`)).items.filter((x: any) => x.involvedObject?.name === 'demo');
    const said = (reason: string, text: string) => events.some((x: any) => x.reason === reason && x.message.includes(text));
    for (const m of ['demo-nodes-3', 'demo-nodes-4']) {
      assert.ok(said('Draining', m), `Draining event for ${m}`);
      assert.ok(said('MemberRemoved', m), `MemberRemoved event for ${m}`);
    }
    assert.ok(said('ScaledDown', '5 → 3'), 'ScaledDown event');
    const again = await s3For('demo-admin');
    for (const [i, b] of bodies.entries()) {
      const got = await again.send(new GetObjectCommand({ Bucket: 'scale', Key: `k${i}` }));
      assert.is(await got.Body!.transformToString(), b, `k${i} intact after 3→5→3`);
    }
  });

  test("raising a live bucket's replication factor converges and keeps every object", async () => {
    await bucketReady('grow', { replication: { factor: 1 } });
    const s3 = await s3For('grow-credentials');
    for (let i = 0; i < 10; i++) await s3.send(new PutObjectCommand({ Bucket: 'grow', Key: `g${i}`, Body: `grow ${i} `.repeat(3000) }));
    await e.rest.request<any>('PATCH', `${BK}/grow`, { contentType: PATCH_MERGE, body: { spec: { replication: { factor: 2 } } } });
    await waitFor(
      async () => {
        const b = await e.get(`${BK}/grow`);
        return b.status.replicas === 2 && b.status.phase === 'Ready' && b.status.observedGeneration === b.metadata.generation;
      },
      { what: 'bucket at R=2', timeoutMs: 60_000 },
    );
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready' && s.status.replication?.underReplicatedChunks === 0, 'converged', 120_000);
    for (let i = 0; i < 10; i++)
      assert.is(await (await s3.send(new GetObjectCommand({ Bucket: 'grow', Key: `g${i}` }))).Body!.transformToString(), `grow ${i} `.repeat(3000));
  });

  test('the operator leader is killed: the other replica takes over and reconciles', async () => {
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NS}/leases/cairn-operator`;
    const holder: string = (await e.get(leasePath)).spec.holderIdentity;
    const leaderPod = holder.split('_')[0]!;
    // Killed, not stopped: no lease release, the standby must wait the lease out.
    await e.rest.request<any>('DELETE', `/api/v1/namespaces/${OPERATOR_NS}/pods/${leaderPod}`, { query: { gracePeriodSeconds: 0 } });
    const next = await waitFor(
      async () => {
        const h = (await e.get(leasePath))?.spec?.holderIdentity;
        return h && h !== holder && h;
      },
      { what: 'new leader', timeoutMs: 40_000 },
    );
    assert.is.not(next.split('_')[0], leaderPod);
    await e.rest.request<any>('PATCH', `${SC}/demo`, { contentType: PATCH_MERGE, body: { spec: { chunkSize: '2Mi' } } });
    await waitFor(async () => (await e.get(`/api/v1/namespaces/${NS}/configmaps/demo-config`))?.data?.CAIRN_CHUNK_SIZE === String(2 * 2 ** 20), {
      what: 'new leader reconciles',
      timeoutMs: 30_000,
    });
  });
}

test('deleting the StorageCluster garbage-collects its children', async () => {
  await e.rest.request<any>('DELETE', `${SC}/demo`);
  await waitFor(
    async () =>
      !(await e.get(`/apis/apps/v1/namespaces/${NS}/statefulsets/demo-nodes`)) &&
      !(await e.get(`/api/v1/namespaces/${NS}/services/demo`)) &&
      !(await e.get(`/api/v1/namespaces/${NS}/secrets/demo-admin`)),
    { what: 'children collected', timeoutMs: 60_000 },
  );
});

test.run();
