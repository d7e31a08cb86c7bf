// What a node does past its capacity on the file API. Without limits an overloaded node takes every
// connection and every request, queues them in memory (sockets, parsers, request state, RPC queues
// towards its peers) and answers them all late; memory grows with the backlog and clients time out
// on requests the node is still working on. Instead the node refuses, early and cheaply, what it
// cannot start now, with 503 SlowDown and `Retry-After` (S3 clients back off and retry):
// - connections beyond `maxConnections`: answered and closed as they are accepted, nothing parsed;
// - requests beyond `maxRequests` in progress: answered before any of their body is read;
// - uploads while `maxMemoryWaiters` writers already wait for chunk memory (chunks/memory.ts), or
//   the first of them has waited longer than `maxMemoryWaitMs`: an upload's memory is bounded by the
//   budget; the queue waiting for it is bounded here, in length and in delay (as CoDel bounds a
//   queue by the time its head has waited, not only by its length).
// Requests it accepts therefore run with bounded memory and latency whatever the offered load.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { MemoryBudget } from '../chunks/memory.ts';
import type { NodeMetrics } from '../observability/metrics.ts';

export interface AdmissionLimits {
  /** Open connections on the file API. */
  maxConnections: number;
  /** Requests in progress (from their headers to the end of their answer). */
  maxRequests: number;
  /** Writers waiting for chunk memory before a new upload is refused. */
  maxMemoryWaiters: number;
  /** How long the first writer in line may have waited for chunk memory before a new upload is refused. */
  maxMemoryWaitMs: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = { maxConnections: 4096, maxRequests: 256, maxMemoryWaiters: 32, maxMemoryWaitMs: 250 };

export type RejectReason = 'connections' | 'requests' | 'memory';

const RETRY_AFTER_S = 1;
/** Bodies of refused requests up to this size are read and dropped, larger ones close the connection. */
const DROP_BODY_MAX = 64 * 1024;
const slowDownXml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
// The whole answer to a connection refused at accept time: written as is, nothing is parsed.
const slowDownRaw = `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nRetry-After: ${RETRY_AFTER_S}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(slowDownXml)}\r\n\r\n${slowDownXml}`;

export class Admission {
  readonly limits: AdmissionLimits;
  readonly #memory: MemoryBudget | undefined;
  readonly #metrics: NodeMetrics | undefined;
  #connections = 0;
  #requests = 0;
  /** The most requests ever in progress at once (tests and the overload bench read it). */
  peakRequests = 0;

  constructor(o: { limits?: Partial<AdmissionLimits>; memory?: MemoryBudget; metrics?: NodeMetrics } = {}) {
    this.limits = { ...DEFAULT_ADMISSION, ...Object.fromEntries(Object.entries(o.limits ?? {}).filter(([, v]) => v !== undefined)) };
    this.#memory = o.memory;
    this.#metrics = o.metrics;
  }

  get requests(): number {
    return this.#requests;
  }
  get connections(): number {
    return this.#connections;
  }

  /** Count `srv`'s connections; refuse those beyond the limit as they arrive. */
  watch(srv: Server): void {
    srv.on('connection', (socket: Socket) => {
      if (this.#connections >= this.limits.maxConnections) {
        this.#rejected('connections');
        socket.on('error', () => {});
        socket.end(slowDownRaw);
        socket.setTimeout(5_000, () => socket.destroy());
        return;
      }
      this.#connections++;
      socket.once('close', () => {
        this.#connections--;
      });
    });
  }

  /** `handler` behind the request limits. */
  wrap(handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      if (req.socket.destroyed) return; // refused at accept time: already answered
      const reason = this.#refusal(req);
      if (reason) {
        this.#rejected(reason);
        // A large body we are not going to read: close rather than read and drop it. A small one is
        // dropped as it arrives (Node does), which costs less than the client's new connection.
        const length = Number(req.headers['content-length'] ?? 0);
        const bulky = length > DROP_BODY_MAX || req.headers['transfer-encoding'] !== undefined;
        res.writeHead(503, {
          'content-type': 'application/xml',
          'retry-after': String(RETRY_AFTER_S),
          'content-length': Buffer.byteLength(slowDownXml),
          ...(bulky ? { connection: 'close' } : {}),
        });
        res.end(slowDownXml);
        return;
      }
      this.#requests++;
      if (this.#requests > this.peakRequests) this.peakRequests = this.#requests;
      this.#metrics?.s3InFlight.set(this.#requests);
      res.once('close', () => {
        this.#requests--;
        this.#metrics?.s3InFlight.set(this.#requests);
      });
      handler(req, res);
    };
  }

  #refusal(req: IncomingMessage): RejectReason | undefined {
    if (this.#requests >= this.limits.maxRequests) return 'requests';
    // Only uploads need chunk memory; a small body is kept inline and takes none.
    const length = Number(req.headers['content-length'] ?? req.headers['x-amz-decoded-content-length'] ?? 0);
    if (
      this.#memory &&
      (req.method === 'PUT' || req.method === 'POST') &&
      length > 64 * 1024 &&
      (this.#memory.waiters >= this.limits.maxMemoryWaiters || this.#memory.oldestWaitMs > this.limits.maxMemoryWaitMs)
    )
      return 'memory';
    return undefined;
  }

  #rejected(reason: RejectReason): void {
    this.#metrics?.s3Rejected.inc({ reason });
  }
}
