// A StatefulSet of two real `cairn server` processes (roles root,node) on the local control plane:
// args use $(POD_IP) from the downward API and the PVC mount path /data, roots find each other by
// their stable DNS names through a headless Service; they come up Ready (cluster port /readyz),
// survive a SIGKILL with the same IP and data, and scale to three and back to two keeping the claim.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackAddress, waitFor } from '../testing/net.ts';
import { startControlPlane, type ControlPlane } from './controlplane.ts';
import { mergePatch } from './controllers/client.ts';
import { crashPod } from './faults.ts';
import { claimDir } from './kubelet/volumes.ts';
import { isReady, kubeClients, randomPodNetwork } from './kubelet/test-workloads.ts';

const ns = 'default';
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-kube-cairn-'));
let plane: ControlPlane;
let k: ReturnType<typeof kubeClients>;

const roots = [0, 1].map((i) => `http://cairn-${i}.cairn.${ns}.svc.cluster.local:9100`).join(',');
const statefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'cairn' },
  spec: {
    replicas: 2,
    serviceName: 'cairn',
    selector: { matchLabels: { app: 'cairn' } },
    podManagementPolicy: 'OrderedReady',
    template: {
      metadata: { labels: { app: 'cairn' } },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'cairn',
            image: 'ghcr.io/cairn/cairn:dev',
            command: ['cairn'],
            args: [
              'server',
              '--role',
              'root,node',
              '--name',
              '$(POD_NAME)',
              '--api',
              '$(POD_IP):9000',
              '--cluster',
              '$(POD_IP):9100',
              '--data',
              '/data',
              '--roots',
              roots,
            ],
            env: [
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'CAIRN_CLUSTER_SECRET', valueFrom: { secretKeyRef: { name: 'cairn-secret', key: 'secret' } } },
            ],
            ports: [
              { name: 's3', containerPort: 9000 },
              { name: 'cluster', containerPort: 9100 },
            ],
            readinessProbe: { httpGet: { path: '/readyz', port: 'cluster' }, periodSeconds: 1 },
            livenessProbe: { httpGet: { path: '/healthz', port: 'cluster' }, periodSeconds: 2, failureThreshold: 10 },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
      },
    },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  },
};

async function readyPods(n: number) {
  await waitFor(
    async () => {
      const s = await k.apps.readNamespacedStatefulSet({ namespace: ns, name: 'cairn' });
      const pods = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=cairn' })).items;
      return s.status?.readyReplicas === n && pods.length === n && pods.every(isReady);
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `${n} ready cairn pods` },
  );
}

test.before(async () => {
  plane = await startControlPlane({
    dataDir,
    host: loopbackAddress(),
    ...randomPodNetwork(),
    kubelet: { maxProbePeriodMs: 500, crashLoopBackoff: { initialMs: 500, maxMs: 2000 } },
  });
  k = kubeClients(plane.kubeconfigPath);
});

test.after(async () => {
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('two cairn root,node pods come up Ready and find each other by DNS name', async () => {
  await k.core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'cairn-secret' }, data: { secret: Buffer.from('cluster-secret-1').toString('base64') } },
  });
  await k.core.createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name: 'cairn' },
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'cairn' }, ports: [{ name: 'cluster', port: 9100 }] },
    },
  });
  await k.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSet });
  await readyPods(2);
  const ip = (await k.core.readNamespacedPod({ namespace: ns, name: 'cairn-1' })).status!.podIP!;
  const res = await fetch(`http://${ip}:9100/readyz`);
  assert.is(res.status, 200);
  assert.ok(readdirSync(claimDir(dataDir, ns, 'data-cairn-1')).length > 0, 'cairn keeps its data in the PVC directory');
  // Both members are in the cluster map: the roots reached each other by their DNS names.
  const ip0 = (await k.core.readNamespacedPod({ namespace: ns, name: 'cairn-0' })).status!.podIP!;
  await waitFor(
    async () => {
      const r = await fetch(`http://${ip0}:9100/admin/v1/status`, { headers: { authorization: 'Bearer cluster-secret-1' } });
      const names = ((await r.json()) as { members: { name: string }[] }).members.map((m) => m.name).sort();
      return JSON.stringify(names) === '["cairn-0","cairn-1"]';
    },
    { timeoutMs: 30_000, what: 'both members in the cluster map of cairn-0' },
  );
});

test('a SIGKILLed cairn process restarts on the same IP with the same data directory', async () => {
  const before = await k.core.readNamespacedPod({ namespace: ns, name: 'cairn-0' });
  const files = readdirSync(claimDir(dataDir, ns, 'data-cairn-0')).sort();
  crashPod(plane, ns, 'cairn-0');
  await waitFor(
    async () => {
      const p = await k.core.readNamespacedPod({ namespace: ns, name: 'cairn-0' });
      return p.status?.containerStatuses?.[0].restartCount === 1 && isReady(p);
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'cairn-0 restarted and ready' },
  );
  const after = await k.core.readNamespacedPod({ namespace: ns, name: 'cairn-0' });
  assert.is(after.status!.podIP, before.status!.podIP);
  assert.equal(readdirSync(claimDir(dataDir, ns, 'data-cairn-0')).sort(), files);
});

test('scale to three and back to two; the claim of ordinal 2 is kept', async () => {
  await k.apps.patchNamespacedStatefulSetScale({ namespace: ns, name: 'cairn', body: { spec: { replicas: 3 } } }, mergePatch);
  await readyPods(3);
  await k.apps.patchNamespacedStatefulSetScale({ namespace: ns, name: 'cairn', body: { spec: { replicas: 2 } } }, mergePatch);
  await readyPods(2);
  const claims = (await k.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.map((c) => c.metadata!.name).sort();
  assert.equal(claims, ['data-cairn-0', 'data-cairn-1', 'data-cairn-2']);
  assert.ok(readdirSync(claimDir(dataDir, ns, 'data-cairn-2')).length > 0);
});

test.run();
