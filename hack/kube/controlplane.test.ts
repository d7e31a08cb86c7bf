// The local control plane end to end: API server emulator + controllers + process kubelet, driven
// only through @kubernetes/client-node. A StatefulSet of small HTTP servers with PVCs comes up in
// order, survives a crash and a pod deletion with the same data (and, for a crash, the same IP),
// scales up and down keeping claims, Services resolve through the DNS preload, faults work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { loopbackAddress, waitFor } from '../testing/net.ts';
import { startControlPlane, type ControlPlane } from './controlplane.ts';
import { crashPod, restartApiServer, setPodUnready } from './faults.ts';
import { claimDir } from './kubelet/volumes.ts';
import { installClusterDns, uninstallClusterDns } from './kubelet/cluster-dns.ts';
import { fetchId, idServerScript, idServerStatefulSet, isReady, kubeClients, waitForReadyReplicas, randomPodNetwork } from './kubelet/test-workloads.ts';

const ns = 'default';
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-kube-'));
let plane: ControlPlane;
let k: ReturnType<typeof kubeClients>;
const events: string[] = []; // pod ADDED / Ready transitions, in the order the API server saw them
let stopWatch: AbortController | undefined;

const pod = (name: string) => k.core.readNamespacedPod({ namespace: ns, name });
const podIP = async (name: string) => (await pod(name)).status!.podIP!;

test.before(async () => {
  plane = await startControlPlane({
    dataDir,
    host: loopbackAddress(),
    ...randomPodNetwork(),
    kubelet: { maxProbePeriodMs: 300, crashLoopBackoff: { initialMs: 200, maxMs: 1000 } },
  });
  k = kubeClients(plane.kubeconfigPath);
  const ready = new Set<string>();
  stopWatch = await new Watch(k.kc).watch(
    `/api/v1/namespaces/${ns}/pods`,
    {},
    (type, obj: V1Pod) => {
      const name = obj.metadata!.name!;
      if (type === 'ADDED') events.push(`added ${name}`);
      if (type === 'DELETED') events.push(`deleted ${name}`);
      if (isReady(obj) && !ready.has(name)) {
        ready.add(name);
        events.push(`ready ${name}`);
      }
      if (!isReady(obj)) ready.delete(name);
    },
    () => {},
  );
});

test.after(async () => {
  stopWatch?.abort();
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a StatefulSet comes up in ordinal order, each pod Running+Ready on its own IP with its PVC', async () => {
  await k.apps.createNamespacedStatefulSet({ namespace: ns, body: idServerStatefulSet('web', 2) });
  await k.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] } },
  });
  await waitForReadyReplicas(k.core, k.apps, ns, 'web', 2);
  assert.ok(
    events.indexOf('ready web-0') >= 0 && events.indexOf('ready web-0') < events.indexOf('added web-1'),
    `OrderedReady: web-1 created after web-0 was ready (${events.join(', ')})`,
  );
  const p0 = await pod('web-0');
  assert.is(p0.metadata!.labels!['statefulset.kubernetes.io/pod-name'], 'web-0');
  assert.ok(p0.metadata!.ownerReferences!.some((r) => r.kind === 'StatefulSet' && r.controller));
  assert.ok(p0.status!.containerStatuses![0].ready);
  const [ip0, ip1] = [await podIP('web-0'), await podIP('web-1')];
  assert.is.not(ip0, ip1);
  assert.match(await fetchId(ip0), /^web-0 [0-9a-f-]{36}$/);
  const claim = await k.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'data-web-0' });
  assert.is(claim.status?.phase, 'Bound');
  assert.ok(existsSync(join(claimDir(dataDir, ns, 'data-web-0'), 'id')), 'the container wrote into the PVC directory');
  const sts = await k.apps.readNamespacedStatefulSet({ namespace: ns, name: 'web' });
  const reasons = (await k.core.listNamespacedEvent({ namespace: ns })).items.map((e) => `${e.involvedObject.name} ${e.reason}`);
  for (const r of ['web SuccessfulCreate', 'web-0 Scheduled', 'web-0 Started']) assert.ok(reasons.includes(r), `event ${r} in ${reasons.join(', ')}`);
  assert.equal(
    [sts.status?.replicas, sts.status?.readyReplicas, sts.status?.currentReplicas, sts.status?.updatedReplicas, sts.status?.availableReplicas],
    [2, 2, 2, 2, 2],
  );
});

test('a killed process is restarted with the same IP and the same PVC data', async () => {
  const ip = await podIP('web-1');
  const before = await fetchId(ip);
  crashPod(plane, ns, 'web-1');
  await waitFor(
    async () => {
      const p = await pod('web-1');
      return p.status?.containerStatuses?.[0].restartCount === 1 && isReady(p);
    },
    { timeoutMs: 30_000, what: 'web-1 restarted and ready' },
  );
  const p = await pod('web-1');
  assert.is(p.status!.podIP, ip);
  assert.is(p.status!.containerStatuses![0].lastState?.terminated?.exitCode, 137);
  assert.is(await fetchId(ip), before);
});

test('a deleted pod is recreated by the controller and finds its data again', async () => {
  const before = (await fetchId(await podIP('web-0'))).split(' ')[1];
  const uid = (await pod('web-0')).metadata!.uid;
  await k.core.deleteNamespacedPod({ namespace: ns, name: 'web-0' });
  await waitFor(
    async () => {
      const p = await pod('web-0');
      return p.metadata!.uid !== uid && isReady(p);
    },
    { timeoutMs: 30_000, what: 'web-0 recreated' },
  );
  assert.is((await fetchId(await podIP('web-0'))).split(' ')[1], before);
});

test('scale to three and back to two: the highest ordinal goes, its claim stays', async () => {
  await k.apps.patchNamespacedStatefulSetScale(
    { namespace: ns, name: 'web', body: { spec: { replicas: 3 } } },
    (await import('./controllers/client.ts')).mergePatch,
  );
  await waitForReadyReplicas(k.core, k.apps, ns, 'web', 3);
  const id2 = (await fetchId(await podIP('web-2'))).split(' ')[1];
  await k.apps.patchNamespacedStatefulSet(
    { namespace: ns, name: 'web', body: { spec: { replicas: 2 } } },
    (await import('./controllers/client.ts')).mergePatch,
  );
  await waitForReadyReplicas(k.core, k.apps, ns, 'web', 2);
  const claims = (await k.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.map((c) => c.metadata!.name).sort();
  assert.equal(claims, ['data-web-0', 'data-web-1', 'data-web-2']);
  assert.is(readFileSync(join(claimDir(dataDir, ns, 'data-web-2'), 'id'), 'utf8'), id2);
});

test('a template change rolls the pods from the highest ordinal; status converges to the new revision', async () => {
  const from = events.length;
  const old = (await k.apps.readNamespacedStatefulSet({ namespace: ns, name: 'web' })).status!.updateRevision;
  await k.apps.patchNamespacedStatefulSet(
    { namespace: ns, name: 'web', body: { spec: { template: { metadata: { annotations: { rollout: '2' } } } } } },
    (await import('./controllers/client.ts')).mergePatch,
  );
  await waitFor(
    async () => {
      const set = await k.apps.readNamespacedStatefulSet({ namespace: ns, name: 'web' });
      const st = set.status;
      return (
        st?.observedGeneration === set.metadata!.generation &&
        st?.updateRevision !== old &&
        st?.updatedReplicas === 2 &&
        st.readyReplicas === 2 &&
        st.currentRevision === st.updateRevision &&
        st.currentReplicas === 2
      );
    },
    { timeoutMs: 30_000, intervalMs: 200, what: 'rolling update done' },
  );
  const deletions = events.slice(from).filter((e) => e.startsWith('deleted'));
  assert.equal(deletions, ['deleted web-1', 'deleted web-0']);
  const history = (await k.apps.listNamespacedControllerRevision({ namespace: ns })).items
    .filter((r) => r.metadata!.ownerReferences?.some((o) => o.name === 'web'))
    .map((r) => [r.metadata!.name, r.revision]);
  assert.equal(
    history.sort((a, b) => Number(a[1]) - Number(b[1])),
    [
      [old, 1],
      [(await k.apps.readNamespacedStatefulSet({ namespace: ns, name: 'web' })).status!.updateRevision, 2],
    ],
  );
  const revision = (await k.apps.readNamespacedStatefulSet({ namespace: ns, name: 'web' })).status!.updateRevision;
  for (const name of ['web-0', 'web-1']) {
    const p = await pod(name);
    assert.is(p.metadata!.labels!['controller-revision-hash'], revision);
    assert.is(p.metadata!.annotations!.rollout, '2');
  }
});

test('Endpoints follow readiness; a forced-unready pod leaves the ready addresses', async () => {
  const ready = async () =>
    ((await k.core.readNamespacedEndpoints({ namespace: ns, name: 'web' })).subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.hostname)).sort();
  await waitFor(async () => JSON.stringify(await ready()) === '["web-0","web-1"]', { timeoutMs: 30_000, what: 'endpoints of web-0 and web-1' });
  setPodUnready(plane, ns, 'web-1', true);
  await waitFor(async () => JSON.stringify(await ready()) === '["web-0"]', { timeoutMs: 30_000, what: 'web-1 out of the endpoints' });
  assert.is((await k.apps.readNamespacedStatefulSet({ namespace: ns, name: 'web' })).status?.readyReplicas, 1);
  setPodUnready(plane, ns, 'web-1', false);
  await waitFor(async () => JSON.stringify(await ready()) === '["web-0","web-1"]', { timeoutMs: 30_000, what: 'web-1 back in the endpoints' });
  const slices = (await k.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'kubernetes.io/service-name=web' })).items;
  assert.is(slices.length, 1);
  await waitFor(
    async () => {
      const s = (await k.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'kubernetes.io/service-name=web' })).items[0];
      return (
        JSON.stringify(
          (s.endpoints ?? [])
            .filter((e) => e.conditions?.ready)
            .map((e) => e.hostname)
            .sort(),
        ) === '["web-0","web-1"]'
      );
    },
    { timeoutMs: 30_000, what: 'the EndpointSlice with both pods ready' },
  );
});

test('cluster DNS names and Service clusterIPs work inside pods through the preload (fetch by pod and service name)', async () => {
  await k.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'web-api' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
  });
  await waitFor(async () => ((await k.core.readNamespacedEndpoints({ namespace: ns, name: 'web-api' })).subsets?.[0]?.addresses?.length ?? 0) === 2, {
    timeoutMs: 30_000,
    what: 'web-api endpoints',
  });
  const script =
    "Promise.all(['http://web-1.web:8080/','http://web-0.web.default.svc.cluster.local:8080/','http://web-api/'].map(u=>fetch(u).then(r=>r.text()))).then(t=>console.log('GOT '+JSON.stringify(t)))";
  await k.core.createNamespacedPod({
    namespace: ns,
    body: { metadata: { name: 'dns-client' }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'node', command: ['node', '-e', script] }] } },
  });
  await waitFor(async () => (await pod('dns-client')).status?.phase === 'Succeeded', { timeoutMs: 30_000, what: 'dns-client to succeed' });
  // The log comes the way `kubectl logs` gets it: pods/log on the API server, proxied to the kubelet.
  const log = await k.core.readNamespacedPodLog({ namespace: ns, name: 'dns-client' });
  const got = JSON.parse(log.slice(log.indexOf('GOT ') + 4)) as string[];
  assert.match(got[0], /^web-1 /);
  assert.match(got[1], /^web-0 /);
  assert.match(got[2], /^web-[01] /);
  // The same names from any process that loads the preload with this kubelet's hosts file.
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', "require('dns').lookup('web-0.web.default.svc',(e,a)=>console.log(e?e.code:a))"], {
      env: {
        ...process.env,
        NODE_OPTIONS: `--import=${pathToFileURL(join(import.meta.dirname, 'kubelet/dns-preload.ts')).href}`,
        CAIRN_KUBE_HOSTS: plane.kubelet.hostsFile,
        CAIRN_KUBE_NAMESPACE: ns,
      },
    });
    let s = '';
    child.stdout.on('data', (d) => (s += d));
    child.on('error', reject);
    child.on('close', () => resolve(s.trim()));
  });
  assert.is(out, await podIP('web-0'));
  // A process outside the cluster (an operator run locally, this test) can opt in as well.
  installClusterDns({ hostsFile: plane.kubelet.hostsFile, namespace: ns });
  try {
    assert.match(await (await fetch('http://web-1.web:8080/')).text(), /^web-1 /);
    // A ClusterIP name resolves to the clusterIP; the connection goes to an endpoint's target port.
    assert.match(await (await fetch('http://web-api.default.svc.cluster.local/')).text(), /^web-[01] /);
    const clusterIP = (await k.core.readNamespacedService({ namespace: ns, name: 'web-api' })).spec!.clusterIP!;
    assert.match(await (await fetch(`http://${clusterIP}/`)).text(), /^web-[01] /);
  } finally {
    uninstallClusterDns();
  }
});

test('env from Secrets and ConfigMaps, secret volumes, graceful termination with SIGKILL after the grace period', async () => {
  await k.core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'creds' }, data: { token: Buffer.from('s3cr3t').toString('base64'), blob: Buffer.from([0, 255, 128, 10]).toString('base64') } },
  });
  await k.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cfg' }, data: { MODE: 'fast' } } });
  const script =
    "process.on('SIGTERM',()=>console.log('ignoring SIGTERM'));console.log('ENV',process.env.TOKEN,process.env.CFG_MODE,require('fs').readFileSync(process.argv[1]+'/token','utf8'));setInterval(()=>{},1000)";
  await k.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'stubborn' },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 's', secret: { secretName: 'creds' } }],
        containers: [
          {
            name: 'c',
            image: 'node',
            command: ['node', '-e', script, '/etc/creds'],
            envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
            env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }],
            volumeMounts: [{ name: 's', mountPath: '/etc/creds' }],
          },
        ],
      },
    },
  });
  await waitFor(async () => isReady(await pod('stubborn')), { timeoutMs: 30_000, what: 'stubborn ready' });
  const logPath = plane.kubelet.logPath(ns, 'stubborn')!;
  await waitFor(() => readFileSync(logPath, 'utf8').includes('ENV'), { timeoutMs: 30_000, what: 'stubborn log' });
  assert.match(readFileSync(logPath, 'utf8'), /ENV s3cr3t fast s3cr3t/);
  const podUid = (await pod('stubborn')).metadata!.uid!;
  assert.equal([...readFileSync(join(dataDir, 'pods', podUid, 'volumes', 's', 'blob'))], [0, 255, 128, 10], 'binary secret values are written as bytes');
  // A Secret update reaches the volume (atomically swapped files), not the env.
  const volume = join(dataDir, 'pods', (await pod('stubborn')).metadata!.uid!, 'volumes', 's');
  await k.core.replaceNamespacedSecret({
    namespace: ns,
    name: 'creds',
    body: { metadata: { name: 'creds' }, data: { token: Buffer.from('rotated').toString('base64') } },
  });
  await waitFor(() => readFileSync(join(volume, 'token'), 'utf8') === 'rotated', { timeoutMs: 30_000, what: 'the secret volume updated' });
  const started = Date.now();
  await k.core.deleteNamespacedPod({ namespace: ns, name: 'stubborn' });
  await waitFor(
    async () => {
      try {
        await pod('stubborn');
        return false;
      } catch {
        return true;
      }
    },
    { timeoutMs: 30_000, what: 'stubborn gone' },
  );
  assert.ok(Date.now() - started >= 900, 'waited for the grace period');
  assert.match(readFileSync(logPath, 'utf8'), /ignoring SIGTERM/);
});

test('a Deployment comes up through its ReplicaSet and rolls a template change to a new one', async () => {
  const template = (version: string) => ({
    metadata: { labels: { app: 'op' }, annotations: { version } },
    spec: {
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [
        {
          name: 'c',
          image: 'node',
          command: ['node', '-e', idServerScript, '/data'],
          env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
    },
  });
  const done = async (version: string) => {
    const d = await k.apps.readNamespacedDeployment({ namespace: ns, name: 'op' });
    const pods = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=op' })).items.filter((p) => !p.metadata!.deletionTimestamp);
    return (
      d.status?.observedGeneration === d.metadata!.generation &&
      d.status?.updatedReplicas === 2 &&
      d.status?.readyReplicas === 2 &&
      d.status?.replicas === 2 &&
      pods.length === 2 &&
      pods.every((p) => isReady(p) && p.metadata!.annotations?.version === version)
    );
  };
  await k.apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name: 'op' }, spec: { replicas: 2, selector: { matchLabels: { app: 'op' } }, template: template('1') } },
  });
  await waitFor(() => done('1'), { timeoutMs: 30_000, intervalMs: 200, what: 'deployment op ready' });
  await k.apps.patchNamespacedDeployment(
    { namespace: ns, name: 'op', body: { spec: { template: template('2') } } },
    (await import('./controllers/client.ts')).mergePatch,
  );
  await waitFor(() => done('2'), { timeoutMs: 30_000, intervalMs: 200, what: 'deployment op rolled to version 2' });
  const sets = (await k.apps.listNamespacedReplicaSet({ namespace: ns })).items.filter((r) => r.metadata!.name!.startsWith('op-'));
  assert.equal(sets.map((r) => r.spec!.replicas).sort(), [0, 2], 'the old ReplicaSet is scaled to zero and kept');
  await k.apps.deleteNamespacedDeployment({ namespace: ns, name: 'op' });
});

test('controllers and kubelet carry on after an API server restart', async () => {
  await restartApiServer(plane);
  // The first request may go out on a pooled keep-alive connection the old server closed before
  // this client saw it go (an HTTP/1.1 client learns of it on the next write): clients retry, and
  // so does this test's read. What is tested is that the controllers and the kubelet recover.
  const uid = (await waitFor(() => pod('web-1'), { what: 'the API server answering again' })).metadata!.uid;
  await k.core.deleteNamespacedPod({ namespace: ns, name: 'web-1' });
  await waitFor(
    async () => {
      const p = await pod('web-1');
      return p.metadata!.uid !== uid && isReady(p);
    },
    { timeoutMs: 30_000, what: 'web-1 recreated after the API server restart' },
  );
  await waitForReadyReplicas(k.core, k.apps, ns, 'web', 2);
});

test('a StatefulSet deleted with propagationPolicy Orphan leaves its pods; a new one adopts them', async () => {
  const uids = new Map((await k.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.map((p) => [p.metadata!.name!, p.metadata!.uid!]));
  assert.is(uids.size, 2);
  await k.apps.deleteNamespacedStatefulSet({ namespace: ns, name: 'web', propagationPolicy: 'Orphan' });
  await waitFor(
    async () => {
      const items = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
      return items.length === 2 && items.every((p) => !(p.metadata!.ownerReferences ?? []).some((r) => r.kind === 'StatefulSet'));
    },
    { timeoutMs: 30_000, what: 'pods orphaned' },
  );
  // The same template as the pods run (with the rollout annotation): nothing to roll.
  const again = idServerStatefulSet('web', 2);
  (again.spec.template.metadata as Record<string, unknown>).annotations = { rollout: '2' };
  await k.apps.createNamespacedStatefulSet({ namespace: ns, body: again });
  const sts = await k.apps.readNamespacedStatefulSet({ namespace: ns, name: 'web' });
  await waitFor(
    async () => {
      const items = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
      return items.length === 2 && items.every((p) => p.metadata!.ownerReferences?.some((r) => r.uid === sts.metadata!.uid && r.controller));
    },
    { timeoutMs: 30_000, what: 'pods adopted' },
  );
  for (const [name, uid] of uids) assert.is((await pod(name)).metadata!.uid, uid, `${name} kept, not recreated`);
  await waitForReadyReplicas(k.core, k.apps, ns, 'web', 2);
});

test('deleting the StatefulSet garbage-collects its pods and the kubelet stops their processes', async () => {
  const ip = await podIP('web-0');
  await k.apps.deleteNamespacedStatefulSet({ namespace: ns, name: 'web' });
  await waitFor(async () => (await k.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.length === 0, {
    timeoutMs: 30_000,
    what: 'web pods gone',
  });
  assert.is(
    await fetchId(ip).then(
      () => 'answered',
      () => 'refused',
    ),
    'refused',
  );
  assert.is((await k.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.length, 3, 'claims are retained by default');
});

test.run();
