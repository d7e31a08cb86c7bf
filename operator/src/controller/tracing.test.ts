// A `reconcile` span per reconcile through the real work queue, exported over OTLP (protobuf) to
// an in-process receiver: attributes name the controller and object, `cairn.result` matches the
// outcome the queue records for metrics, and a failed reconcile is an error span.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { startOtlpReceiver } from '../../../node-runtime/test/otlp-receiver.ts';
import { startTracing, stopTracing } from '../../../node-runtime/src/observability/tracing.ts';
import { TerminalError, WorkQueue, type ReconcileOutcome } from './queue.ts';
import { reconcileOutcome, tracedReconcile } from './tracing.ts';

test('reconcileOutcome mirrors the work queue', () => {
  assert.is(reconcileOutcome(undefined), 'success');
  assert.is(reconcileOutcome({}), 'success');
  assert.is(reconcileOutcome({ requeueAfterMs: 0 }), 'requeue');
  assert.is(reconcileOutcome(undefined, new Error('x')), 'error');
  assert.is(reconcileOutcome(undefined, new TerminalError('InvalidSpec', 'x')), 'terminal');
});

test('every reconcile is one span with controller, namespace, name and result', async () => {
  const receiver = await startOtlpReceiver(loopbackAddress());
  const queue = new WorkQueue({ backoff: { baseMs: 60_000, maxMs: 60_000 }, onDone: (key, outcome) => recorded.set(key, outcome) });
  const recorded = new Map<string, ReconcileOutcome>();
  let running: Promise<void> | undefined;
  try {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    assert.is((await startTracing({ serviceName: 'cairn-operator' })).enabled, true);
    running = queue.run(
      2,
      tracedReconcile('storagecluster', async (key) => {
        if (key === 'ns/broken') throw new Error('API server said no');
        if (key === 'ns/invalid') throw new TerminalError('InvalidSpec', 'bad spec');
        if (key === 'ns/waiting') return { requeueAfterMs: 60_000 };
        return {};
      }),
    );
    for (const k of ['ns/ok', 'ns/waiting', 'ns/broken', 'ns/invalid']) queue.add(k);
    await waitFor(() => recorded.size === 4, { what: 'four reconciles' });
    await stopTracing(); // flushes
    const spans = await waitFor(() => (receiver.spans.length >= 4 ? receiver.spans : undefined), { what: 'four spans' });
    assert.ok(spans.every((s) => s.name === 'reconcile' && s.service === 'cairn-operator' && s.parentSpanId === ''));
    const byName = Object.fromEntries(spans.map((s) => [s.attributes['cairn.name'], s]));
    for (const [key, outcome] of recorded) {
      const s = byName[key.split('/')[1]];
      assert.ok(s, `a span for ${key}`);
      assert.is(s.attributes['cairn.result'], outcome, `span result of ${key} is what the queue recorded`);
      assert.is(s.attributes['cairn.controller'], 'storagecluster');
      assert.is(s.attributes['k8s.namespace.name'], 'ns');
      assert.is(s.attributes['cairn.key'], key);
    }
    assert.equal(Object.fromEntries(spans.map((s) => [s.attributes['cairn.name'], s.attributes['cairn.result']])), {
      ok: 'success',
      waiting: 'requeue',
      broken: 'error',
      invalid: 'terminal',
    });
    assert.is(byName.broken.statusCode, 2, 'a failed reconcile is an error span');
    assert.is(byName.ok.statusCode, 0);
  } finally {
    queue.stop();
    await running;
    await stopTracing();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await receiver.close();
  }
});

test.run();
