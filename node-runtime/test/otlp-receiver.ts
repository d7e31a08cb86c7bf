// Test support: a minimal in-process OTLP/HTTP trace receiver (what an OpenTelemetry Collector
// offers on :4318/v1/traces). It accepts both encodings the SDK's exporters send — protobuf
// (http/protobuf, the default) and JSON (http/json) — and keeps the received spans in memory so a
// test can assert that spans of several processes form one trace. Never used by the product.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

export interface ReceivedSpan {
  service: string; // resource attribute service.name
  resource: Record<string, unknown>;
  traceId: string; // hex
  spanId: string; // hex
  parentSpanId: string; // hex, '' for a root span
  name: string;
  kind: number; // OTLP SpanKind: 1 internal, 2 server, 3 client
  attributes: Record<string, unknown>;
  statusCode: number; // 0 unset, 1 ok, 2 error
}

export interface OtlpReceiver {
  /** Base URL to use as OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  url: string;
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

// The subset of opentelemetry/proto (collector/trace/v1, trace/v1, common/v1, resource/v1) that
// carries what tests look at; protobuf skips the fields not listed here.
const kv = { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } };
const root = protobuf.Root.fromJSON({
  nested: {
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
    ResourceSpans: { fields: { resource: { type: 'Resource', id: 1 }, scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 } } },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    ScopeSpans: { fields: { spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    KeyValue: kv,
    AnyValue: {
      oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue'] } },
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
      },
    },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        parentSpanId: { type: 'bytes', id: 4 },
        name: { type: 'string', id: 5 },
        kind: { type: 'int32', id: 6 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
        status: { type: 'Status', id: 15 },
      },
    },
    Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
  },
});
const requestType = root.lookupType('ExportTraceServiceRequest');

interface AnyValueJson {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
interface KeyValueJson {
  key: string;
  value?: AnyValueJson;
}
interface SpanJson {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number | string;
  attributes?: KeyValueJson[];
  status?: { code?: number | string };
}
interface RequestJson {
  resourceSpans?: { resource?: { attributes?: KeyValueJson[] }; scopeSpans?: { spans?: SpanJson[] }[] }[];
}

function attrs(list: KeyValueJson[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) {
    const v = a.value ?? {};
    out[a.key] = v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue);
  }
  return out;
}

/** Hex ids: protobuf decoding (toObject with bytes: String) yields base64, OTLP/JSON carries hex. */
function hexId(id: string | undefined, encoding: 'base64' | 'hex'): string {
  if (!id) return '';
  return encoding === 'hex' ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

/** Pure: the spans of one export request body. */
export function decodeExport(body: Buffer, contentType: string): ReceivedSpan[] {
  let req: RequestJson;
  let encoding: 'base64' | 'hex';
  if (contentType.includes('json')) {
    req = JSON.parse(body.toString('utf8')) as RequestJson;
    encoding = 'hex';
  } else {
    req = requestType.toObject(requestType.decode(body), { bytes: String, longs: String, enums: Number, defaults: false }) as RequestJson;
    encoding = 'base64';
  }
  const spans: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          service: String(resource['service.name'] ?? ''),
          resource,
          traceId: hexId(s.traceId, encoding),
          spanId: hexId(s.spanId, encoding),
          parentSpanId: hexId(s.parentSpanId, encoding),
          name: s.name ?? '',
          kind: Number(s.kind ?? 0),
          attributes: attrs(s.attributes),
          statusCode: Number(s.status?.code ?? 0),
        });
      }
    }
  }
  return spans;
}

/** Start a receiver on `host` (a loopback address) and an ephemeral port. */
export async function startOtlpReceiver(host: string): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const type = req.headers['content-type'] ?? '';
      try {
        spans.push(...decodeExport(Buffer.concat(parts), type));
      } catch (e) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode export: ${String(e)}`);
        return;
      }
      // An empty ExportTraceServiceResponse is an empty body in both encodings ("{}" for JSON).
      if (type.includes('json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    spans,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
