// The e2e harness on a server that outlives it (the emulator started on its own stands in for a
// real kube-apiserver): what a run made is gone after stop (namespaces with their pods and Lease,
// the kubelet's Node), and a stale Lease left by a killed run is not waited out on the retry.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startApiServer, type ApiServer } from '../../../hack/kube/apiserver/server.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { loadKubeConfig } from '../../src/kube/config.ts';
import { KubeApiError, KubeRest } from '../../src/kube/rest.ts';
import { OPERATOR_NS, startE2E } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'cairn-e2e-harness-'));
const kubeconfig = join(dir, 'kubeconfig');
const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NS}/leases/cairn-operator`;
let server: ApiServer;
let rest: KubeRest;
const get = (path: string) =>
  rest.request<any>('GET', path).catch((e) => {
    if (e instanceof KubeApiError && e.status === 404) return undefined;
    throw e;
  });

test.before(async () => {
  server = await startApiServer({ host: loopbackAddress() });
  server.writeKubeconfig(kubeconfig);
  rest = new KubeRest(loadKubeConfig(kubeconfig));
});

test.after(async () => {
  await rest?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('stop removes the namespaces, pods, Lease and Node the run made on an external server', async () => {
  const e = await startE2E({ kubeconfig });
  try {
    await e.startOperator('cairn-operator-0');
    await waitFor(async () => (await get(leasePath))?.spec?.holderIdentity?.startsWith('cairn-operator-0_'), { what: 'the operator leads', timeoutMs: 30_000 });
    assert.ok(await get('/api/v1/nodes/node-1'), 'the kubelet registered its Node');
  } finally {
    await e.stop();
  }
  assert.is(await get(`/api/v1/namespaces/${OPERATOR_NS}`), undefined, 'namespace gone');
  assert.is(await get(leasePath), undefined, 'Lease gone');
  assert.equal(
    (await get('/api/v1/pods')).items.map((p: any) => p.metadata.name),
    [],
    'no pods left',
  );
  assert.is(await get('/api/v1/nodes/node-1'), undefined, 'Node gone');
});

test('a stale Lease from a killed run is not reused: the new operator leads at once', async () => {
  // What a killed run leaves: its namespace and a Lease just renewed by a holder that is gone.
  await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NS } } });
  const now = new Date().toISOString().replace('Z', '000Z');
  await rest.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NS}/leases`, {
    body: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'cairn-operator' },
      spec: { holderIdentity: 'cairn-operator-0_dead', leaseDurationSeconds: 3600, renewTime: now, acquireTime: now },
    },
  });
  const e = await startE2E({ kubeconfig });
  try {
    await e.startOperator('cairn-operator-0');
    const lease = await waitFor(
      async () => {
        const l = await get(leasePath);
        return l?.spec?.holderIdentity?.startsWith('cairn-operator-0_') && l.spec.holderIdentity !== 'cairn-operator-0_dead' ? l : undefined;
      },
      { what: 'the new operator leads without waiting out the hour-long stale Lease', timeoutMs: 30_000 },
    );
    assert.is(lease.spec.leaseTransitions ?? 0, 0, 'a fresh Lease, not a takeover of the stale one');
  } finally {
    await e.stop();
  }
});

test.run();
