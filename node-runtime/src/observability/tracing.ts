// Tracing: OpenTelemetry spans for S3 operations, chunk and metadata replica calls, repair work
// and reconciles, exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-only
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Unset, the SDK is never even loaded: the API's
// global tracer is the no-op one, so `withSpan` costs a function call and headers carry nothing.
// The W3C trace context travels on internal RPC (`injectTraceHeaders` / `extractTraceContext`),
// so one PUT is one trace across the coordinator and every node that stored a chunk.
import {
  context,
  propagation,
  trace,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { logger } from '../util/log.ts';

const log = logger('tracing');
const tracerName = 'cairn';

export { SpanKind };
export type { Span, Attributes };

export interface TracingOptions {
  /** service.name when OTEL_SERVICE_NAME is unset, e.g. `cairn-node`, `cairn-operator`. */
  serviceName: string;
  /** Resource attributes naming this process, e.g. { 'service.instance.id': memberId, 'cairn.node': name }. */
  attributes?: Attributes;
}

export interface Tracing {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  /** Flush pending spans and stop the exporter (call on process stop; safe to call twice). */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** Whether the environment asks for trace export. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Start the OpenTelemetry SDK once per process when OTLP export is configured, else do nothing.
 * Honours the standard OTEL_* variables (protocol http/protobuf by default, `grpc` and `http/json`
 * via OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, sampler via OTEL_TRACES_SAMPLER). Only traces are
 * exported: metrics stay on Prometheus (/metrics) and logs on stdout.
 */
export function startTracing(opts: TracingOptions): Promise<Tracing> {
  starting ??= start(opts).finally(() => {
    starting = undefined;
  });
  return active ? Promise.resolve(active) : starting;
}

let starting: Promise<Tracing> | undefined;

async function start(opts: TracingOptions): Promise<Tracing> {
  if (active) return active;
  const env = process.env; // the SDK itself reads its OTEL_* settings from process.env too
  if (!tracingRequested(env)) {
    active = {
      enabled: false,
      shutdown: async () => {
        active = undefined;
      },
    };
    return active;
  }
  const [{ NodeSDK }, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/resources')]);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ? undefined : opts.serviceName,
    resource: resourceFromAttributes(opts.attributes ?? {}),
    metricReaders: [], // metrics are Prometheus-scraped, not pushed
    logRecordProcessors: [], // logs are JSON lines on stdout
  });
  sdk.start();
  let stopped = false;
  active = {
    enabled: true,
    async shutdown() {
      if (stopped) return;
      stopped = true;
      active = undefined;
      try {
        await sdk.shutdown();
      } catch (e) {
        log.warn({ err: e }, 'trace exporter shutdown failed; pending spans dropped');
      }
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
  log.info({ endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing enabled (OTLP export)');
  return active;
}

/** True while the SDK is started and exporting: without it every span is a no-op, and hot paths skip making them. */
export function tracingActive(): boolean {
  return active?.enabled === true;
}

/** What `fn` gets when tracing is off: a span that records nothing. */
const noSpan: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Stop tracing if it was started (flushes spans). */
export async function stopTracing(): Promise<void> {
  await active?.shutdown();
}

/**
 * Run `fn` inside a new active span named `name`: child spans and injected headers inside `fn`
 * belong to it. The span ends when `fn` settles; a throw marks it as an error and is rethrown.
 * Names are operation names (`PutObject`, `chunk.put`, `meta.quorum`, `repair.chunk`, `reconcile`),
 * attributes carry the ids (bucket, key, chunk id, peer): spans, unlike metric labels, may hold them.
 */
export function withSpan<T>(name: string, attrs: Attributes, fn: (span: Span) => T | Promise<T>, opts: { kind?: SpanKind; parent?: Context } = {}): Promise<T> {
  if (!tracingActive()) return (async () => fn(noSpan))();
  const tracer = trace.getTracer(tracerName);
  return tracer.startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: attrs }, opts.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e instanceof Error ? e : String(e));
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      span.end();
    }
  });
}

/** Add the current trace context (W3C `traceparent`/`tracestate`) to outgoing RPC headers; returns them. */
export function injectTraceHeaders<H extends Record<string, string>>(headers: H = {} as H): H & { traceparent?: string; tracestate?: string } {
  propagation.inject(context.active(), headers);
  return headers;
}

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

const headerGetter: TextMapGetter<HeaderBag> = {
  keys: (carrier) => (carrier instanceof Headers ? [...carrier.keys()] : Object.keys(carrier)),
  get: (carrier, key) => {
    if (carrier instanceof Headers) return carrier.get(key) ?? undefined;
    const v = carrier[key] ?? carrier[key.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  },
};

/** The remote parent context from incoming RPC headers (node's `req.headers` or a fetch `Headers`). */
export function extractTraceContext(headers: HeaderBag): Context {
  return propagation.extract(context.active(), headers, headerGetter);
}

/**
 * Serve an incoming RPC as a SERVER span that continues the caller's trace:
 * `withRemoteSpan('chunk.put', req.headers, { 'cairn.chunk': id }, async () => ...)`.
 */
export function withRemoteSpan<T>(name: string, headers: HeaderBag, attrs: Attributes, fn: (span: Span) => T | Promise<T>): Promise<T> {
  return withSpan(name, attrs, fn, { kind: SpanKind.SERVER, parent: extractTraceContext(headers) });
}

/** The current trace id (for logs), or undefined outside a recorded span. */
export function currentTraceId(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}
