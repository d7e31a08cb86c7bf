// Day 2, end to end (full profile, `npm run e2e`): the operator's own spec.autoscaling on real used
// capacity. Data written through S3 takes the cluster past its target (capacity is the node PVCs'),
// and the operator adds a node; the data deleted through S3 and collected, it drains the extra node
// and removes it, with every object written since intact.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adminClient, s3Client } from './cluster.ts';
import { startE2E, waitForCluster, type E2E } from './harness.ts';

const full = process.env.CAIRN_E2E === 'full' || process.env.npm_lifecycle_event === 'e2e';
const NS = 'autoscale';
const MiB = 2 ** 20;
let e: E2E;

if (full) {
  test.before(async () => {
    e = await startE2E();
    await e.startOperator('cairn-operator-0');
    await e.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    // Two nodes of 512Mi: 1 GiB in all, and a target of 20% used.
    await e.apply({
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'demo', namespace: NS },
      spec: {
        roots: { replicas: 1 },
        nodes: { replicas: 2, storage: { size: '512Mi' } },
        replication: { factor: 2 },
        rebalance: { passIntervalSeconds: 2 },
        autoscaling: { minReplicas: 2, maxReplicas: 4, targetUsedPercent: 20 },
      },
    });
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready' && s.status.capacity?.totalBytes === 2 * 512 * MiB, 'Ready with 2 × 512Mi', 180_000);
    // Deleted data should not wait the default 10 minutes to be collected (a cluster setting).
    await (await adminClient(e, NS, 'demo')).putSettings!({ gcGraceMs: 1_000 });
  });

  test.after(async () => {
    await e?.stop();
  });

  test('used capacity past the target adds a node; back under it, the extra node is drained and removed', async () => {
    const s3 = await s3Client(e, NS, 'demo', 'demo-admin');
    await s3.send(new CreateBucketCommand({ Bucket: 'fill' }));
    // 120 MiB of objects at R=2: about 240 MiB used, past 20% of 1 GiB.
    for (let i = 0; i < 30; i++) await s3.send(new PutObjectCommand({ Bucket: 'fill', Key: `f${i}`, Body: randomBytes(4 * MiB) }));
    const keep = randomBytes(2 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: 'fill', Key: 'keep', Body: keep }));
    const up = await waitForCluster(
      e,
      NS,
      'demo',
      (s) => s.status?.phase === 'Ready' && s.status.nodes?.ready === 3 && s.status.nodes.active === 3,
      'scaled up to 3 nodes',
      180_000,
    );
    assert.is(up.status.autoscaling.desiredReplicas, 3);
    assert.ok(up.status.capacity.usedPercent >= 10, `used ${up.status.capacity.summary}`);
    assert.is(up.spec.nodes.replicas, 2, 'the autoscaler never writes spec');

    for (let i = 0; i < 30; i++) await s3.send(new DeleteObjectCommand({ Bucket: 'fill', Key: `f${i}` }));
    const down = await waitForCluster(
      e,
      NS,
      'demo',
      (s) => s.status?.phase === 'Ready' && s.status.nodes?.replicas === 2 && s.status.nodes.active === 2,
      'scaled back to 2 nodes',
      240_000,
    );
    assert.is(down.status.autoscaling.desiredReplicas, 2);
    const events = (await e.get(`/api/v1/namespaces/${NS}/events`)).items.filter((x: any) => x.involvedObject?.name === 'demo');
    const said = (reason: string, text: string) => events.some((x: any) => x.reason === reason && x.message.includes(text));
    assert.ok(said('ScaledUp', '2 → 3'), 'ScaledUp event');
    assert.ok(said('Draining', 'demo-nodes-2'), 'drained before removal');
    assert.ok(said('MemberRemoved', 'demo-nodes-2'), 'forgotten once drained');
    const again = await s3Client(e, NS, 'demo', 'demo-admin');
    const got = Buffer.from(await (await again.send(new GetObjectCommand({ Bucket: 'fill', Key: 'keep' }))).Body!.transformToByteArray());
    assert.ok(got.equals(keep), 'the object kept through both scalings is intact');
  });
}

test.run();
