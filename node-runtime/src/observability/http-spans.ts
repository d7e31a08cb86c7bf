// One SERVER span per HTTP request, as express middleware: the S3 app gets a span per operation
// (named after it, e.g. `PutObject`), the cluster port a span per RPC that continues the caller's
// trace from its `traceparent` header. Everything the handler does (chunk writes, quorum rounds,
// outgoing RPC with `injectTraceHeaders`) happens inside the span's context, so it nests.
// With tracing off the span is the API's no-op span: the middleware costs a few calls.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { extractTraceContext, tracingActive } from './tracing.ts';
import { s3OperationOf } from './request-metrics.ts';

export interface RequestSpanOptions {
  /** Continue the trace of an incoming `traceparent` (cluster port: yes; file API: no, clients are not trusted to pick our trace). */
  continueTrace?: boolean;
  /** Prefix of the span name when no S3 operation was named, e.g. `rpc` → `rpc POST /chunks/:id`. */
  prefix?: string;
}

export function requestSpans(opts: RequestSpanOptions = {}): RequestHandler {
  const tracer = trace.getTracer('cairn');
  return (req: Request, res: Response, next: NextFunction) => {
    if (!tracingActive()) {
      next();
      return;
    } // no SDK: no span to make (a no-op one still cost a listener per request)
    const parent = opts.continueTrace ? extractTraceContext(req.headers) : context.active();
    const span = tracer.startSpan(
      `${opts.prefix ?? 'http'} ${req.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method },
      },
      parent,
    );
    res.once('close', () => {
      // Named at the end: the operation and the route pattern (never the raw path: it holds keys) are known by now.
      const route = (req.route as { path?: string } | undefined)?.path;
      const op = s3OperationOf(res);
      span.updateName(op ?? `${opts.prefix ?? 'http'} ${req.method}${route ? ` ${req.baseUrl}${route}` : ''}`);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (!res.writableFinished) span.setAttribute('cairn.client_aborted', true);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
