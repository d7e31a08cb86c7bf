// Day 2, end to end (full profile, `npm run e2e`): a change that restarts pods (here the chunk size,
// which the pods read as configuration) rolls one pod at a time, highest ordinal first, each only
// after the one before is ready again and the operator found the cluster at full redundancy; a
// replaced pod that does not come back pauses the rollout (RolloutPaused, a Warning Event) until it
// does. Objects written before stay readable throughout.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../hack/testing/net.ts';
import { setPodUnready } from '../../../hack/kube/faults.ts';
import { PATCH_MERGE } from '../../src/kube/rest.ts';
import { pods, s3Client } from './cluster.ts';
import { startE2E, waitForCluster, type E2E } from './harness.ts';

const full = process.env.CAIRN_E2E === 'full' || process.env.npm_lifecycle_event === 'e2e';
const NS = 'rollout';
const SC = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`;
const NODES = 'storage.cairn.dev/cluster=demo,storage.cairn.dev/role=node';
let e: E2E;
const bodies = new Map<string, Buffer>();

const isReady = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') && !p.metadata.deletionTimestamp;
const cond = (sc: any, type: string) => sc.status?.conditions?.find((c: any) => c.type === type);

/** Sample the node pods until `done`: the order pods were replaced in, and the most not ready at once. */
async function watchRollout(done: () => Promise<boolean>, timeoutMs: number): Promise<{ replaced: string[]; mostNotReady: number }> {
  const uids = new Map((await pods(e, NS, NODES)).map((p) => [p.metadata.name, p.metadata.uid]));
  const replaced: string[] = [];
  let mostNotReady = 0;
  await waitFor(
    async () => {
      const now = await pods(e, NS, NODES);
      for (const p of now) if (uids.get(p.metadata.name) !== p.metadata.uid && !replaced.includes(p.metadata.name)) replaced.push(p.metadata.name);
      mostNotReady = Math.max(mostNotReady, 3 - now.filter(isReady).length);
      return done();
    },
    { what: 'rollout done', timeoutMs, intervalMs: 200 },
  );
  return { replaced, mostNotReady };
}

const rolledOut = async () => {
  const sc = await e.get(`${SC}/demo`);
  const sts = await e.get(`/apis/apps/v1/namespaces/${NS}/statefulsets/demo-nodes`);
  return (
    sc.status?.phase === 'Ready' &&
    sts.status?.currentRevision === sts.status?.updateRevision &&
    sts.status?.updatedReplicas === 3 &&
    cond(sc, 'Progressing')?.status === 'False' &&
    sc.status.observedGeneration === sc.metadata.generation
  );
};

async function readAll(): Promise<void> {
  const s3 = await s3Client(e, NS, 'demo', 'demo-admin');
  for (const [key, body] of bodies) {
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'keep', Key: key }))).Body!.transformToByteArray());
    assert.ok(got.equals(body), `${key} intact`);
  }
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
      spec: {
        roots: { replicas: 1 },
        nodes: { replicas: 3, storage: { size: '1Gi' } },
        replication: { factor: 2 },
        rebalance: { passIntervalSeconds: 2 },
        rollout: { podReadyTimeoutSeconds: 30 },
      },
    });
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready', 'Ready', 180_000);
    const s3 = await s3Client(e, NS, 'demo', 'demo-admin');
    await s3.send(new CreateBucketCommand({ Bucket: 'keep' }));
    for (let i = 0; i < 10; i++) {
      const body = randomBytes(300_000 + i);
      bodies.set(`k${i}`, body);
      await s3.send(new PutObjectCommand({ Bucket: 'keep', Key: `k${i}`, Body: body }));
    }
  });

  test.after(async () => {
    await e?.stop();
  });

  test('a settings change rolls the node pods one at a time, highest first, each after full redundancy', async () => {
    await e.rest.request('PATCH', `${SC}/demo`, { contentType: PATCH_MERGE, body: { spec: { chunkSize: '2Mi' } } });
    const seen = await watchRollout(rolledOut, 200_000);
    assert.equal(seen.replaced, ['demo-nodes-2', 'demo-nodes-1', 'demo-nodes-0']);
    assert.ok(seen.mostNotReady <= 1, `never more than one node pod down at once (saw ${seen.mostNotReady})`);
    const events = (await e.get(`/api/v1/namespaces/${NS}/events`)).items.filter((x: any) => x.involvedObject.name === 'demo' && x.reason === 'RollingUpdate');
    assert.equal(
      events.map((x: any) => x.message).filter((m: string) => m.includes('demo-nodes')),
      ['replacing demo-nodes-2', 'replacing demo-nodes-1', 'replacing demo-nodes-0'],
    );
    await readAll();
  });

  test('a replaced pod that does not come back pauses the rollout until it does', async () => {
    const before = (await pods(e, NS, NODES)).find((p) => p.metadata.name === 'demo-nodes-2').metadata.uid;
    await e.rest.request('PATCH', `${SC}/demo`, { contentType: PATCH_MERGE, body: { spec: { chunkSize: '1Mi' } } });
    // The new demo-nodes-2 is kept unready as soon as it runs (a pod that cannot come back).
    await waitFor(
      async () => {
        const p = (await pods(e, NS, NODES)).find((x) => x.metadata.name === 'demo-nodes-2');
        if (!p || p.metadata.uid === before) return false;
        try {
          setPodUnready(e.plane, NS, 'demo-nodes-2', true);
          return true;
        } catch {
          return false;
        }
      },
      { what: 'demo-nodes-2 replaced', timeoutMs: 60_000, intervalMs: 100 },
    );
    const paused = await waitForCluster(e, NS, 'demo', (s) => cond(s, 'RolloutPaused')?.status === 'True', 'RolloutPaused', 90_000);
    assert.match(cond(paused, 'RolloutPaused').message, 'pod 2 runs the new revision but has not been ready for 30 s');
    const warning = (await e.get(`/api/v1/namespaces/${NS}/events`)).items.find((x: any) => x.involvedObject.name === 'demo' && x.reason === 'RolloutPaused');
    assert.is(warning?.type, 'Warning');
    const uids = Object.fromEntries((await pods(e, NS, NODES)).map((p) => [p.metadata.name, p.metadata.uid]));
    const sts = await e.get(`/apis/apps/v1/namespaces/${NS}/statefulsets/demo-nodes`);
    assert.is(sts.spec.updateStrategy.rollingUpdate.partition, 2, 'held at demo-nodes-2');
    await readAll();
    // It comes back: the rollout goes on by itself and finishes.
    setPodUnready(e.plane, NS, 'demo-nodes-2', false);
    const seen = await watchRollout(rolledOut, 200_000);
    assert.equal(seen.replaced, ['demo-nodes-1', 'demo-nodes-0']);
    assert.is.not((await pods(e, NS, NODES)).find((p) => p.metadata.name === 'demo-nodes-1').metadata.uid, uids['demo-nodes-1']);
    assert.is(cond(await e.get(`${SC}/demo`), 'RolloutPaused').status, 'False');
    await readAll();
  });
}

test.run();
