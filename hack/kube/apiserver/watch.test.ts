// Conformance: watch from a resourceVersion, selector transitions, bookmarks, 410 Gone for versions
// older than the window, informers across an API server restart (persistence + relist).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ListWatch, PatchStrategy, setHeaderOptions, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { waitFor } from '../../testing/net.ts';
import { emulatorOnly, external, kubeTestEnv, type KubeTestEnv } from './testenv.ts';

let env: KubeTestEnv;
test.before(async () => {
  env = await kubeTestEnv('watch');
});
test.after(async () => {
  await env?.close();
});

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  obj: Record<string, any>;
}

async function collect(
  path: string,
  query: Record<string, string | number | boolean | undefined>,
): Promise<{ events: Seen[]; done: Promise<unknown>; stop: () => void }> {
  const events: Seen[] = [];
  let finish!: (e: unknown) => void;
  const done = new Promise((r) => (finish = r));
  const ctl = await new Watch(env.kc).watch(
    path,
    query,
    (type, obj) => events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion, obj }),
    (err) => finish(err ?? 'done'),
  );
  return { events, done, stop: () => ctl.abort() };
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const path = () => `/api/v1/namespaces/${env.ns}/configmaps`;

test('watch from a list resourceVersion sees ADDED, MODIFIED, DELETED in order', async () => {
  const list = await env.core.listNamespacedConfigMap({ namespace: env.ns });
  const w = await collect(path(), { resourceVersion: list.metadata!.resourceVersion });
  try {
    await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'w1' } } });
    await env.core.patchNamespacedConfigMap({ namespace: env.ns, name: 'w1', body: { data: { k: 'v' } } }, merge);
    await env.core.deleteNamespacedConfigMap({ namespace: env.ns, name: 'w1' });
    await waitFor(() => w.events.some((e) => e.type === 'DELETED'), { what: 'DELETED event' });
    assert.equal(
      w.events.filter((e) => e.name === 'w1').map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    const rvs = w.events.map((e) => BigInt(e.rv!));
    assert.ok(
      rvs.every((v, i) => i === 0 || v > rvs[i - 1]),
      'resourceVersions increase',
    );
  } finally {
    w.stop();
  }
});

test('watch replays changes made after the given resourceVersion; label selector transitions', async () => {
  const start = (await env.core.listNamespacedConfigMap({ namespace: env.ns })).metadata!.resourceVersion;
  await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'sel', labels: { watch: 'no' } } } });
  await env.core.patchNamespacedConfigMap({ namespace: env.ns, name: 'sel', body: { metadata: { labels: { watch: 'yes' } } } }, merge);
  await env.core.patchNamespacedConfigMap({ namespace: env.ns, name: 'sel', body: { data: { a: 'b' } } }, merge);
  await env.core.patchNamespacedConfigMap({ namespace: env.ns, name: 'sel', body: { metadata: { labels: { watch: 'no' } } } }, merge);
  const w = await collect(path(), { resourceVersion: start, labelSelector: 'watch=yes' });
  try {
    await waitFor(() => w.events.length >= 3, { what: 'three events' });
    assert.equal(
      w.events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
      'entering the selector is ADDED, leaving it is DELETED',
    );
  } finally {
    w.stop();
  }
});

test('watch without a resourceVersion starts with the current state; bookmarks carry a resourceVersion', async () => {
  await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'exists' } } });
  const w = await collect(path(), { allowWatchBookmarks: true, timeoutSeconds: external ? 70 : 3 });
  try {
    await waitFor(() => w.events.some((e) => e.name === 'exists' && e.type === 'ADDED'), { what: 'initial ADDED' });
    if (!external) {
      await waitFor(() => w.events.some((e) => e.type === 'BOOKMARK'), { what: 'bookmark' });
      const b = w.events.find((e) => e.type === 'BOOKMARK')!;
      assert.match(b.rv!, /^\d+$/);
      assert.is(b.obj.kind, 'ConfigMap');
    }
  } finally {
    w.stop();
  }
});

test('legacy /watch/ path on one object', async () => {
  await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'one' } } });
  await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'other' } } });
  const w = await collect(`/api/v1/watch/namespaces/${env.ns}/configmaps/one`, {});
  try {
    await waitFor(() => w.events.some((e) => e.name === 'one'), { what: 'initial ADDED of one' });
    await env.core.patchNamespacedConfigMap({ namespace: env.ns, name: 'other', body: { data: { x: '1' } } }, merge);
    await env.core.patchNamespacedConfigMap({ namespace: env.ns, name: 'one', body: { data: { x: '1' } } }, merge);
    await waitFor(() => w.events.some((e) => e.type === 'MODIFIED'), { what: 'MODIFIED of one' });
    assert.ok(
      w.events.every((e) => e.name === 'one'),
      'only the named object',
    );
  } finally {
    w.stop();
  }
});

emulatorOnly(test, 'sendInitialEvents needs the WatchList feature, not on by default in every real API server')(
  'sendInitialEvents ends with the initial-events-end bookmark',
  async () => {
    const init = await collect(path(), { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan' });
    try {
      await waitFor(() => init.events.some((e) => e.type === 'BOOKMARK' && e.obj.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true'), {
        what: 'initial-events-end bookmark',
      });
      const end = init.events.findIndex((e) => e.type === 'BOOKMARK');
      assert.ok(
        init.events.slice(0, end).some((e) => e.name === 'one' && e.type === 'ADDED'),
        'initial state before the bookmark',
      );
    } finally {
      init.stop();
    }
  },
);

test('a resourceVersion older than the watch window gets 410 Gone (ERROR event, reason Expired)', async () => {
  let old = '1';
  if (!external) {
    old = (await env.core.listNamespacedConfigMap({ namespace: env.ns })).metadata!.resourceVersion!;
    await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'churn' } } });
    for (let i = 0; i < 210; i++) await env.core.patchNamespacedConfigMap({ namespace: env.ns, name: 'churn', body: { data: { i: String(i) } } }, merge);
  }
  const w = await collect(path(), { resourceVersion: old });
  await Promise.race([w.done, waitFor(() => w.events.some((e) => e.type === 'ERROR'), { what: 'ERROR event' })]);
  w.stop();
  const err = w.events.find((e) => e.type === 'ERROR');
  assert.ok(err, 'an ERROR event');
  assert.is(err!.obj.code, 410);
  assert.is(err!.obj.reason, 'Expired');
  assert.match(err!.obj.message, /too old resource version/);
});

emulatorOnly(test, 'it restarts the API server, which only the emulator lets a test do')(
  'informer keeps its cache across an API server restart (objects persist; it relists)',
  async () => {
    // Reconnect back-off timers are unref'd so that a stopped informer never holds the process.
    const delayFn = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
    const informer = new ListWatch<V1ConfigMap>(
      path(),
      new Watch(env.kc),
      () => env.core.listNamespacedConfigMap({ namespace: env.ns }),
      false,
      undefined,
      undefined,
      { delayFn },
    );
    const names = () => informer.list().map((c) => c.metadata!.name!);
    let stopped = false;
    // client-node informers stop on errors (e.g. the connection reset by the restart): start again.
    informer.on('error', () => {
      if (!stopped)
        setTimeout(() => {
          if (!stopped) void informer.start().catch(() => {});
        }, 100).unref();
    });
    await informer.start();
    try {
      await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'before-restart' } } });
      await waitFor(() => names().includes('before-restart'), { what: 'informer sees before-restart' });
      await env.restart();
      const kept = await env.core.readNamespacedConfigMap({ namespace: env.ns, name: 'before-restart' });
      assert.is(kept.metadata!.name, 'before-restart', 'object survived the restart');
      await env.core.createNamespacedConfigMap({ namespace: env.ns, body: { metadata: { name: 'after-restart' } } });
      await waitFor(() => names().includes('after-restart'), { what: 'informer sees after-restart', timeoutMs: 20_000 });
    } finally {
      stopped = true;
      await informer.stop();
    }
  },
);

test.run();
