// End to end: a real local cluster (1 root + 2 data nodes as `cairn server` processes), S3 traffic
// through the minio client, then every process's /metrics is scraped. Every node-runtime metric in
// docs/metrics.md must be exported, and the ones that describe traffic, storage, membership and
// internal RPC must carry the real numbers of what just happened (not only TYPE lines).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKSCRAPE',
  secretKey = 'scrape-secret-key';
const common = { secret, accessKey, secretKey, env: { CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn' }, extraArgs: ['--chunk-size', '65536'] };
const BUCKET = 'scraped';
const body = randomBytes(300_000); // 5 chunks of 64 KiB, stored on both data nodes (R=2)

const procs: CairnProcess[] = [];
let root: CairnProcess, n1: CairnProcess, n2: CairnProcess;
let usageSeenAfterMs = -1; // how long after the PUT `cairn status` showed the nodes' new usage

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Pure: the samples of a Prometheus text exposition (comments skipped). */
function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

interface Scrape {
  text: string;
  samples: Sample[];
  value(name: string, labels?: Record<string, string>): number | undefined;
}

async function scrape(p: CairnProcess): Promise<Scrape> {
  const res = await fetch(`${p.cluster}/metrics`);
  assert.is(res.status, 200, `${p.name} /metrics`);
  const text = await res.text();
  const samples = parseSamples(text);
  return {
    text,
    samples,
    // The sum over the series that match the given labels (undefined when none matches).
    value(name, labels = {}) {
      const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      return hits.length ? hits.reduce((a, s) => a + s.value, 0) : undefined;
    },
  };
}

const documented = (() => {
  const md = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
  return [...new Set([...md.matchAll(/`(cairn_[a-z0-9_]+)`/g)].map((m) => m[1]))].filter((n) => !n.startsWith('cairn_operator_'));
})();

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  procs.push(root);
  [n1, n2] = await Promise.all([1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(n1, n2);
  const admin = createAdminClient({ url: root.cluster, secret });
  await waitFor(async () => (await admin.status()).members.filter((m) => m.roles.includes('node') && m.state === 'active').length === 2, {
    timeoutMs: 15_000,
    what: 'both nodes active',
  });
  await admin.putBucket({ name: BUCKET, replicas: 2 });

  // Traffic through nodes-1: PUT, GET, LIST (and a 404 for the status code label).
  const s3 = s3Client(n1);
  await s3.putObject(BUCKET, 'dir/object', body, body.length);
  const putAt = Date.now();
  await waitFor(
    async () => (await admin.status()).members.filter((m) => m.roles.includes('node') && m.usedBytes >= body.length && m.chunks >= 5).length === 2,
    { timeoutMs: 10_000, intervalMs: 25, what: 'status shows the usage of both nodes' },
  );
  usageSeenAfterMs = Date.now() - putAt;
  const parts: Buffer[] = [];
  for await (const b of await s3.getObject(BUCKET, 'dir/object')) parts.push(b as Buffer);
  assert.ok(Buffer.concat(parts).equals(body), 'GET returns the body');
  const names: string[] = [];
  for await (const o of s3.listObjectsV2(BUCKET, '', true)) names.push((o as { name: string }).name);
  assert.equal(names, ['dir/object']);
  await s3.statObject(BUCKET, 'missing').then(
    () => assert.unreachable('missing object'),
    (e: { code?: string }) => assert.is(e.code, 'NotFound'),
  );
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('every process exports every documented node-runtime metric, labelled with its member name', async () => {
  assert.ok(documented.length >= 25, 'docs/metrics.md lists the metrics');
  for (const p of procs) {
    const s = await scrape(p);
    const missing = documented.filter((n) => !new RegExp(`^# TYPE ${n} `, 'm').test(s.text));
    assert.equal(missing, [], `${p.name} lacks documented metrics`);
    for (const x of s.samples.filter((x) => x.name.startsWith('cairn_'))) assert.is(x.labels.node, p.name, `${x.name} carries node="${p.name}"`);
    assert.is(s.value('cairn_build_info'), 1);
    assert.match(s.text, /^process_resident_memory_bytes\{[^}]*\} \d/m, 'process metrics');
  }
});

test('S3 traffic: requests by operation and status, latency, time to first byte, bytes in and out', async () => {
  // A request is recorded when its response closed, which may be a moment after the client saw it.
  const s = await waitFor(
    async () => {
      const x = await scrape(n1);
      return x.value('cairn_s3_requests_total', { operation: 'HeadObject', code: '404' }) ? x : undefined;
    },
    { timeoutMs: 5_000, what: 'the requests recorded' },
  );
  for (const op of ['PutObject', 'GetObject', 'ListObjectsV2']) {
    assert.ok((s.value('cairn_s3_requests_total', { operation: op, code: '200' }) ?? 0) >= 1, `${op} 200 counted`);
    assert.ok((s.value('cairn_s3_request_duration_seconds_count', { operation: op }) ?? 0) >= 1, `${op} latency observed`);
    assert.ok((s.value('cairn_s3_time_to_first_byte_seconds_count', { operation: op }) ?? 0) >= 1, `${op} ttfb observed`);
  }
  assert.ok(s.value('cairn_s3_request_duration_seconds_sum', { operation: 'PutObject' })! > 0);
  assert.ok(s.value('cairn_s3_received_bytes_total', { operation: 'PutObject' })! >= body.length, 'PUT body bytes in');
  assert.ok(s.value('cairn_s3_sent_bytes_total', { operation: 'GetObject' })! >= body.length, 'GET body bytes out');
  assert.is(s.value('cairn_s3_requests_total', { operation: 'PutObject', code: '200' }), 1, 'exactly one PUT (no double counting)');
  // The other node served no S3 request.
  assert.is((await scrape(n2)).value('cairn_s3_requests_total', { operation: 'PutObject' }), undefined);
});

test('storage on each data node: capacity, used bytes, chunks and objects', async () => {
  for (const p of [n1, n2]) {
    const s = await scrape(p);
    assert.ok(s.value('cairn_node_capacity_bytes')! > 0, `${p.name} capacity`);
    assert.ok(s.value('cairn_node_used_bytes')! >= body.length, `${p.name} holds a replica of every chunk (R=2)`);
    assert.is(s.value('cairn_chunks_stored'), Math.ceil(body.length / 65536), `${p.name} chunks`);
    assert.is(s.value('cairn_objects_stored'), 1, `${p.name} holds the bucket's metadata partition`);
  }
  // A root-only process stores nothing (its unlabelled gauges stay 0, so sum() counts data nodes only).
  assert.is((await scrape(root)).value('cairn_node_used_bytes'), 0);
  assert.is((await scrape(root)).value('cairn_node_capacity_bytes'), 0);
});

test("cairn status shows a write's usage within about a heartbeat, not after a polling period", () => {
  // Usage counters travel in every heartbeat (250 ms here); a root sees them on its next local beat.
  assert.ok(usageSeenAfterMs >= 0 && usageSeenAfterMs < 1500, `status showed the usage ${usageSeenAfterMs} ms after the PUT`);
});

test('membership on the root: members by state, per-member state, heartbeat age, quorum, buckets', async () => {
  const s = await scrape(root);
  assert.is(s.value('cairn_members', { state: 'active' }), 3);
  assert.is(s.value('cairn_members', { state: 'down' }), 0);
  for (const m of ['root-0', 'nodes-1', 'nodes-2']) {
    assert.is(s.value('cairn_member_state', { member: m, state: 'active' }), 1, `${m} active`);
    const age = s.value('cairn_member_heartbeat_age_seconds', { member: m });
    assert.ok(age !== undefined && age >= 0 && age < 5, `${m} heartbeat age ${age}`);
  }
  assert.is(s.value('cairn_cluster_write_quorum_available'), 1);
  assert.is(s.value('cairn_buckets'), 1);
});

test('internal RPC latency by peer (member names) and method, as seen by the caller', async () => {
  const s = await scrape(n1);
  assert.ok(
    (s.value('cairn_rpc_request_duration_seconds_count', { peer: 'nodes-2', method: 'chunk.put' }) ?? 0) >= Math.ceil(body.length / 65536),
    'one chunk.put per chunk to nodes-2',
  );
  assert.ok(s.value('cairn_rpc_request_duration_seconds_sum', { peer: 'nodes-2', method: 'chunk.put' })! > 0);
  // Versions are written fenced (meta.writeVersion), no longer as a plain putVersion.
  assert.ok((s.value('cairn_rpc_request_duration_seconds_count', { peer: 'nodes-2', method: 'meta.writeVersion' }) ?? 0) >= 1, 'metadata write to nodes-2');
  assert.ok(
    (s.value('cairn_rpc_request_duration_seconds_count', { peer: 'root-0', method: 'heartbeat' }) ?? 0) >= 1,
    'heartbeats to the root, labelled with its member name',
  );
  assert.ok(
    !s.samples.some((x) => x.name.startsWith('cairn_rpc_') && /^\d+\.\d+\.\d+\.\d+:\d+$/.test(x.labels.peer ?? '') && x.labels.method === 'chunk.put'),
    'no address as a data peer label',
  );
});

test.run();
