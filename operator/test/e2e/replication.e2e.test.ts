// Day 2, end to end (full profile, `npm run e2e`): a Bucket's spec.replication.factor changed live,
// 2 → 3 → 2, on a StorageCluster of three node pods. At the first moment the Bucket's status calls it
// Ready at the new factor, every chunk of every object written before the change already has exactly
// that many copies on the node pods' volumes; in between, status says Converging with progress.
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../hack/testing/net.ts';
import { PATCH_MERGE } from '../../src/kube/rest.ts';
import { chunkHolders, s3Client } from './cluster.ts';
import { startE2E, waitForCluster, type E2E } from './harness.ts';

const full = process.env.CAIRN_E2E === 'full' || process.env.npm_lifecycle_event === 'e2e';
const NS = 'replication';
const BK = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`;
const MiB = 2 ** 20;
let e: E2E;

/** Change the factor, then wait for Ready at it; at that first moment count every chunk's copies. */
async function changeFactor(ids: string[], factor: number): Promise<{ sawConverging: boolean }> {
  await e.rest.request('PATCH', `${BK}/grow`, { contentType: PATCH_MERGE, body: { spec: { replication: { factor } } } });
  let sawConverging = false;
  await waitFor(
    async () => {
      const b = await e.get(`${BK}/grow`);
      if (b.status?.observedGeneration !== b.metadata.generation) return undefined;
      if (b.status.phase === 'Converging') {
        sawConverging = true;
        assert.is.not(b.status.replicas, factor, 'Converging: status.replicas is still the factor every object holds');
        assert.is(b.status.replication.factor, factor);
      }
      return b.status.phase === 'Ready' && b.status.replicas === factor ? b : undefined;
    },
    { what: `Bucket Ready at factor ${factor}`, timeoutMs: 180_000, intervalMs: 200 },
  );
  const holders = chunkHolders(e, NS, 'demo');
  for (const id of ids)
    assert.is(holders.get(id)?.length, factor, `chunk ${id.slice(0, 12)} on ${holders.get(id)?.join(', ')} when the Bucket says Ready at ${factor}`);
  return { sawConverging };
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
      spec: { roots: { replicas: 1 }, nodes: { replicas: 3, storage: { size: '1Gi' } }, replication: { factor: 2 }, chunkSize: '1Mi' },
    });
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready', 'Ready', 180_000);
  });

  test.after(async () => {
    await e?.stop();
  });

  test("a Bucket's factor 2 → 3 → 2 converges every existing chunk, and status waits for it", async () => {
    await e.apply({
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'grow', namespace: NS },
      spec: { clusterRef: { name: 'demo' }, replication: { factor: 2 } },
    });
    await waitFor(async () => (await e.get(`${BK}/grow`))?.status?.phase === 'Ready', { what: 'Bucket Ready', timeoutMs: 60_000 });
    const s3 = await s3Client(e, NS, 'demo', 'grow-credentials');
    const ids: string[] = [];
    const bodies: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const body = randomBytes(2 * MiB + 1000 * i); // three chunks of at most 1 MiB each
      bodies.push(body);
      for (let at = 0; at < body.length; at += MiB)
        ids.push(
          createHash('sha256')
            .update(body.subarray(at, at + MiB))
            .digest('hex'),
        );
      await s3.send(new PutObjectCommand({ Bucket: 'grow', Key: `o${i}`, Body: body }));
    }
    await waitFor(
      () => {
        const h = chunkHolders(e, NS, 'demo');
        return ids.every((id) => h.get(id)?.length === 2);
      },
      { what: 'two copies of each chunk', timeoutMs: 60_000 },
    );

    const up = await changeFactor(ids, 3);
    const down = await changeFactor(ids, 2);
    assert.ok(up.sawConverging || down.sawConverging, 'a change is reported as Converging while it runs');
    const events = (await e.get(`/api/v1/namespaces/${NS}/events`)).items.filter((x: any) => x.involvedObject.name === 'grow');
    assert.ok(
      events.some((x: any) => x.reason === 'ReplicationConverged' && x.message.includes('3 copies')),
      'an Event when 3 holds',
    );
    for (const [i, body] of bodies.entries()) {
      const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'grow', Key: `o${i}` }))).Body!.transformToByteArray());
      assert.ok(got.equals(body), `o${i} intact`);
    }
  });
}

test.run();
