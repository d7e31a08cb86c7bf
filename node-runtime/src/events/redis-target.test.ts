import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { NodeMetrics } from '../observability/metrics.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { startRedis } from '../../../hack/testing/redis.ts';
import { Deliveries } from './deliveries.ts';
import { Outbox } from './outbox.ts';
import { eventRecord, type EventMessage, type OutboxEvent } from './record.ts';
import { createTarget } from './targets.ts';

const PASSWORD = 'test-secret';
const redis = await startRedis({ password: PASSWORD });
const reader = new Redis({ host: redis.host, port: redis.port, password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
reader.on('error', () => {}); // it reconnects across the outage below
const dirs: string[] = [];

let stamp = Date.parse('2026-05-01T00:00:00Z');
function event(key: string, targets: string[]): OutboxEvent {
  stamp += 1;
  const record = eventRecord({
    eventName: 's3:ObjectCreated:Put',
    bucket: 'media',
    key,
    time: stamp,
    stamp: { timestamp: stamp, writer: 'node-a' },
    size: key.length,
    eTag: 'e',
    region: 'us-east-1',
    principalId: 'AK',
    bucketOwner: 'owner',
    sourceIp: '127.0.0.1',
    requestId: 'r',
    node: 'node-a',
  });
  return { record, routes: targets.map((target) => ({ target, configurationId: `cfg-${target}` })) };
}

async function setup(spec: { list?: string; stream?: string; password?: string }) {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-redis-target-'));
  dirs.push(dir);
  const outbox = await Outbox.open<OutboxEvent>({ dir });
  const metrics = new NodeMetrics();
  const target = createTarget({
    kind: 'redis',
    name: 'jobs',
    address: redis.address,
    password: spec.password ?? PASSWORD,
    list: spec.list,
    stream: spec.stream,
    connectTimeoutMs: 1000,
    commandTimeoutMs: 1000,
  });
  const deliveries = new Deliveries({ outbox, targets: [target], metrics, retry: { baseMs: 20, maxMs: 300 } }).start();
  const metric = async (name: string) =>
    (await metrics.text(), await metrics.registry.getSingleMetric(name)!.get()).values.find(
      (v) => v.labels.target === 'jobs' && (v.labels.state ?? 'retrying') === 'retrying',
    )?.value ?? 0;
  const close = async () => {
    await deliveries.stop();
    await outbox.close();
  };
  return { outbox, deliveries, metric, close };
}

/** Runs a test body with a fresh outbox and worker, stopping both whatever happens. */
async function withDeliveries(spec: Parameters<typeof setup>[0], body: (t: Awaited<ReturnType<typeof setup>>) => Promise<void>): Promise<void> {
  const t = await setup(spec);
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

/** Each appended event (by sequencer) exactly once, and the events of every key in their order. */
function assertExactlyOnceInOrder(got: EventMessage[], sent: OutboxEvent[]): void {
  const seqs = got.map((m) => m.Records[0].s3.object.sequencer);
  assert.is(new Set(seqs).size, seqs.length, 'no event twice');
  assert.equal(new Set(seqs), new Set(sent.map((e) => e.record.s3.object.sequencer)), 'every event once');
  const lastOfKey = new Map<string, string>();
  for (const m of got) {
    const { key, sequencer } = m.Records[0].s3.object;
    assert.ok((lastOfKey.get(key) ?? '') < sequencer, `events of ${key} in order`);
    lastOfKey.set(key, sequencer);
  }
}

const listed = async (list: string) => (await reader.lrange(list, 0, -1)).map((v) => JSON.parse(v) as EventMessage);

test('a list gets each routed event once, in order, as MinIO-shaped JSON', async () => {
  await withDeliveries({ list: 'events:a' }, async (t) => {
    const sent: OutboxEvent[] = [];
    for (let i = 0; i < 300; i++) {
      const e = event(`k${i % 7}`, i % 5 === 0 ? [] : i % 5 === 1 ? ['other'] : ['jobs', 'other']);
      await t.outbox.append(e);
      if (e.routes.some((r) => r.target === 'jobs')) sent.push(e);
    }
    await waitFor(async () => (await reader.llen('events:a')) >= sent.length, { what: 'all events in the list' });
    const got = await listed('events:a');
    assert.is(got.length, sent.length);
    assertExactlyOnceInOrder(got, sent);
    assert.equal(
      got.map((m) => m.Records[0].s3.object.sequencer),
      sent.map((e) => e.record.s3.object.sequencer),
      'in outbox order',
    );
    assert.is(got[0].EventName, 's3:ObjectCreated:Put');
    assert.is(got[0].Key, `media/${sent[0].record.s3.object.key}`);
    assert.is(got[0].Records[0].s3.configurationId, 'cfg-jobs');
    assert.is(await t.metric('cairn_events_delivered_total'), sent.length);
    await waitFor(() => t.deliveries.status()[0].state === 'idle', { what: 'the worker to idle' });
    assert.is(t.deliveries.status()[0].backlog, 0);
    assert.is(await t.metric('cairn_events_backlog'), 0);
  });
});

test('a stream gets each event as an XADD entry with the message in field "event"', async () => {
  await withDeliveries({ stream: 'events:s' }, async (t) => {
    const sent = [event('a', ['jobs']), event('b', ['jobs']), event('a', ['jobs'])];
    for (const e of sent) await t.outbox.append(e);
    await waitFor(async () => (await reader.xlen('events:s')) >= 3, { what: 'three stream entries' });
    const entries = await reader.xrange('events:s', '-', '+');
    assert.equal(
      entries.map(([, fields]) => fields[0]),
      ['event', 'event', 'event'],
    );
    assertExactlyOnceInOrder(
      entries.map(([, fields]) => JSON.parse(fields[1]) as EventMessage),
      sent,
    );
  });
});

test('a refused login is a failure: retried, counted, nothing acknowledged, nothing skipped', async () => {
  await withDeliveries({ list: 'events:denied', password: 'wrong' }, async (t) => {
    await t.outbox.append(event('x', ['jobs']));
    await waitFor(async () => (await t.metric('cairn_events_delivery_failures_total')) >= 3, { what: 'three failed attempts' });
    const s = t.deliveries.status()[0];
    assert.is(s.state, 'retrying');
    assert.match(s.lastError ?? '', /WRONGPASS|NOAUTH|invalid/i);
    assert.is(s.cursor, 0);
    assert.is(await t.metric('cairn_events_delivered_total'), 0);
    assert.is(await t.metric('cairn_events_delivery_state'), 1);
    assert.is(await reader.llen('events:denied'), 0);
  });
});

test('redis down for a while: events wait in the outbox, then arrive once each, in order per key', async () => {
  await withDeliveries({ list: 'events:outage' }, async (t) => {
    const before = Array.from({ length: 20 }, (_, i) => event(`k${i % 3}`, ['jobs']));
    for (const e of before) await t.outbox.append(e);
    await waitFor(async () => (await reader.llen('events:outage')) === 20, { what: 'the first events' });
    await redis.stop();
    const during = Array.from({ length: 120 }, (_, i) => event(`k${i % 4}`, ['jobs']));
    await Promise.all(during.map((e) => t.outbox.append(e)));
    await waitFor(async () => (await t.metric('cairn_events_delivery_failures_total')) >= 8 && t.deliveries.status()[0].state === 'retrying', {
      what: 'eight failed attempts while redis is down',
    });
    const down = t.deliveries.status()[0];
    assert.is(down.backlog, 120);
    assert.ok(down.oldestUndeliveredAt !== undefined);
    assert.ok((await t.metric('cairn_events_oldest_undelivered_age_seconds')) > 0);
    await redis.start(); // an empty redis (no persistence): what arrives now is what the outage held back
    await waitFor(async () => (await reader.llen('events:outage')) >= 120, { timeoutMs: 15_000, what: 'the held-back events after redis came back' });
    await waitFor(() => t.deliveries.status()[0].state === 'idle', { what: 'the worker to catch up' });
    const got = await listed('events:outage');
    assert.is(got.length, 120);
    assertExactlyOnceInOrder(got, during);
    assert.is(await t.metric('cairn_events_delivered_total'), 140);
    assert.is(t.deliveries.status()[0].backlog, 0);
  });
});

test('a spec it cannot use is refused by name', () => {
  const base = { kind: 'redis' as const, name: 'r', address: '127.0.0.1:6379' };
  assert.throws(() => createTarget({ ...base }), /exactly one of list and stream/);
  assert.throws(() => createTarget({ ...base, list: 'a', stream: 'b' }), /exactly one/);
  assert.throws(() => createTarget({ ...base, list: 'a', address: 'nohost' }), /host:port/);
  assert.throws(() => createTarget({ ...base, list: 'a', name: 'Bad_Name' }), /DNS label/);
});

test.after(async () => {
  reader.disconnect();
  await redis.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test.run();
