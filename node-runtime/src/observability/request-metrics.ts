// Request instrumentation: an express middleware that records every S3 request (count, latency,
// time to first byte, bytes in/out) and a wrapper that times internal RPC calls. The S3 router only
// has to name the operation (`setS3Operation`); everything else is measured here.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Socket } from 'node:net';
import { s3Operation, type NodeMetrics, type S3Operation } from './metrics.ts';

const operationKey = Symbol('cairn.s3Operation');
// Socket byte counters at the end of the previous request on the same keep-alive connection, so
// each request is charged exactly the bytes read/written since then (its headers and body).
const socketMark = Symbol('cairn.socketMark');
type MarkedSocket = Socket & { [socketMark]?: { read: number; written: number } };

/** Tell the metrics which S3 operation this request is (call as soon as the router knows it).
 *  Names outside `s3Operations` are recorded as `Unknown`. */
export function setS3Operation(res: Response, operation: string): void {
  (res as Response & { [operationKey]?: S3Operation })[operationKey] = s3Operation(operation);
}

/** The operation named with `setS3Operation`, if any. */
export function s3OperationOf(res: Response): S3Operation | undefined {
  return (res as Response & { [operationKey]?: S3Operation })[operationKey];
}

export interface S3RequestSample {
  operation: string;
  code: number;
  seconds: number;
  ttfbSeconds?: number; // undefined when no header was ever sent
  bytesIn: number;
  bytesOut: number;
}

/** Record one finished S3 request (the middleware calls this). */
function recordS3Request(m: NodeMetrics, s: S3RequestSample): void {
  const operation = s3Operation(s.operation);
  m.s3Requests.inc({ operation, code: String(s.code) });
  m.s3RequestDuration.observe({ operation }, s.seconds);
  if (s.ttfbSeconds !== undefined) m.s3TimeToFirstByte.observe({ operation }, s.ttfbSeconds);
  if (s.bytesIn > 0) m.s3BytesReceived.inc({ operation }, s.bytesIn);
  if (s.bytesOut > 0) m.s3BytesSent.inc({ operation }, s.bytesOut);
}

/**
 * Express middleware recording every request of the S3 app in `metrics`; mount it first
 * (`app.use(s3RequestMetrics(metrics))`). A request whose client disconnects before the response
 * finished is counted with code 499 (nginx's "client closed request").
 */
export function s3RequestMetrics(metrics: NodeMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    let headersAt: bigint | undefined;
    // Headers leave with the first writeHead (explicit or implicit via write/end): that is the first byte.
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: unknown[]) {
      headersAt ??= process.hrtime.bigint();
      return (writeHead as (...a: unknown[]) => Response).apply(this, args);
    } as typeof res.writeHead;

    let done = false;
    res.once('close', () => {
      if (done) return;
      done = true;
      const socket = req.socket as MarkedSocket;
      const mark = socket[socketMark] ?? { read: 0, written: 0 };
      const read = socket.bytesRead ?? mark.read;
      const written = socket.bytesWritten ?? mark.written;
      socket[socketMark] = { read, written };
      const toSeconds = (t: bigint) => Number(t - started) / 1e9;
      recordS3Request(metrics, {
        operation: s3OperationOf(res) ?? 'Unknown',
        code: res.writableFinished ? res.statusCode : 499,
        seconds: toSeconds(process.hrtime.bigint()),
        ttfbSeconds: headersAt === undefined ? undefined : toSeconds(headersAt),
        bytesIn: Math.max(0, read - mark.read),
        bytesOut: Math.max(0, written - mark.written),
      });
    });
    next();
  };
}

/**
 * Time one internal RPC call: records latency by peer (member name) and method, and counts the
 * call as an error when `fn` rejects. `method` is the route name (e.g. `chunk.put`), never a path
 * with ids in it; unexpected values are folded into `other` by `boundedLabel`. Without metrics
 * (a client that reports nowhere) it only runs `fn`.
 */
export async function timeRpc<T>(metrics: NodeMetrics | undefined, peer: string, method: string, fn: () => Promise<T>): Promise<T> {
  if (!metrics) return fn();
  const labels = { peer: metrics.boundedLabel('peer', peer), method: metrics.boundedLabel('method', method) };
  const end = metrics.rpcDuration.startTimer(labels);
  try {
    return await fn();
  } catch (e) {
    metrics.rpcErrors.inc(labels);
    throw e;
  } finally {
    end();
  }
}
