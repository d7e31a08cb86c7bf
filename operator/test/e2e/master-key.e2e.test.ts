// The master key, end to end (full profile, `npm run e2e`): real `cairn server` pods get the cluster
// Secret's master key as CAIRN_MASTER_KEY (each keeps only its fingerprint on its volume). The
// Secret deleted, nothing is made again: the cluster says Degraded with how to restore it, and the
// pods keep serving. Restored from a backup, the operator carries on; a pod restarted afterwards
// still opens what was encrypted before (the same master key; a wrong key is refused at start: node-runtime/src/node/keys.test.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimDir } from '../../../hack/kube/kubelet/volumes.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { decodeSecret, s3Client } from './cluster.ts';
import { startE2E, waitForCluster, type E2E } from './harness.ts';

const full = process.env.CAIRN_E2E === 'full' || process.env.npm_lifecycle_event === 'e2e';
const NS = 'vault';
const SECRET = `/api/v1/namespaces/${NS}/secrets/demo-cluster-secret`;
let e: E2E;

const cond = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

/** An object read through one pod in particular (it unwraps the data key with its master key). */
async function readThrough(pod: string, key: string): Promise<string> {
  const creds = decodeSecret(await e.get(`/api/v1/namespaces/${NS}/secrets/sealed-credentials`));
  const ip = (await e.get(`/api/v1/namespaces/${NS}/pods/${pod}`)).status.podIP;
  const s3 = new S3Client({
    endpoint: `http://${ip}:9000`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID!, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY! },
  });
  return (await s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: key }))).Body!.transformToString();
}

/** Delete a pod; wait for its replacement. */
async function replace(pod: string, ready: boolean): Promise<void> {
  const path = `/api/v1/namespaces/${NS}/pods/${pod}`;
  const uid = (await e.get(path)).metadata.uid;
  await e.rest.request('DELETE', path);
  await waitFor(
    async () => {
      const p = await e.get(path);
      return p && p.metadata.uid !== uid && (!ready || cond(p, 'Ready')?.status === 'True');
    },
    { what: `${pod} replaced${ready ? ' and ready' : ''}`, timeoutMs: 120_000 },
  );
}

if (full) {
  test.before(async () => {
    e = await startE2E();
    await e.startOperator('cairn-operator-0');
    await e.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await e.apply({
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'demo', namespace: NS },
      spec: { roots: { replicas: 1 }, nodes: { replicas: 2, storage: { size: '512Mi' } }, replication: { factor: 2 } },
    });
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready', 'Ready', 180_000);
  });

  test.after(async () => {
    await e?.stop();
  });

  test('a lost cluster Secret: Degraded, nothing made again, pods keep serving; restored, the same master key opens what was encrypted', async () => {
    await e.apply({
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'sealed', namespace: NS },
      spec: { clusterRef: { name: 'demo' }, encryption: { default: 'AES256' } },
    });
    await waitFor(async () => cond(await e.get(`/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets/sealed`), 'Ready')?.status === 'True', {
      what: 'Bucket serving',
      timeoutMs: 60_000,
    });
    const s3 = await s3Client(e, NS, 'demo', 'sealed-credentials');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'before', Body: 'sealed before' }));
    assert.is(put.ServerSideEncryption, 'AES256');
    // Each pod was given the key: it keeps a fingerprint to check it by, never the key.
    for (const pvc of ['data-demo-nodes-0', 'data-demo-nodes-1', 'data-demo-roots-0']) {
      const dir = claimDir(e.plane.dataDir, NS, pvc);
      assert.ok(existsSync(join(dir, 'master.key.check')) && !existsSync(join(dir, 'master.key')), `${pvc}: given the master key`);
    }

    const backup = await e.get(SECRET);
    await e.rest.request('DELETE', SECRET);
    const sc = await waitForCluster(e, NS, 'demo', (s) => cond(s, 'Degraded')?.reason === 'ClusterSecretMissing', 'Degraded: ClusterSecretMissing', 60_000);
    assert.is(sc.status.phase, 'Degraded');
    assert.match(cond(sc, 'Degraded').message, 'printenv CAIRN_CLUSTER_SECRET CAIRN_MASTER_KEY');
    const event = await waitFor(
      async () =>
        (await e.get(`/api/v1/namespaces/${NS}/events`)).items.find(
          (x: any) => x.involvedObject.name === 'demo' && x.reason === 'Degraded' && x.message.includes('demo-cluster-secret'),
        ),
      { what: 'a Degraded Event' },
    );
    assert.is(event.type, 'Warning');
    assert.not.ok(await e.get(SECRET), 'not made again');
    assert.is(await readThrough('demo-nodes-1', 'before'), 'sealed before', 'the pods keep serving');

    await e.rest.request('POST', `/api/v1/namespaces/${NS}/secrets`, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'demo-cluster-secret', labels: backup.metadata.labels },
        type: backup.type,
        data: backup.data,
      },
    });
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready', 'Ready again', 60_000);
    assert.equal((await e.get(SECRET)).data, backup.data, 'the same values');
    // A node restarted now starts with the restored key (its check passes) and opens the old object.
    await replace('demo-nodes-0', true);
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready', 'Ready after the restart', 120_000);
    assert.is(await readThrough('demo-nodes-0', 'before'), 'sealed before');
  });
}

test.run();
