// Two process "nodes": pods spread over them; a node going down kills its pods' processes and takes
// them out of the Service endpoints; the node coming back restarts them on the same IPs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackAddress, waitFor } from '../testing/net.ts';
import { startControlPlane, type ControlPlane } from './controlplane.ts';
import { nodeDown, nodeUp } from './faults.ts';
import { fetchId, idServerStatefulSet, isReady, kubeClients, waitForReadyReplicas, randomPodNetwork } from './kubelet/test-workloads.ts';

const ns = 'default';
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-kube-faults-'));
let plane: ControlPlane;
let k: ReturnType<typeof kubeClients>;

test.before(async () => {
  plane = await startControlPlane({
    dataDir,
    host: loopbackAddress(),
    nodes: 2,
    ...randomPodNetwork(),
    kubelet: { maxProbePeriodMs: 300, crashLoopBackoff: { initialMs: 200, maxMs: 1000 }, heartbeatMs: 500 },
    nodeMonitorGracePeriodMs: 3000,
  });
  k = kubeClients(plane.kubeconfigPath);
});

test.after(async () => {
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('pods spread over the Ready nodes', async () => {
  const nodes = (await k.core.listNode()).items.map((n) => n.metadata!.name).sort();
  assert.equal(nodes, ['node-1', 'node-2']);
  await k.apps.createNamespacedStatefulSet({ namespace: ns, body: idServerStatefulSet('spread', 2, { podManagementPolicy: 'Parallel' }) });
  await k.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'spread' }, spec: { clusterIP: 'None', selector: { app: 'spread' }, ports: [{ port: 8080 }] } },
  });
  await waitForReadyReplicas(k.core, k.apps, ns, 'spread', 2);
  const placed = (await k.core.listNamespacedPod({ namespace: ns })).items.map((p) => p.spec!.nodeName).sort();
  assert.equal(placed, ['node-1', 'node-2']);
});

test('node down: its pod processes die, the Node and its pods turn unready, endpoints drop them; node up restarts them', async () => {
  const pods = (await k.core.listNamespacedPod({ namespace: ns })).items;
  const victim = pods.find((p) => p.spec!.nodeName === 'node-2')!;
  const ip = victim.status!.podIP!;
  const id = await fetchId(ip);
  await nodeDown(plane, 'node-2');
  assert.is(
    await fetchId(ip).then(
      () => 'answered',
      () => 'refused',
    ),
    'refused',
    'the process is gone',
  );
  const node = await k.core.readNode({ name: 'node-2' });
  assert.is(node.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'Unknown');
  assert.not.ok(isReady(await k.core.readNamespacedPod({ namespace: ns, name: victim.metadata!.name! })));
  await waitFor(
    async () => {
      const ep = await k.core.readNamespacedEndpoints({ namespace: ns, name: 'spread' });
      return (ep.subsets ?? []).flatMap((s) => s.addresses ?? []).every((a) => a.ip !== ip);
    },
    { timeoutMs: 30_000, what: 'the pod on node-2 out of the ready endpoints' },
  );

  await nodeUp(plane, 'node-2');
  await waitFor(async () => isReady(await k.core.readNamespacedPod({ namespace: ns, name: victim.metadata!.name! })), {
    timeoutMs: 30_000,
    what: 'pod ready again',
  });
  const back = await k.core.readNamespacedPod({ namespace: ns, name: victim.metadata!.name! });
  assert.is(back.status!.podIP, ip);
  assert.is(back.status!.containerStatuses![0].restartCount, 1);
  assert.is(await fetchId(ip), id);
  assert.is((await k.core.readNode({ name: 'node-2' })).status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
});

test('a kubelet that just stops is noticed by the node lifecycle controller after the grace period', async () => {
  const victim = (await k.core.listNamespacedPod({ namespace: ns })).items.find((p) => p.spec!.nodeName === 'node-1')!;
  await plane.kubelets[0].stop({ graceSeconds: 0 });
  await waitFor(async () => (await k.core.readNode({ name: 'node-1' })).status!.conditions!.find((c) => c.type === 'Ready')!.status === 'Unknown', {
    timeoutMs: 30_000,
    what: 'node-1 Unknown',
  });
  await waitFor(async () => !isReady(await k.core.readNamespacedPod({ namespace: ns, name: victim.metadata!.name! })), {
    timeoutMs: 30_000,
    what: 'its pod unready',
  });
  await nodeUp(plane, 'node-1');
  await waitFor(async () => isReady(await k.core.readNamespacedPod({ namespace: ns, name: victim.metadata!.name! })), {
    timeoutMs: 30_000,
    what: 'pod ready again',
  });
});

test.run();
