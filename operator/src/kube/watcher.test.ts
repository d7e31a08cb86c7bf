// The watcher against the API server emulator: it treats a silent watch as dead and reconnects,
// relists on 410 Gone (history compacted past its resourceVersion) without losing or duplicating
// objects, and keeps delivering events afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startApiServer } from '../../../hack/kube/apiserver/server.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';
import { loadKubeConfig } from './config.ts';
import { KubeRest } from './rest.ts';
import { Watcher, type WatchEventType } from './watcher.ts';

test('silent watch is restarted; 410 Gone relists; events keep flowing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-watch-test-'));
  const api = await startApiServer({ host: loopbackAddress(), watchWindow: 5, bookmarkIntervalMs: 60_000 });
  let watcher: Watcher | undefined;
  try {
    api.writeKubeconfig(join(dir, 'kubeconfig'));
    const kc = loadKubeConfig(join(dir, 'kubeconfig'));
    const rest = new KubeRest(kc);
    const cm = (name: string, labels: Record<string, string> = {}) => rest.request('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { v: name } } });
    await cm('first', { app: 'x' });
    const seen: [WatchEventType, string][] = [];
    watcher = new Watcher({
      kc, rest, resource: { group: '', version: 'v1', plural: 'configmaps', namespaced: true }, labelSelector: 'app=x',
      staleAfterMs: 400, log: logger('watch-test'),
      onEvent: (t, o) => seen.push([t, o.metadata.name]),
    });
    watcher.start();
    await waitFor(() => watcher!.synced, { what: 'initial list' });
    assert.equal(seen, [['ADDED', 'first']]);

    // Unlabelled writes move history past the window but never reach this (filtered) watch, which
    // goes silent, is declared dead, and reconnects from a resourceVersion that is now gone.
    for (let i = 0; i < 12; i++) await cm(`noise-${i}`);
    await waitFor(() => watcher!.relists >= 2, { what: 'relist after 410', timeoutMs: 10_000 });
    assert.equal(watcher.list().map((o) => o.metadata.name), ['first']);
    assert.equal(seen, [['ADDED', 'first']], 'a relist of unchanged objects emits nothing');

    await cm('second', { app: 'x' });
    await waitFor(() => seen.some(([, n]) => n === 'second'), { what: 'event after relist' });
    await rest.request('DELETE', '/api/v1/namespaces/default/configmaps/first');
    await waitFor(() => seen.some(([t, n]) => t === 'DELETED' && n === 'first'), { what: 'delete event' });
    assert.equal(watcher.list().map((o) => o.metadata.name), ['second']);
  } finally {
    await watcher?.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
