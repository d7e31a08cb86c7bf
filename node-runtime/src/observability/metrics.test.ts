// Metrics end to end: a real express app with the S3 middleware and GET /metrics on loopback,
// driven over HTTP, scraped over HTTP, and the exposition parsed back into samples.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import express from 'express';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import type { Member } from '../cluster/types.ts';
import { NodeMetrics, s3Operations } from './metrics.ts';
import { s3RequestMetrics, setS3Operation, timeRpc } from './request-metrics.ts';
import { collectMembership, collectNodeUsage, collectRepairProgress, membershipSamples } from '../node/collectors.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

let server: Server;
let base: string;
const unregister: (() => void)[] = [];

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`);
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  return parseExposition(await res.text());
}

const metrics = new NodeMetrics('nodes-0');

test.before(async () => {
  const app = express();
  app.get('/metrics', metrics.handler);
  const s3 = express();
  s3.use(s3RequestMetrics(metrics));
  s3.put('/:bucket/:key', (req, res) => {
    setS3Operation(res, 'PutObject');
    req.resume();
    req.on('end', () => res.status(200).end());
  });
  s3.get('/:bucket/:key', (req, res) => {
    setS3Operation(res, 'GetObject');
    if (req.params.key === 'slow') {
      res.writeHead(200);
      res.write('x');
      return;
    } // never ends: the client aborts
    res.status(200).send(Buffer.alloc(1000, 1));
  });
  app.use(s3);
  const host = loopbackAddress();
  server = app.listen(0, host);
  await new Promise((r) => server.once('listening', r));
  base = `http://${host}:${(server.address() as AddressInfo).port}`;
});

test.after(async () => {
  for (const u of unregister) u();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('S3 requests are counted by operation and code, with latency, TTFB and wire bytes', async () => {
  const body = Buffer.alloc(5000, 7);
  assert.is((await fetch(`${base}/b/k`, { method: 'PUT', body })).status, 200);
  const got = await fetch(`${base}/b/k`);
  assert.is((await got.arrayBuffer()).byteLength, 1000);
  assert.is((await fetch(`${base}/nosuch`, { method: 'POST' })).status, 404);
  const s = await scrape();
  assert.is(value(s, 'cairn_s3_requests_total', { operation: 'PutObject', code: '200', node: 'nodes-0' }), 1);
  assert.is(value(s, 'cairn_s3_requests_total', { operation: 'GetObject', code: '200' }), 1);
  assert.is(value(s, 'cairn_s3_requests_total', { operation: 'Unknown', code: '404' }), 1);
  assert.ok(value(s, 'cairn_s3_received_bytes_total', { operation: 'PutObject' })! >= 5000, 'PUT body counted as bytes in');
  assert.ok(value(s, 'cairn_s3_sent_bytes_total', { operation: 'GetObject' })! >= 1000, 'GET body counted as bytes out');
  assert.ok(value(s, 'cairn_s3_sent_bytes_total', { operation: 'GetObject' })! < 2000, 'keep-alive socket bytes are not double counted');
  assert.is(value(s, 'cairn_s3_request_duration_seconds_count', { operation: 'PutObject' }), 1);
  assert.is(value(s, 'cairn_s3_time_to_first_byte_seconds_count', { operation: 'GetObject' }), 1);
  assert.ok(value(s, 'process_cpu_user_seconds_total')! >= 0, 'default process metrics are exported');
});

test('a request the client abandons is counted as 499', async () => {
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(`${base}/b/slow`, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', reject);
    req.end();
  });
  const n = await waitFor(async () => value(await scrape(), 'cairn_s3_requests_total', { operation: 'GetObject', code: '499' }), {
    timeoutMs: 5000,
    what: 'the aborted request to be counted',
  });
  assert.is(n, 1);
});

test('collectors set state gauges at scrape time and drop members that left', async () => {
  const now = Date.now();
  const m = (name: string, state: Member['state'], ageMs: number): Member => ({
    id: `id-${name}`,
    name,
    roles: ['node'],
    api: '',
    cluster: '',
    zone: '',
    weight: 1,
    state,
    capacityBytes: 0,
    usedBytes: 0,
    lastHeartbeat: now - ageMs,
  });
  let list = [m('nodes-0', 'active', 1000), m('nodes-1', 'active', 2000), m('nodes-2', 'down', 60_000)];
  let quorum = true;
  unregister.push(collectMembership(metrics, { members: () => list, writeQuorumAvailable: () => quorum, bucketCount: () => 3 }));
  unregister.push(collectNodeUsage(metrics, () => ({ capacityBytes: 1000, usedBytes: 250, chunks: 12, objects: 4 })));
  let buckets: Record<string, { r: number; under?: number; surplus?: number }> = { photos: { r: 3, under: 4 }, logs: { r: 1, surplus: 6 }, idle: { r: 2 } };
  unregister.push(
    collectRepairProgress(metrics, () => ({
      underReplicatedChunks: 5,
      misplacedChunks: 2,
      bytesRemaining: 4096,
      bytesMoved: 0,
      rateBytesPerSec: 512,
      etaSeconds: 8,
      queueLength: 7,
      buckets,
    })),
  );
  let s = await scrape();
  assert.is(value(s, 'cairn_members', { state: 'active' }), 2);
  assert.is(value(s, 'cairn_members', { state: 'down' }), 1);
  assert.is(value(s, 'cairn_member_state', { member: 'nodes-2', state: 'down' }), 1);
  assert.is(value(s, 'cairn_member_state', { member: 'nodes-2', state: 'active' }), 0);
  assert.ok(value(s, 'cairn_member_heartbeat_age_seconds', { member: 'nodes-2' })! >= 60);
  assert.is(value(s, 'cairn_cluster_write_quorum_available'), 1);
  assert.is(value(s, 'cairn_buckets'), 3);
  assert.is(value(s, 'cairn_node_used_bytes'), 250);
  assert.is(value(s, 'cairn_chunks_stored'), 12);
  assert.is(value(s, 'cairn_chunks_under_replicated'), 5);
  assert.is(value(s, 'cairn_repair_queue_length'), 7);
  assert.is(value(s, 'cairn_repair_rate_bytes_per_second'), 512);
  assert.is(value(s, 'cairn_repair_bucket_items', { bucket: 'photos', state: 'under_replicated' }), 4);
  assert.is(value(s, 'cairn_repair_bucket_items', { bucket: 'logs', state: 'surplus' }), 6);
  assert.is(value(s, 'cairn_repair_bucket_items', { bucket: 'idle' }), undefined, 'a bucket with nothing left has no series');

  list = list.filter((x) => x.name !== 'nodes-2');
  buckets = { photos: { r: 3 } };
  quorum = false;
  s = await scrape();
  assert.is(value(s, 'cairn_member_state', { member: 'nodes-2' }), undefined, 'a forgotten member has no series left');
  assert.is(value(s, 'cairn_members', { state: 'down' }), 0);
  assert.is(value(s, 'cairn_cluster_write_quorum_available'), 0);
  assert.is(value(s, 'cairn_repair_bucket_items', { bucket: 'photos' }), undefined, 'converged: the series goes');
});

test('a failing or hanging collector does not break the scrape', async () => {
  const off1 = metrics.registerCollector(() => {
    throw new Error('boom');
  });
  const off2 = metrics.registerCollector(
    () =>
      new Promise<void>(() => {
        /* never resolves */
      }),
  );
  try {
    const started = Date.now();
    const s = await scrape();
    assert.ok(s.length > 10);
    assert.ok(Date.now() - started < 4000, 'the hung collector is abandoned after its timeout');
  } finally {
    off1();
    off2();
  }
});

test('timeRpc records latency and errors by peer and method', async () => {
  assert.is(await timeRpc(metrics, 'nodes-1', 'chunk.put', async () => 42), 42);
  await timeRpc(metrics, 'nodes-1', 'chunk.put', async () => {
    throw new Error('refused');
  }).then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, 'refused'),
  );
  const s = await scrape();
  assert.is(value(s, 'cairn_rpc_request_duration_seconds_count', { peer: 'nodes-1', method: 'chunk.put' }), 2);
  assert.is(value(s, 'cairn_rpc_errors_total', { peer: 'nodes-1', method: 'chunk.put' }), 1);
});

test('two nodes in one process keep their metrics apart, each labelled with its name', async () => {
  const a = new NodeMetrics('node-a'),
    b = new NodeMetrics('node-b');
  a.s3Requests.inc({ operation: 'GetObject', code: '200' });
  assert.match(await a.text(), 'cairn_s3_requests_total{operation="GetObject",code="200",node="node-a"} 1');
  assert.not.match(await b.text(), 'cairn_s3_requests_total{');
  a.boundedLabel('peer', 'x');
  assert.is(b.boundedLabel('peer', 'x', 0), 'other', 'label guards are per node too');
});

test('boundedLabel folds ids and overflow into "other"', () => {
  assert.is(metrics.boundedLabel('t1', 'meta.put'), 'meta.put');
  assert.is(metrics.boundedLabel('t1', 'has spaces and more'), 'other');
  for (let i = 0; i < 5; i++) metrics.boundedLabel('t2', `m${i}`, 3);
  assert.is(metrics.boundedLabel('t2', 'm0', 3), 'm0');
  assert.is(metrics.boundedLabel('t2', 'm9', 3), 'other');
});

test('a scrape exposes every node-runtime metric documented in docs/metrics.md', async () => {
  const md = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
  const documented = [...new Set([...md.matchAll(/`(cairn_[a-z0-9_]+)`/g)].map((m) => m[1]))].filter((n) => !n.startsWith('cairn_operator_'));
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.ok(documented.length >= 25, 'docs list the metrics');
  for (const n of documented) assert.match(text, new RegExp(`^# TYPE ${n} `, 'm'), `scrape lacks ${n}`);
  const ops = /\| `operation` \| S3 API names: `([^`]+)`/.exec(md)![1].split(' ');
  assert.equal(ops, [...s3Operations], 'docs list exactly the operation label values');
});

test('membershipSamples is pure and counts every state', () => {
  const s = membershipSamples([], 0);
  assert.equal(s.byState, { joining: 0, active: 0, draining: 0, drained: 0, down: 0 });
  assert.ok(s3Operations.includes('Unknown'));
  assert.ok(metrics.registry.getSingleMetric('cairn_s3_requests_total'));
});

test.run();
