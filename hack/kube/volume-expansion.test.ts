// PVC expansion on the local control plane, as Kubernetes does it: the API server admits a larger
// request only for a bound claim whose StorageClass allows expansion (403 otherwise) and never a
// smaller one (422); the resizer grows the volume and leaves FileSystemResizePending; the kubelet of
// a node running a pod that mounts the claim finishes it (status.capacity, conditions cleared, an
// Event), and a claim no pod mounts stays pending until one does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageV1Api, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { loopbackAddress, waitFor } from '../testing/net.ts';
import { mergePatch } from './controllers/client.ts';
import { startControlPlane, type ControlPlane } from './controlplane.ts';
import { idServerStatefulSet, kubeClients, randomPodNetwork, waitForReadyReplicas } from './kubelet/test-workloads.ts';

const ns = 'default';
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-kube-resize-'));
let plane: ControlPlane;
let k: ReturnType<typeof kubeClients>;

const claim = (name: string) => k.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name });
const grow = (name: string, storage: string) =>
  k.core.patchNamespacedPersistentVolumeClaim({ namespace: ns, name, body: { spec: { resources: { requests: { storage } } } } }, mergePatch);
const refusal = async (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e) => ({ code: e.code as number, body: JSON.parse(e.body) as { message: string; reason: string } }),
  );
const pending = (c: V1PersistentVolumeClaim) => (c.status?.conditions ?? []).some((x) => x.type === 'FileSystemResizePending' && x.status === 'True');

test.before(async () => {
  plane = await startControlPlane({ dataDir, host: loopbackAddress(), ...randomPodNetwork(), kubelet: { maxProbePeriodMs: 300 } });
  k = kubeClients(plane.kubeconfigPath);
  const sc = (name: string, allowVolumeExpansion: boolean) => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name },
    provisioner: 'cairn.dev/process-kubelet',
    allowVolumeExpansion,
  });
  const storage = k.kc.makeApiClient(StorageV1Api);
  await storage.createStorageClass({ body: sc('grows', true) });
  await storage.createStorageClass({ body: sc('fixed', false) });
});

test.after(async () => {
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a mounted claim of an expandable class grows: Resizing → FileSystemResizePending → capacity, online', async () => {
  const tmpl = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'grows', resources: { requests: { storage: '1Gi' } } } };
  await k.apps.createNamespacedStatefulSet({ namespace: ns, body: idServerStatefulSet('grow', 1, { volumeClaimTemplates: [tmpl] }) });
  await waitForReadyReplicas(k.core, k.apps, ns, 'grow', 1);
  const podUid = (await k.core.readNamespacedPod({ namespace: ns, name: 'grow-0' })).metadata!.uid;
  await grow('data-grow-0', '3Gi');
  // Capacity and the end of FileSystemResizePending may land in two status writes: wait for both.
  const done = await waitFor(
    async () => {
      const c = await claim('data-grow-0');
      return c.status?.capacity?.storage === '3Gi' && !pending(c) ? c : undefined;
    },
    { what: 'capacity 3Gi, file system part finished', timeoutMs: 15_000 },
  );
  assert.is(done.status!.allocatedResources?.storage, '3Gi');
  assert.is((await k.core.readNamespacedPod({ namespace: ns, name: 'grow-0' })).metadata!.uid, podUid, 'online: the pod kept running');
  const events = await waitFor(
    async () => {
      const all = (await k.core.listNamespacedEvent({ namespace: ns })).items;
      return all.some((e) => e.reason === 'FileSystemResizeSuccessful' && e.involvedObject.name === 'grow-0') ? all : undefined;
    },
    { what: 'FileSystemResizeSuccessful event' },
  );
  assert.ok(events.some((e) => e.reason === 'Resizing' && e.involvedObject.name === 'data-grow-0'));
  // Smaller than what it has: refused by validation.
  const shrink = await refusal(grow('data-grow-0', '2Gi'));
  assert.is(shrink.code, 422);
  assert.match(shrink.body.message, 'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity');
});

test('a claim no pod mounts stays FileSystemResizePending until a pod mounts it', async () => {
  await k.apps.patchNamespacedStatefulSet({ namespace: ns, name: 'grow', body: { spec: { replicas: 0 } } }, mergePatch);
  await waitFor(async () => (await k.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=grow' })).items.length === 0, {
    what: 'grow-0 gone',
    timeoutMs: 20_000,
  });
  await grow('data-grow-0', '4Gi');
  const c = await waitFor(
    async () => {
      const x = await claim('data-grow-0');
      return pending(x) ? x : undefined;
    },
    { what: 'FileSystemResizePending', timeoutMs: 10_000 },
  );
  assert.is(c.status!.capacity!.storage, '3Gi', 'capacity only moves once a node grew the file system');
  assert.match(c.status!.conditions!.find((x) => x.type === 'FileSystemResizePending')!.message!, 'Waiting for user to (re-)start a pod');
  await k.apps.patchNamespacedStatefulSet({ namespace: ns, name: 'grow', body: { spec: { replicas: 1 } } }, mergePatch);
  await waitFor(async () => (await claim('data-grow-0')).status?.capacity?.storage === '4Gi', { what: 'finished when mounted', timeoutMs: 20_000 });
});

test('admission: a claim whose class does not allow expansion, or that has no class, cannot grow (403)', async () => {
  const make = (name: string, storageClassName?: string) =>
    k.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: {
        metadata: { name },
        spec: { accessModes: ['ReadWriteOnce'], ...(storageClassName ? { storageClassName } : {}), resources: { requests: { storage: '1Gi' } } },
      },
    });
  await make('fixed-claim', 'fixed');
  await make('plain-claim');
  for (const name of ['fixed-claim', 'plain-claim']) {
    await waitFor(async () => (await claim(name)).status?.phase === 'Bound', { what: `${name} bound` });
    const r = await refusal(grow(name, '2Gi'));
    assert.is(r.code, 403);
    assert.is(r.body.reason, 'Forbidden');
    assert.is(
      r.body.message,
      `persistentvolumeclaims "${name}" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize`,
    );
  }
  // The same size again (an apply that changes nothing) is no resize and passes.
  await grow('fixed-claim', '1Gi');
});

test.run();
