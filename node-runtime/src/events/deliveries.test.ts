import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeMetrics } from '../observability/metrics.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { Deliveries, retryDelay } from './deliveries.ts';
import { Outbox } from './outbox.ts';
import { eventRecord, type EventMessage, type OutboxEvent } from './record.ts';
import { createTarget } from './targets.ts';

const TOKEN = 'hook-token';
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

/** A webhook receiver on loopback. `answer` decides each request's fate; `acked` holds what it answered 2xx to. */
async function receiver(answer: (n: number) => number | 'hang' = () => 200, delayMs = 0) {
  const acked: EventMessage[] = [];
  const auth: (string | undefined)[] = [];
  let requests = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      auth.push(req.headers.authorization);
      const fate = answer(requests++);
      if (fate === 'hang') return; // never answers: the sender's timeout decides
      setTimeout(() => {
        if (fate >= 200 && fate < 300) acked.push(JSON.parse(body) as EventMessage);
        res.writeHead(fate, { 'content-type': 'text/plain' }).end('ok');
      }, delayMs);
    });
  });
  const host = loopbackAddress();
  await new Promise<void>((r) => server.listen(0, host, r));
  const url = `http://${host}:${(server.address() as { port: number }).port}/hook`;
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return {
    url,
    acked,
    auth,
    get requests() {
      return requests;
    },
  };
}

let stamp = Date.parse('2026-06-01T00:00:00Z');
function event(key: string, targets: string[]): OutboxEvent {
  stamp += 1;
  const record = eventRecord({
    eventName: 's3:ObjectRemoved:Delete',
    bucket: 'docs',
    key,
    time: stamp,
    stamp: { timestamp: stamp, writer: 'node-b' },
    region: 'us-east-1',
    principalId: 'AK',
    bucketOwner: 'owner',
    sourceIp: '127.0.0.1',
    requestId: 'r',
    node: 'node-b',
  });
  return { record, routes: targets.map((target) => ({ target, configurationId: 'cfg' })) };
}

async function outboxIn(dir?: string, opts: { segmentBytes?: number; maxBytes?: number } = {}) {
  if (!dir) {
    dir = await mkdtemp(join(tmpdir(), 'cairn-deliveries-'));
    dirs.push(dir);
  }
  return { dir, outbox: await Outbox.open<OutboxEvent>({ dir, ...opts }) };
}

function start(outbox: Outbox<OutboxEvent>, hooks: Record<string, string>, metrics = new NodeMetrics()) {
  const targets = Object.entries(hooks).map(([name, url]) => createTarget({ kind: 'webhook', name, url, bearerToken: TOKEN, timeoutMs: 300 }));
  const deliveries = new Deliveries({ outbox, targets, metrics, retry: { baseMs: 10, maxMs: 100 } }).start();
  const value = async (metric: string, target: string) => {
    await metrics.text(); // runs the collectors that set the gauges
    return (await metrics.registry.getSingleMetric(metric)!.get()).values.find((v) => v.labels.target === target)?.value ?? 0;
  };
  return { deliveries, value };
}

const sequencers = (ms: EventMessage[]) => ms.map((m) => m.Records[0].s3.object.sequencer);
const sent = (es: OutboxEvent[]) => es.map((e) => e.record.s3.object.sequencer);

test('retry delays double from the base, stay under the cap and keep the upper half jittered', () => {
  const p = { baseMs: 500, maxMs: 60_000 };
  assert.is(
    retryDelay(0, p, () => 0),
    250,
  );
  assert.is(
    retryDelay(0, p, () => 1),
    500,
  );
  assert.is(
    retryDelay(3, p, () => 1),
    4000,
  );
  assert.is(
    retryDelay(40, p, () => 1),
    60_000,
  );
  assert.is(
    retryDelay(1e9, p, () => 0),
    30_000,
  );
  for (let a = 0; a < 20; a++) {
    const d = retryDelay(a, p);
    assert.ok(d >= Math.min(60_000, 500 * 2 ** a) / 2 && d <= 60_000);
  }
});

test('a webhook gets each routed event once, in order, with its bearer token; failures and timeouts are retried', async () => {
  // 503 twice, then one request left hanging past the timeout, then 200s.
  const hook = await receiver((n) => (n < 2 ? 503 : n === 2 ? 'hang' : 200));
  const { outbox } = await outboxIn();
  const { deliveries, value } = start(outbox, { hook: hook.url });
  const mine: OutboxEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const e = event(`k${i % 5}`, i % 3 === 0 ? ['elsewhere'] : ['hook']);
    await outbox.append(e);
    if (i % 3 !== 0) mine.push(e);
  }
  await waitFor(() => hook.acked.length >= mine.length, { what: 'every event acknowledged' });
  assert.equal(sequencers(hook.acked), sent(mine), 'once each, in outbox order');
  assert.ok(hook.auth.every((a) => a === `Bearer ${TOKEN}`));
  assert.is(hook.acked[0].Records[0].eventName, 's3:ObjectRemoved:Delete');
  assert.is(await value('cairn_events_delivered_total', 'hook'), mine.length);
  assert.is(await value('cairn_events_delivery_failures_total', 'hook'), 3);
  await waitFor(() => deliveries.status()[0].state === 'idle');
  assert.equal(deliveries.status()[0], {
    target: 'hook',
    state: 'idle',
    cursor: 60,
    backlog: 0,
    oldestUndeliveredAt: undefined,
    failures: 0,
    lastError: deliveries.status()[0].lastError,
  });
  await deliveries.stop();
  await outbox.close();
});

test('a target that is down holds back only itself', async () => {
  const down = await receiver(() => 500);
  const up = await receiver();
  const { outbox } = await outboxIn();
  const { deliveries, value } = start(outbox, { down: down.url, up: up.url });
  const events = Array.from({ length: 40 }, (_, i) => event(`k${i}`, ['down', 'up']));
  for (const e of events) await outbox.append(e);
  await waitFor(() => up.acked.length === 40, { what: 'the healthy target to get everything' });
  assert.equal(sequencers(up.acked), sent(events));
  const s = deliveries.status().find((x) => x.target === 'down')!;
  assert.is(s.state, 'retrying');
  assert.is(s.backlog, 40);
  assert.match(s.lastError ?? '', /answered 500/);
  assert.is(await value('cairn_events_delivered_total', 'down'), 0);
  await deliveries.stop();
  await outbox.close();
});

test('stopped mid-stream and started again on the reopened outbox: every event once', async () => {
  const hook = await receiver(() => 200, 5); // slow enough to stop it half-way
  let { dir, outbox } = await outboxIn();
  const events = Array.from({ length: 150 }, (_, i) => event(`k${i % 9}`, ['hook']));
  for (const e of events) await outbox.append(e);
  let run = start(outbox, { hook: hook.url });
  await waitFor(() => hook.acked.length >= 30, { what: 'some events delivered' });
  await run.deliveries.stop();
  await outbox.close();
  assert.ok(hook.acked.length < 150, `stopped mid-stream (${hook.acked.length} delivered)`);
  ({ outbox } = await outboxIn(dir));
  run = start(outbox, { hook: hook.url });
  await waitFor(() => hook.acked.length >= 150, { what: 'the rest after the restart' });
  await waitFor(() => run.deliveries.status()[0].state === 'idle');
  assert.equal(sequencers(hook.acked), sent(events), 'every event once, in order');
  await run.deliveries.stop();
  await outbox.close();
});

test('events dropped from a full outbox while the target was down are counted for it', async () => {
  let healthy = false;
  const hook = await receiver(() => (healthy ? 200 : 503));
  const { outbox } = await outboxIn(undefined, { segmentBytes: 4096, maxBytes: 16384 });
  const { deliveries, value } = start(outbox, { hook: hook.url });
  const events = Array.from({ length: 300 }, (_, i) => event(`k${i % 4}`, ['hook']));
  for (const e of events) await outbox.append(e);
  assert.ok(outbox.first > 0, 'the outbox dropped its oldest segments');
  healthy = true;
  await waitFor(() => deliveries.status()[0].state === 'idle' && deliveries.status()[0].cursor === 300, { what: 'the worker to catch up' });
  const dropped = await value('cairn_events_dropped_total', 'hook');
  assert.ok(dropped > 0);
  assert.is(hook.acked.length + dropped, 300, 'every event either delivered or counted as dropped');
  // What arrives: whatever the worker held when the drop happened, then everything retained, in order.
  const got = sequencers(hook.acked),
    all = sent(events);
  const positions = got.map((s) => all.indexOf(s));
  assert.ok(
    positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])),
    'in order, none twice',
  );
  assert.equal(got.slice(-(300 - outbox.first)), all.slice(outbox.first), 'every retained event');
  await deliveries.stop();
  await outbox.close();
});

test.after(async () => {
  for (const c of cleanups) await c();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test.run();
