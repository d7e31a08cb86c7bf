// A second process for tracing.test.ts: a tiny "storage node" whose cluster port serves one
// internal RPC (POST /chunk/:id) behind the same middleware the real cluster port uses, so its
// span continues the caller's trace. Prints `listening <url>`; flushes spans and exits on SIGTERM.
import express from 'express';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { requestSpans } from '../src/observability/http-spans.ts';
import { startTracing, stopTracing, withSpan } from '../src/observability/tracing.ts';

const host = process.argv[2] ?? '127.0.0.1';
const tracing = await startTracing({ serviceName: 'cairn-peer', attributes: { 'cairn.node': 'nodes-1' } });
if (!tracing.enabled) throw new Error('trace-peer expects OTEL_EXPORTER_OTLP_ENDPOINT to be set');

const app = express();
app.use(requestSpans({ continueTrace: true, prefix: 'rpc' }));
app.post('/chunk/:id', async (req, res) => {
  // `await` keeps the request's trace context; a plain req.on('end', cb) callback would not.
  req.resume();
  await once(req, 'end');
  await withSpan('chunk.fsync', { 'cairn.chunk': req.params.id }, async () => {
    /* the durable write would happen here */
  });
  res.status(204).end();
});
const server = app.listen(0, host, () => {
  process.stdout.write(`listening http://${host}:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  void stopTracing().then(() => process.exit(0));
});
