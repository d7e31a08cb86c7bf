// Cluster DNS on a server that refuses loopback pod IPs in Endpoints and EndpointSlices, as a real
// kube-apiserver does: the process kubelet derives every Service's endpoints from the pods itself,
// so pods still find each other by pod and Service name (`npm run e2e` against a real server).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackAddress, waitFor } from '../../testing/net.ts';
import { startControlPlane, type ControlPlane } from '../controlplane.ts';
import { idServerStatefulSet, kubeClients, randomPodNetwork, waitForReadyReplicas } from './test-workloads.ts';
import { httpStatus } from '../controllers/client.ts';

const ns = 'default';
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-svc-dns-'));
let plane: ControlPlane;
let k: ReturnType<typeof kubeClients>;

test.before(async () => {
  plane = await startControlPlane({
    dataDir,
    host: loopbackAddress(),
    persist: false,
    refuseLoopbackEndpoints: true,
    ...randomPodNetwork(),
    kubelet: { maxProbePeriodMs: 300 },
  });
  k = kubeClients(plane.kubeconfigPath);
});

test.after(async () => {
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the server refuses loopback endpoints with the real message', async () => {
  const err = await k.core
    .createNamespacedEndpoints({
      namespace: ns,
      body: { metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '127.41.100.5' }], ports: [{ port: 80 }] }] },
    })
    .then(
      () => undefined,
      (e) => e,
    );
  assert.is(httpStatus(err), 422);
  assert.match(String(err.body ?? err.message), 'may not be in the loopback range (127.0.0.0/8, ::1/128)');
});

test('pods resolve pod names, headless and ClusterIP Services with no Endpoints stored', async () => {
  await k.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] } },
  });
  await k.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'web-api' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
  });
  await k.apps.createNamespacedStatefulSet({ namespace: ns, body: idServerStatefulSet('web', 2) as never });
  await waitForReadyReplicas(k.core, k.apps, ns, 'web', 2, 60_000);
  // What a real server leaves: no Endpoints hold the pods (the endpoints controller's writes are refused).
  const eps = await k.core.readNamespacedEndpoints({ namespace: ns, name: 'web' }).catch(() => undefined);
  assert.not.ok(
    eps?.subsets?.some((s) => s.addresses?.length),
    'no addresses stored in Endpoints',
  );
  const script =
    "Promise.all(['http://web-1.web:8080/','http://web-0.web.default.svc.cluster.local:8080/','http://web:8080/','http://web-api/'].map(u=>fetch(u).then(r=>r.text()))).then(t=>console.log('GOT '+JSON.stringify(t)))";
  await k.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'dns-client' },
      spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'node', command: ['node', '-e', script] }] },
    },
  });
  await waitFor(async () => (await k.core.readNamespacedPod({ namespace: ns, name: 'dns-client' })).status?.phase === 'Succeeded', {
    timeoutMs: 30_000,
    what: 'dns-client to succeed',
  });
  const log = await k.core.readNamespacedPodLog({ namespace: ns, name: 'dns-client' });
  const got = JSON.parse(log.slice(log.indexOf('GOT ') + 4)) as string[];
  assert.match(got[0], /^web-1 /);
  assert.match(got[1], /^web-0 /);
  assert.match(got[2], /^web-[01] /);
  assert.match(got[3], /^web-[01] /);
});

test.run();
