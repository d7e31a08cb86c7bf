// Internal RPC client: one undici keep-alive Pool per peer (bounded connections = bounded
// concurrency; extra calls queue in the pool), the cluster secret on every call, per-call timeouts,
// and retries with exponential backoff and jitter only for idempotent calls whose body can be sent
// again. Failures come back as the same error types the local stores throw (wire.ts), so a
// coordinator handles a remote replica exactly like a local one.
import { Pool, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { logger } from '../util/log.ts';
import { s3Error } from '../util/errors.ts';
import { errorFromWire, type ErrorFromWire, type WireError } from './wire.ts';
import { timeRpc } from '../observability/request-metrics.ts';
import { injectTraceHeaders, SpanKind, withSpan } from '../observability/tracing.ts';
import { requestIdHeaders } from '../observability/request-id.ts';
import { trace } from '@opentelemetry/api';
import type { NodeMetrics } from '../observability/metrics.ts';

const log = logger('rpc');

export interface RpcClientOptions {
  secret: string;
  connectionsPerPeer?: number; // default 32
  timeoutMs?: number; // headers and body idle timeout, default 10 s
  retries?: number; // extra attempts for idempotent calls, default 2
  /** Where calls are timed and failures counted (the node's metrics); none: not reported. */
  metrics?: NodeMetrics;
}

export interface CallOptions {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  path: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: Buffer | Readable;
  idempotent?: boolean;
  timeoutMs?: number;
  /** For metrics: the peer's member name (default its host:port) and a short operation name. */
  peerName?: string;
  op?: string;
  signal?: AbortSignal;
  /** How an error answer becomes an error here (default: an S3Error); a layer with its own error types passes its decoder. */
  errorFromWire?: ErrorFromWire;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

// Errors worth another attempt: a kept-alive connection the peer closed just as we used it, or a
// 503. Not a refused connection or a timeout: the peer is down or stuck, and the coordinator does
// better failing over to another replica at once than waiting through backoff for this one.
const transientCodes = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

export class RpcClient {
  readonly #pools = new Map<string, Pool>();
  readonly #opts: Required<Omit<RpcClientOptions, 'metrics'>>;
  readonly #metrics: NodeMetrics | undefined;
  #closed = false;
  /** Member name of a peer URL for the metrics' `peer` label when a call names none (heartbeats to
   *  roots given by URL); set by the cluster wiring from its map. Unknown peers keep host:port. */
  peerNameOf: ((url: string) => string | undefined) | undefined;
  /** Told whether each call reached its peer (any HTTP answer) or not (refused, timed out; not a
   *  call the caller cancelled): the cluster wiring's evidence of which members are gone. */
  onPeerOutcome: ((url: string, reached: boolean) => void) | undefined;

  constructor(opts: RpcClientOptions) {
    const { metrics, ...rest } = opts;
    this.#opts = { connectionsPerPeer: 32, timeoutMs: 10_000, retries: 2, ...rest };
    this.#metrics = metrics;
  }

  #pool(base: string): Pool {
    const origin = new URL(base).origin;
    let p = this.#pools.get(origin);
    if (!p) {
      p = new Pool(origin, { connections: this.#opts.connectionsPerPeer, keepAliveTimeout: 30_000, connect: { timeout: 3_000 } });
      this.#pools.set(origin, p);
    }
    return p;
  }

  /** A call whose response body the caller consumes (streams). Rejects on non-2xx with the mapped error. */
  async raw(peer: string, o: CallOptions): Promise<RawResponse> {
    if (this.#closed) throw s3Error('ServiceUnavailable', 'RPC client closed');
    const canRetry = o.idempotent === true && !(o.body && !Buffer.isBuffer(o.body));
    const attempts = canRetry ? 1 + this.#opts.retries : 1;
    const timeout = o.timeoutMs ?? this.#opts.timeoutMs;
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await backoff(i, o.signal);
      try {
        const labels = {
          peer: o.peerName ?? this.peerNameOf?.(peer) ?? new URL(peer).host,
          op: o.op ?? `${o.method} ${o.path.split('/').slice(0, 4).join('/')}`,
        };
        const res = await timeRpc(this.#metrics, labels.peer, labels.op, () =>
          traced(labels.op, labels.peer, () =>
            this.#pool(peer).request({
              path: o.path,
              method: o.method,
              // The trace context and the request id travel with the call, so the peer's work nests
              // under the caller's span and its log lines carry the coordinator's request id.
              headers: requestIdHeaders(
                injectTraceHeaders({
                  authorization: `Bearer ${this.#opts.secret}`,
                  ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}),
                  ...o.headers,
                }),
              ),
              body: o.json !== undefined ? JSON.stringify(o.json) : o.body,
              headersTimeout: timeout,
              bodyTimeout: timeout,
              signal: o.signal,
            }),
          ),
        );
        this.onPeerOutcome?.(peer, true);
        const m = this.#metrics;
        if (res.statusCode >= 500 && m) m.rpcErrors.inc({ peer: m.boundedLabel('peer', labels.peer), method: m.boundedLabel('method', labels.op) });
        if (res.statusCode < 300) return { status: res.statusCode, headers: res.headers, body: res.body };
        const text = await res.body.text();
        let wire: WireError | undefined;
        try {
          wire = (JSON.parse(text) as { error?: WireError }).error;
        } catch {
          /* plain text body */
        }
        const err = (o.errorFromWire ?? errorFromWire)(
          wire ?? { code: res.statusCode === 401 ? 'AccessDenied' : 'InternalError', message: text || `HTTP ${res.statusCode}` },
          res.statusCode,
        );
        if (res.statusCode === 503 && i + 1 < attempts) {
          lastErr = err;
          continue;
        }
        throw err;
      } catch (e) {
        if (o.signal?.aborted) throw e;
        const code = (e as { code?: string }).code ?? '';
        if (unreachableCodes.has(code)) {
          this.onPeerOutcome?.(peer, false);
          throw unreachable(peer, e);
        }
        if (!transientCodes.has(code)) throw e;
        lastErr = e;
        log.debug({ peer, path: o.path, code, attempt: i + 1 }, 'rpc attempt failed');
      }
    }
    throw unreachable(peer, lastErr);
  }

  /** A JSON call: sends `json`, parses the JSON answer (undefined for an empty body). */
  async json<T>(peer: string, o: CallOptions): Promise<T> {
    const res = await this.raw(peer, o);
    const text = await res.body.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}

// A CLIENT span per call, but only inside a traced operation (an S3 request, a repair item):
// background traffic (heartbeats, gossip) would otherwise start a new trace per member per second.
function traced<T>(op: string, peer: string, fn: () => Promise<T>): Promise<T> {
  return trace.getActiveSpan() ? withSpan(`rpc ${op}`, { 'cairn.peer': peer }, fn, { kind: SpanKind.CLIENT }) : fn();
}

function unreachable(peer: string, cause: unknown): Error {
  if ((cause as { name?: string })?.name === 'S3Error' || (cause as { name?: string })?.name === 'ChunkError') return cause as Error;
  return s3Error('ServiceUnavailable', `cluster peer ${peer} unreachable: ${(cause as Error)?.message ?? cause}`, { cause });
}

function backoff(attempt: number, signal?: AbortSignal): Promise<void> {
  const ms = Math.min(2_000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random());
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
