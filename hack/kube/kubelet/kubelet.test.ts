// Kubelet behaviours on single pods: restart policies and phases, crash-loop backoff, liveness
// restarts, init containers and emptyDir, and a missing Secret (CreateContainerConfigError) that
// appears later. (The list-watch cache's relist after 410 Gone: operator/src/kube/watcher.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { loopbackAddress, waitFor } from '../../testing/net.ts';
import { startControlPlane, type ControlPlane } from '../controlplane.ts';
import { isReady, kubeClients, randomPodNetwork } from './test-workloads.ts';

const ns = 'default';
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-kubelet-'));
let plane: ControlPlane;
let k: ReturnType<typeof kubeClients>;

const node = (script: string, extra: Record<string, unknown> = {}) => ({ name: 'c', image: 'node', command: ['node', '-e', script], ...extra });
async function run(name: string, spec: Record<string, unknown>) {
  await k.core.createNamespacedPod({ namespace: ns, body: { metadata: { name }, spec: spec as { containers: [] } } });
}
const get = (name: string): Promise<V1Pod> => k.core.readNamespacedPod({ namespace: ns, name });

test.before(async () => {
  plane = await startControlPlane({
    dataDir,
    host: loopbackAddress(),
    ...randomPodNetwork(),
    kubelet: { maxProbePeriodMs: 200, crashLoopBackoff: { initialMs: 1500, maxMs: 3000 } },
  });
  k = kubeClients(plane.kubeconfigPath);
});

test.after(async () => {
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('restartPolicy Never: exit 0 → Succeeded, exit 3 → Failed with the exit code', async () => {
  await run('ok', { restartPolicy: 'Never', containers: [node('process.exit(0)')] });
  await run('bad', { restartPolicy: 'Never', containers: [node('process.exit(3)')] });
  await waitFor(async () => (await get('ok')).status?.phase === 'Succeeded', { timeoutMs: 30_000, what: 'ok Succeeded' });
  await waitFor(async () => (await get('bad')).status?.phase === 'Failed', { timeoutMs: 30_000, what: 'bad Failed' });
  const s = (await get('bad')).status!.containerStatuses![0];
  assert.is(s.state?.terminated?.exitCode, 3);
  assert.is(s.state?.terminated?.reason, 'Error');
  assert.is(s.restartCount, 0);
});

test('a crashing container is restarted at once, then backs off (CrashLoopBackOff)', async () => {
  await run('crasher', { containers: [node('process.exit(1)')] });
  await waitFor(async () => (await get('crasher')).status?.containerStatuses?.[0].state?.waiting?.reason === 'CrashLoopBackOff', {
    timeoutMs: 30_000,
    what: 'CrashLoopBackOff',
  });
  const s = (await get('crasher')).status!;
  assert.is(s.phase, 'Running');
  assert.ok(s.containerStatuses![0].restartCount! >= 1);
  assert.is(s.containerStatuses![0].lastState?.terminated?.exitCode, 1);
  await k.core.deleteNamespacedPod({ namespace: ns, name: 'crasher' });
});

test('OnFailure: a failed run is retried until it succeeds', async () => {
  // Fails on the first run, succeeds on the second: the emptyDir survives container restarts.
  const script = "const f=process.argv[1]+'/ran';const fs=require('fs');if(fs.existsSync(f))process.exit(0);fs.writeFileSync(f,'1');process.exit(2)";
  await run('retry', {
    restartPolicy: 'OnFailure',
    volumes: [{ name: 'scratch', emptyDir: {} }],
    containers: [{ ...node(script), command: ['node', '-e', script, '/scratch'], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
  });
  await waitFor(async () => (await get('retry')).status?.phase === 'Succeeded', { timeoutMs: 30_000, what: 'retry Succeeded' });
  assert.is((await get('retry')).status!.containerStatuses![0].restartCount, 1);
});

test('a failing liveness probe restarts the container', async () => {
  await run('unlive', {
    terminationGracePeriodSeconds: 1,
    containers: [node('setInterval(()=>{},1000)', { livenessProbe: { tcpSocket: { port: 9 }, periodSeconds: 1, failureThreshold: 2 } })],
  });
  await waitFor(async () => ((await get('unlive')).status?.containerStatuses?.[0].restartCount ?? 0) >= 1, { timeoutMs: 30_000, what: 'liveness restart' });
  await k.core.deleteNamespacedPod({ namespace: ns, name: 'unlive' });
});

test('init containers run to completion first and share volumes with the containers', async () => {
  await run('init', {
    volumes: [{ name: 'work', emptyDir: {} }],
    initContainers: [
      {
        name: 'prep',
        image: 'node',
        command: ['node', '-e', "require('fs').writeFileSync(process.argv[1]+'/x','from-init')", '/work'],
        volumeMounts: [{ name: 'work', mountPath: '/work' }],
      },
    ],
    containers: [
      {
        name: 'c',
        image: 'node',
        command: ['node', '-e', "console.log('READ', require('fs').readFileSync(process.argv[1]+'/x','utf8'));setInterval(()=>{},1000)", '/work'],
        volumeMounts: [{ name: 'work', mountPath: '/work' }],
      },
    ],
  });
  await waitFor(async () => isReady(await get('init')), { timeoutMs: 30_000, what: 'init pod ready' });
  const s = (await get('init')).status!;
  assert.is(s.initContainerStatuses![0].state?.terminated?.exitCode, 0);
  await waitFor(() => readFileSync(plane.kubelet.logPath(ns, 'init')!, 'utf8').includes('READ from-init'), {
    timeoutMs: 30_000,
    what: 'container read the init output',
  });
});

test('a missing Secret holds the pod in CreateContainerConfigError until it exists', async () => {
  await run('needs-secret', {
    containers: [node('setInterval(()=>{},1000)', { env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'later', key: 't' } } }] })],
  });
  await waitFor(async () => (await get('needs-secret')).status?.containerStatuses?.[0].state?.waiting?.reason === 'CreateContainerConfigError', {
    timeoutMs: 30_000,
    what: 'CreateContainerConfigError',
  });
  assert.is((await get('needs-secret')).status!.phase, 'Pending');
  await k.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'later' }, data: { t: Buffer.from('x').toString('base64') } } });
  await waitFor(async () => isReady(await get('needs-secret')), { timeoutMs: 30_000, what: 'pod starts once the secret exists' });
});

test('a container that cannot be started (no log file) is reported and retried; the kubelet survives', async () => {
  // What EMFILE did to the kubelet: opening the container's log file fails. A file where the logs
  // directory should be makes every open fail the same way, until it is removed.
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  renameSync(logs, `${logs}.away`);
  writeFileSync(logs, 'not a directory');
  try {
    await run('no-logs', { containers: [node('setInterval(()=>{},1000)')] });
    const waiting = await waitFor(
      async () => {
        const w = (await get('no-logs')).status?.containerStatuses?.[0].state?.waiting;
        return w?.reason === 'RunContainerError' && w;
      },
      { timeoutMs: 30_000, what: 'RunContainerError' },
    );
    assert.match((waiting as { message?: string }).message ?? '', 'failed to start container "c"');
    const events = await k.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=no-logs' });
    assert.ok(
      events.items.some((e) => e.reason === 'Failed' && e.type === 'Warning'),
      'a Warning event says why',
    );
  } finally {
    rmSync(logs);
    renameSync(`${logs}.away`, logs);
  }
  await waitFor(async () => isReady(await get('no-logs')), { timeoutMs: 30_000, what: 'the pod starts once its log file can be opened' });
  await k.core.deleteNamespacedPod({ namespace: ns, name: 'no-logs' });
});

test('two pods may listen on the same port on all interfaces: each gets its pod IP', async () => {
  const server = "require('http').createServer((q,r)=>r.end(process.env.HOSTNAME)).listen(8181)";
  for (const name of ['any-a', 'any-b']) await run(name, { containers: [node(server, { readinessProbe: { tcpSocket: { port: 8181 }, periodSeconds: 1 } })] });
  await waitFor(async () => isReady(await get('any-a')) && isReady(await get('any-b')), { timeoutMs: 30_000, what: 'both ready' });
  for (const name of ['any-a', 'any-b']) {
    const ip = (await get(name)).status!.podIP!;
    assert.is(await (await fetch(`http://${ip}:8181/`)).text(), name);
  }
});

test.run();
