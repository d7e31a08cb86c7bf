// Tracing across processes: this process plays the coordinator of a PUT and calls a second process
// (node-runtime/test/trace-peer.ts) over HTTP with injected trace headers; both export over OTLP to an
// in-process receiver. The coordinator exports protobuf (the default), the peer JSON, so both
// encodings are exercised. The test asserts that all spans form one trace with correct parents.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/otlp-receiver.ts';
import { SpanKind, currentTraceId, extractTraceContext, injectTraceHeaders, startTracing, stopTracing, withRemoteSpan, withSpan } from './tracing.ts';
import { requestSpans } from './http-spans.ts';
import { s3RequestMetrics, setS3Operation } from './request-metrics.ts';
import { NodeMetrics } from './metrics.ts';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { trace } from '@opentelemetry/api';

const peerScript = fileURLToPath(new URL('../../test/trace-peer.ts', import.meta.url));

test('without OTEL_EXPORTER_OTLP_ENDPOINT tracing is a no-op', async () => {
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const t = await startTracing({ serviceName: 'cairn-test' });
  assert.is(t.enabled, false);
  const r = await withSpan('PutObject', { 'cairn.bucket': 'b' }, (span) => {
    assert.is(span.isRecording(), false);
    return injectTraceHeaders({} as Record<string, string>);
  });
  assert.equal(r, {}, 'no trace headers are sent when tracing is off');
  await assert.not.throws(() =>
    withSpan('x', {}, () => {
      throw new Error('still rethrown');
    }).catch((e: Error) => assert.is(e.message, 'still rethrown')),
  );
  await t.shutdown();
});

test('one PUT is one trace across two processes', async () => {
  const host = loopbackAddress();
  let receiver: OtlpReceiver | undefined;
  let peer: ChildProcess | undefined;
  let server: Server | undefined;
  try {
    receiver = await startOtlpReceiver(host);
    peer = spawn(process.execPath, [peerScript, loopbackAddress()], {
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    peer.stdout!.on('data', (d) => (out += d));
    const peerUrl = await waitFor(() => /listening (\S+)/.exec(out)?.[1], { timeoutMs: 15_000, what: 'the peer process to listen' });

    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const t = await startTracing({ serviceName: 'cairn-coordinator', attributes: { 'cairn.node': 'nodes-0' } });
    assert.is(t.enabled, true);

    // The coordinator: the file API with the real middlewares; its handler writes a chunk to the peer.
    let traceId = '';
    let clientSpanId = '';
    const app = express();
    let requestsDone = 0;
    app.use(s3RequestMetrics(new NodeMetrics()), requestSpans(), (_req, res, next) => {
      res.once('close', () => requestsDone++);
      next();
    });
    let sentTraceparent = '';
    app.put('/:bucket/:key', (req, res) => {
      setS3Operation(res, 'PutObject');
      req.resume();
      void withSpan(
        'rpc chunk.put',
        { 'cairn.peer': 'nodes-1' },
        async (span) => {
          traceId = currentTraceId()!;
          clientSpanId = span.spanContext().spanId;
          const headers = injectTraceHeaders({ 'content-type': 'application/octet-stream' });
          sentTraceparent = headers.traceparent ?? '';
          const r = await fetch(`${peerUrl}/chunk/abc123`, { method: 'POST', headers, body: 'bytes' });
          res.status(r.status === 204 ? 200 : 500).end();
        },
        { kind: SpanKind.CLIENT },
      );
    });
    server = app.listen(0, host);
    await once(server, 'listening');
    const put = await fetch(`http://${host}:${(server.address() as AddressInfo).port}/photos/cat.jpg`, { method: 'PUT', body: 'bytes' });
    assert.is(put.status, 200);
    assert.match(sentTraceparent, new RegExp(`^00-${traceId}-${clientSpanId}-01$`), 'W3C traceparent of the client span');
    await waitFor(() => requestsDone === 1, { what: 'the request span to end' });

    // A remote parent given by headers (the RPC server side without middleware).
    const remote = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await withRemoteSpan('meta.put', { traceparent: remote }, { 'cairn.bucket': 'photos' }, () => undefined);

    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    assert.is(trace.getSpanContext(extractTraceContext({ traceparent: tp }))?.spanId, 'b7ad6b7169203331', 'node req.headers shape');
    assert.is(trace.getSpanContext(extractTraceContext(new Headers({ traceparent: tp })))?.traceId, '0af7651916cd43dd8448eb211c80319c', 'fetch Headers shape');
    await t.shutdown(); // flushes the coordinator's spans
    peer.kill('SIGTERM'); // the peer flushes on SIGTERM
    await once(peer, 'exit');

    const spans = await waitFor(() => (receiver!.spans.length >= 5 ? receiver!.spans : undefined), { timeoutMs: 10_000, what: 'five spans at the receiver' });
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    const putTrace = spans.filter((s) => s.name !== 'meta.put');
    assert.equal([...new Set(putTrace.map((s) => s.traceId))], [traceId], 'every span of the PUT belongs to one trace');
    assert.is(byName['PutObject'].service, 'cairn-coordinator');
    assert.is(byName['PutObject'].kind, 2, 'the file API request is a SERVER span named after the operation');
    assert.is(byName['PutObject'].parentSpanId, '');
    assert.is(byName['PutObject'].attributes['http.response.status_code'], 200);
    assert.is(byName['rpc chunk.put'].parentSpanId, byName['PutObject'].spanId);
    const peerSpan = byName['rpc POST /chunk/:id'];
    assert.ok(peerSpan, `the peer's request span is named by route: ${spans.map((s) => s.name).join(', ')}`);
    assert.is(peerSpan.service, 'cairn-peer');
    assert.is(peerSpan.kind, 2);
    assert.is(peerSpan.parentSpanId, clientSpanId, 'the peer continues the caller span');
    assert.is(byName['chunk.fsync'].parentSpanId, peerSpan.spanId);
    assert.is(byName['chunk.fsync'].attributes['cairn.chunk'], 'abc123');
    assert.is.not(peerSpan.resource['process.pid'], byName['PutObject'].resource['process.pid'], 'spans come from two processes');
    assert.is(byName['meta.put'].traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.is(byName['meta.put'].parentSpanId, 'b7ad6b7169203331');
  } finally {
    server?.closeAllConnections();
    server?.close();
    peer?.kill('SIGKILL');
    await stopTracing();
    await receiver?.close();
  }
});

test('after stopTracing, incoming trace headers are ignored (zero cost when off)', () => {
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.is(trace.getSpanContext(extractTraceContext({ traceparent: tp })), undefined);
  assert.is(trace.getSpanContext(extractTraceContext(new Headers({ traceparent: tp }))), undefined);
});

test.run();
