// Emulator-only: the store survives close() + startApiServer on the same data file — objects,
// CRD registrations and the resourceVersion counter — while the watch window starts fresh, so a
// watch from before the restart gets 410 Gone and the client relists.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { loopbackAddress, waitFor } from '../../testing/net.ts';
import { startApiServer, type ApiServer } from './server.ts';
import { widgetCrd } from './testenv.ts';

const dir = mkdtempSync(join(tmpdir(), 'cairn-persist-'));
const dataFile = join(dir, 'store.json');
const kubeconfig = join(dir, 'kubeconfig');
const host = loopbackAddress();
let server: ApiServer | undefined;

async function clients(): Promise<{ core: CoreV1Api; custom: CustomObjectsApi; kc: KubeConfig }> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

test.after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('objects, CRDs and resourceVersions survive a restart; old watches get 410', async () => {
  server = await startApiServer({ host, dataFile });
  server.writeKubeconfig(kubeconfig);
  const { core, custom } = await clients();
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'kept', labels: { a: 'b' } }, data: { x: '1' } } });
  const res = await fetch(`${server.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(widgetCrd('persist.cairn.dev')),
  });
  assert.is(res.status, 201);
  await custom.createNamespacedCustomObject({
    group: 'persist.cairn.dev',
    version: 'v1',
    namespace: 'default',
    plural: 'widgets',
    body: { apiVersion: 'persist.cairn.dev/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { image: 'x', replicas: 3 } },
  });
  const before = await core.listNamespacedConfigMap({ namespace: 'default' });
  const oldRv = Number(before.metadata!.resourceVersion) - 1;
  const { port } = server;
  await server.close();
  assert.ok(JSON.parse(readFileSync(dataFile, 'utf8')).objects.length > 0, 'snapshot written on close');

  server = await startApiServer({ host, port, dataFile });
  const again = await clients();
  const kept = await again.core.readNamespacedConfigMap({ namespace: 'default', name: 'kept' });
  assert.equal(kept.data, { x: '1' });
  const w = (await again.custom.getNamespacedCustomObject({
    group: 'persist.cairn.dev',
    version: 'v1',
    namespace: 'default',
    plural: 'widgets',
    name: 'w',
  })) as { spec: { replicas: number; mode: string } };
  assert.equal(w.spec, { image: 'x', replicas: 3, mode: 'safe' }, 'custom resource served again after restart');
  const next = await again.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after' } } });
  assert.ok(Number(next.metadata!.resourceVersion) > Number(before.metadata!.resourceVersion), 'resourceVersion keeps increasing');
  const events: { type: string; code?: number }[] = [];
  let done = false;
  await new Watch(again.kc).watch(
    '/api/v1/namespaces/default/configmaps',
    { resourceVersion: String(oldRv) },
    (type, obj) => events.push({ type, code: obj?.code }),
    () => {
      done = true;
    },
  );
  await waitFor(() => done || events.length > 0, { what: 'watch answer' });
  assert.equal(events[0], { type: 'ERROR', code: 410 });
});

test('without a data file, a restarted server answers versions from the earlier run with 410', async () => {
  const mem = await startApiServer({ host });
  const kc = new KubeConfig();
  const memKube = join(dir, 'mem-kubeconfig');
  mem.writeKubeconfig(memKube);
  kc.loadFromFile(memKube);
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 3; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `m${i}` } } });
  const rv = (await core.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion!;
  const { port } = mem;
  await mem.close();
  const again = await startApiServer({ host, port });
  try {
    const events: { type: string; code?: number }[] = [];
    let done = false;
    await new Watch(kc).watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: rv },
      (type, obj) => events.push({ type, code: obj?.code }),
      () => {
        done = true;
      },
    );
    await waitFor(() => done || events.length > 0, { what: 'watch answer' });
    assert.equal(events[0], { type: 'ERROR', code: 410 });
  } finally {
    await again.close();
  }
});

test('an unreadable data file is a clear error, not an empty cluster', async () => {
  const bad = join(dir, 'bad.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(bad, '{"not":"a snapshot"}');
  let err: unknown;
  try {
    await startApiServer({ host, dataFile: bad });
  } catch (e) {
    err = e;
  }
  assert.match(String(err), /not an API server snapshot/);
});

test.run();
