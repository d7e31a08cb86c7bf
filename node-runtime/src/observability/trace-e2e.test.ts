// End to end: one PUT is one trace across the nodes that stored it. An in-process OTLP/HTTP receiver
// (node-runtime/test/otlp-receiver.ts) stands in for the OpenTelemetry Collector; 1 root + 2 data nodes run as real
// `cairn server` processes with OTEL_EXPORTER_OTLP_ENDPOINT pointing at it. A PUT through nodes-1
// into a bucket with R=2 must yield spans from both data nodes under one trace id, the remote
// node's server spans must be children of the coordinator's client spans, and background traffic
// (heartbeats, gossip) must not start traces of its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../test/otlp-receiver.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKTRACES',
  secretKey = 'trace-secret-key';
const BUCKET = 'traced';
const SERVER = 2,
  CLIENT = 3; // OTLP SpanKind

const procs: CairnProcess[] = [];
let receiver: OtlpReceiver;
let n1: CairnProcess;

const nodeOf = (s: ReceivedSpan) => String(s.resource['cairn.node'] ?? '');

test.before(async () => {
  receiver = await startOtlpReceiver(loopbackAddress());
  const env = {
    CAIRN_HEARTBEAT_MS: '250',
    CAIRN_LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '100', // export within a tenth of a second instead of 5 s
  };
  const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', '65536'] };
  const root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  procs.push(root);
  const nodes = await Promise.all([1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  n1 = nodes[0];
  const admin = createAdminClient({ url: root.cluster, secret });
  await waitFor(async () => (await admin.status()).members.filter((m) => m.roles.includes('node') && m.state === 'active').length === 2, {
    timeoutMs: 15_000,
    what: 'both nodes active',
  });
  await admin.putBucket({ name: BUCKET, replicas: 2 });
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
  await receiver?.close();
});

test('one PUT through nodes-1 with R=2 is one trace spanning both data nodes', async () => {
  const s3 = s3Client(n1);
  const body = randomBytes(150_000); // 3 chunks
  await s3.putObject(BUCKET, 'traced/key', body, body.length);

  // The coordinator's PutObject span, then (exports are batched per process) the remote node's spans.
  const put = await waitFor(() => receiver.spans.find((s) => s.name === 'PutObject' && s.attributes['cairn.key'] === 'traced/key'), {
    timeoutMs: 10_000,
    what: 'the PutObject span',
  });
  assert.is(nodeOf(put), 'nodes-1');
  assert.is(put.service, 'cairn-node');
  assert.is(put.kind, SERVER);
  assert.is(put.parentSpanId, '', 'the S3 request starts the trace (clients do not pick it)');
  assert.is(put.attributes['cairn.bucket'], BUCKET);
  const inTrace = () => receiver.spans.filter((s) => s.traceId === put.traceId);
  // nodes-2 exports its spans in batches: wait for every call it served (three chunk writes and the
  // metadata write), not only the first batch, before reading the trace.
  await waitFor(() => inTrace().filter((s) => nodeOf(s) === 'nodes-2' && s.kind === SERVER).length >= 4, {
    timeoutMs: 10_000,
    what: 'the chunk and metadata spans of nodes-2',
  });
  const spans = inTrace();
  const byId = new Map(spans.map((s) => [s.spanId, s]));

  assert.ok(new Set(spans.map(nodeOf)).size >= 2, `spans from both data nodes: ${[...new Set(spans.map(nodeOf))].join(', ')}`);
  // A chunk.put span per chunk and replica on the coordinator, each a descendant of PutObject.
  const chunkPuts = spans.filter((s) => s.name === 'chunk.put');
  assert.is(chunkPuts.length, 3 * 2, 'chunk.put per chunk per replica');
  assert.equal(new Set(chunkPuts.map((s) => s.attributes['cairn.member'])), new Set(['nodes-1', 'nodes-2']));
  assert.ok(
    spans.some((s) => s.name === 'meta.quorum' && s.attributes['cairn.bucket'] === BUCKET),
    'the metadata quorum round',
  );
  // Every remote server span is the child of a client span of the coordinator (the traceparent travelled).
  const remote = spans.filter((s) => nodeOf(s) === 'nodes-2' && s.kind === SERVER);
  assert.ok(remote.length >= 4, `chunk and metadata calls served by nodes-2 (${remote.length})`);
  for (const r of remote) {
    const parent = byId.get(r.parentSpanId);
    assert.ok(parent && parent.kind === CLIENT && nodeOf(parent) === 'nodes-1', `${r.name}: parent is a client span on nodes-1`);
  }
  // Walking up from any span reaches the PutObject span: one tree, not loose pieces.
  for (const s of spans) {
    let cur: ReceivedSpan | undefined = s;
    for (let i = 0; i < 20 && cur && cur.spanId !== put.spanId; i++) cur = byId.get(cur.parentSpanId);
    assert.is(cur?.spanId, put.spanId, `${s.name} on ${nodeOf(s)} hangs under PutObject`);
  }
});

test('a GET is one trace too: a chunk.get span per chunk, also for chunks read while the body streams', async () => {
  const s3 = s3Client(n1);
  let size = 0;
  for await (const b of await s3.getObject(BUCKET, 'traced/key')) size += (b as Buffer).length;
  assert.is(size, 150_000);
  const get = await waitFor(() => receiver.spans.find((s) => s.name === 'GetObject' && s.attributes['cairn.key'] === 'traced/key'), {
    timeoutMs: 10_000,
    what: 'the GetObject span',
  });
  const reads = await waitFor(
    () => {
      const r = receiver.spans.filter((s) => s.traceId === get.traceId && s.name === 'chunk.get');
      return r.length >= 3 ? r : undefined;
    },
    { timeoutMs: 5_000, what: 'three chunk.get spans in the GET trace' },
  );
  assert.is(new Set(reads.map((s) => s.attributes['cairn.chunk'])).size, 3, 'one per chunk');
  assert.ok(
    reads.every((s) => s.parentSpanId === get.spanId),
    'each directly under GetObject',
  );
});

test('background traffic (heartbeats, gossip) does not start traces', async () => {
  // Heartbeats every 250 ms have run throughout; none became a span.
  const background = receiver.spans.filter((s) => /heartbeat|maps/.test(`${s.name} ${JSON.stringify(s.attributes)}`));
  assert.equal(
    background.map((s) => `${nodeOf(s)} ${s.name}`),
    [],
  );
});

test.run();
