// Day 2, end to end on three process kubelets labelled as three zones (full profile, `npm run e2e`):
// a node pod's zone is its Kubernetes node's topology label, so the copies of every chunk land in
// distinct real zones and status.zones shows them; a node's capacity is its PVC's, not the host
// disk's; a larger spec.nodes.storage.size grows every PVC online, and capacity follows without a
// pod restart.
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../hack/testing/net.ts';
import { PATCH_MERGE } from '../../src/kube/rest.ts';
import { adminClient, chunkHolders, podIdentities, pods, s3Client } from './cluster.ts';
import { startE2E, waitForCluster, type E2E } from './harness.ts';

const full = process.env.CAIRN_E2E === 'full' || process.env.npm_lifecycle_event === 'e2e';
const NS = 'topology';
const SC = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/storageclusters`;
const MiB = 2 ** 20;
const zoneOfNode: Record<string, string> = { 'node-1': 'zone-a', 'node-2': 'zone-b', 'node-3': 'zone-c' };
let e: E2E;

if (full) {
  test.before(async () => {
    e = await startE2E({ nodes: 3 });
    for (const [node, zone] of Object.entries(zoneOfNode)) {
      await e.rest.request('PATCH', `/api/v1/nodes/${node}`, {
        contentType: PATCH_MERGE,
        body: { metadata: { labels: { 'topology.kubernetes.io/zone': zone } } },
      });
    }
    await e.apply({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'cairn-e2e-grows' },
      provisioner: 'cairn.dev/process-kubelet',
      allowVolumeExpansion: true,
    });
    await e.startOperator('cairn-operator-0');
    await e.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await e.apply({
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'demo', namespace: NS },
      spec: { roots: { replicas: 1 }, nodes: { replicas: 3, storage: { size: '512Mi', storageClassName: 'cairn-e2e-grows' } }, replication: { factor: 2 } },
    });
  });

  test.after(async () => {
    await e?.rest.request('DELETE', '/apis/storage.k8s.io/v1/storageclasses/cairn-e2e-grows').catch(() => {});
    await e?.stop();
  });

  test("zones: each node member is in its Kubernetes node's zone, and every chunk's copies are in distinct zones", async () => {
    const sc = await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready' && s.status.zones?.length === 3, 'Ready in 3 zones', 180_000);
    const nodePods = await pods(e, NS, 'storage.cairn.dev/cluster=demo,storage.cairn.dev/role=node');
    const zoneOfPod: Record<string, string> = Object.fromEntries(nodePods.map((p) => [p.metadata.name as string, zoneOfNode[p.spec.nodeName]!]));
    assert.equal(new Set(Object.values(zoneOfPod)).size, 3, 'the pods spread over the three zones');
    const members = (await (await adminClient(e, NS, 'demo')).status()).members.filter((m) => m.name.startsWith('demo-nodes-'));
    for (const m of members) assert.is(m.zone, zoneOfPod[m.name], `${m.name} runs on a node of ${zoneOfPod[m.name]}`);
    assert.equal(
      sc.status.zones,
      Object.entries(zoneOfPod)
        .map(([pod, zone]) => ({ name: zone, members: [pod] }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );

    const s3 = await s3Client(e, NS, 'demo', 'demo-admin');
    await s3.send(new CreateBucketCommand({ Bucket: 'spread' }));
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const body = randomBytes(256 * 1024);
      ids.push(createHash('sha256').update(body).digest('hex'));
      await s3.send(new PutObjectCommand({ Bucket: 'spread', Key: `o${i}`, Body: body }));
    }
    const holders = await waitFor(
      () => {
        const h = chunkHolders(e, NS, 'demo');
        return ids.every((id) => h.get(id)?.length === 2) ? h : undefined;
      },
      { what: 'two copies of every chunk', timeoutMs: 60_000 },
    );
    for (const id of ids) {
      const zones = holders.get(id)!.map((pod) => zoneOfPod[pod]);
      assert.is(new Set(zones).size, 2, `chunk ${id.slice(0, 12)} on ${holders.get(id)!.join(', ')} (${zones.join(', ')})`);
    }
  });

  test("capacity is the PVCs' (512Mi each), not the host disk's", async () => {
    const sc = await waitForCluster(e, NS, 'demo', (s) => s.status?.capacity?.totalBytes === 3 * 512 * MiB, 'capacity of three 512Mi volumes', 60_000);
    assert.match(sc.status.capacity.summary, '/1.5Gi (');
  });

  test('a larger storage size grows every PVC online; capacity follows without a pod restart', async () => {
    const before = await podIdentities(e, NS, 'storage.cairn.dev/cluster=demo,storage.cairn.dev/role=node');
    await e.rest.request('PATCH', `${SC}/demo`, { contentType: PATCH_MERGE, body: { spec: { nodes: { storage: { size: '768Mi' } } } } });
    const sc = await waitForCluster(
      e,
      NS,
      'demo',
      (s) =>
        s.status?.capacity?.totalBytes === 3 * 768 * MiB &&
        s.status.conditions?.some((c: any) => c.type === 'VolumesResized' && c.status === 'True' && c.observedGeneration === s.metadata.generation),
      'capacity of three 768Mi volumes',
      120_000,
    );
    assert.is(sc.status.phase, 'Ready');
    for (let i = 0; i < 3; i++) {
      const pvc = await e.get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/data-demo-nodes-${i}`);
      assert.is(pvc.status.capacity.storage, '768Mi');
    }
    assert.equal(await podIdentities(e, NS, 'storage.cairn.dev/cluster=demo,storage.cairn.dev/role=node'), before, 'same pods, no restarts');
    const events = (await e.get(`/api/v1/namespaces/${NS}/events`)).items;
    assert.ok(
      events.some((x: any) => x.involvedObject.name === 'demo' && x.reason === 'ResizingVolume'),
      'the operator says what it grows',
    );
    assert.ok(
      events.some((x: any) => x.reason === 'FileSystemResizeSuccessful'),
      'the kubelet grew the file systems online',
    );
  });
}

test.run();
