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
    const cm = (name: string, labels: Record<string, string> = {}) =>
      rest.request('POST', '/api/v1/namespaces/default/configmaps', {
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { v: name } },
      });
    await cm('first', { app: 'x' });
    const seen: [WatchEventType, string][] = [];
    watcher = new Watcher({
      kc,
      rest,
      resource: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
      labelSelector: 'app=x',
      staleAfterMs: 400,
      log: logger('watch-test'),
      onEvent: (t, o) => seen.push([t, o.metadata.name]),
    });
    watcher.start();
    await waitFor(() => watcher!.synced, { what: 'initial list' });
    assert.equal(seen, [['ADDED', 'first']]);

    // Unlabelled writes move history past the window but never reach this (filtered) watch, which
    // goes silent, is declared dead, and reconnects from a resourceVersion that is now gone.
    for (let i = 0; i < 12; i++) await cm(`noise-${i}`);
    await waitFor(() => watcher!.relists >= 2, { what: 'relist after 410', timeoutMs: 10_000 });
    assert.equal(
      watcher.list().map((o) => o.metadata.name),
      ['first'],
    );
    assert.equal(seen, [['ADDED', 'first']], 'a relist of unchanged objects emits nothing');

    await cm('second', { app: 'x' });
    await waitFor(() => seen.some(([, n]) => n === 'second'), { what: 'event after relist' });
    await rest.request('DELETE', '/api/v1/namespaces/default/configmaps/first');
    await waitFor(() => seen.some(([t, n]) => t === 'DELETED' && n === 'first'), { what: 'delete event' });
    assert.equal(
      watcher.list().map((o) => o.metadata.name),
      ['second'],
    );
  } finally {
    await watcher?.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a list whose resourceVersion is already compacted away relists and ends with the full state; a failing handler hurts nobody', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-watch-test-'));
  // A server that keeps two events of history, so the first list's version is Gone by the watch.
  const api = await startApiServer({ host: loopbackAddress(), watchWindow: 2 });
  let watcher: Watcher | undefined;
  try {
    api.writeKubeconfig(join(dir, 'kubeconfig'));
    const kc = loadKubeConfig(join(dir, 'kubeconfig'));
    const rest = new KubeRest(kc);
    const cm = (name: string) =>
      rest.request<{ metadata: { resourceVersion: string } }>('POST', '/api/v1/namespaces/default/configmaps', {
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } },
      });
    const first = (await cm('cm-0')).metadata.resourceVersion;
    for (let i = 1; i < 6; i++) await cm(`cm-${i}`);
    let lists = 0;
    // The first list claims the version of the first write and nothing in it: the watch from there is 410.
    const staleFirstList = new (class extends KubeRest {
      override async request<T>(...args: Parameters<KubeRest['request']>): Promise<T> {
        const res = await super.request<T>(...args);
        return ++lists === 1 ? ({ items: [], metadata: { resourceVersion: first } } as T) : res;
      }
    })(kc);
    const seen = new Set<string>();
    watcher = new Watcher({
      kc,
      rest: staleFirstList,
      resource: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
      log: logger('watch-test'),
    });
    watcher.addHandler(() => {
      throw new Error('a consumer bug');
    });
    watcher.addHandler((t, o) => {
      if (t !== 'DELETED') seen.add(o.metadata.name);
    });
    watcher.start();
    await waitFor(() => seen.has('cm-5') && lists >= 2, { timeoutMs: 30_000, what: 'relist after 410' });
    assert.equal(
      watcher
        .list()
        .map((o) => o.metadata.name)
        .sort(),
      ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5'],
    );
    assert.ok(watcher.get('default/cm-0'), 'keyed namespace/name');
    await cm('cm-6');
    await waitFor(() => seen.has('cm-6'), { what: 'events keep flowing past the failing handler' });
  } finally {
    await watcher?.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
