// The two listening ports of a node: plain node:http servers (the file API hands each request
// straight to the S3 app; the cluster port serves an express app), with timeouts that let large
// uploads take their time but never let a silent client hold a connection (and what its request
// holds) forever, and a clean close that lets requests in flight finish for a grace period.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { deferContinue } from '../util/continue.ts';

/**
 * How long a client may keep the server waiting. `idleMs` is the one a stalled client meets: a
 * connection on which nothing moves for that long is closed while the client owes the server bytes
 * (headers, the rest of a body) or does not read the answer; a request the server itself is still
 * working on (a quorum write, a long poll) is never cut by it.
 */
export interface ServerTimeouts {
  /** The request line and headers must arrive within this (slowloris). */
  headersMs: number;
  /** A whole request, headers and body, must arrive within this (a 5 GiB PUT at 2 MB/s fits). */
  requestMs: number;
  /** Nothing received or sent for this long while the client owes bytes or does not read: closed. */
  idleMs: number;
  /** An idle kept-alive connection between requests is closed after this (longer than clients' own). */
  keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 20_000, requestMs: 3_600_000, idleMs: 30_000, keepAliveMs: 65_000 };

export function parseHostPort(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`invalid HOST:PORT ${JSON.stringify(s)}`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  const port = m[3] !== undefined ? Number(m[3]) : defaultPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port in ${JSON.stringify(s)}`);
  return { host, port };
}

/** `host` as it appears in a URL (IPv6 literals in brackets). */
export const urlHost = (h: string) => (h.includes(':') ? `[${h}]` : h);

/** `deferContinue`: the handler sends `100 Continue` itself (util/continue.ts), once it has let the request through. */
export function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host: string,
  port: number,
  timeouts: Partial<ServerTimeouts> = {},
  opts: { deferContinue?: boolean } = {},
): Promise<Server> {
  const t = { ...DEFAULT_TIMEOUTS, ...timeouts };
  return new Promise((resolve, reject) => {
    // Node checks the header and request limits every `connectionsCheckingInterval` (30 s by default,
    // which would let a slowloris client live up to 50 s with a 20 s limit).
    const srv = createServer({ connectionsCheckingInterval: Math.min(1_000, t.headersMs / 2) }, handler);
    srv.once('error', reject);
    srv.listen(port, host, () => resolve(srv));
    srv.headersTimeout = t.headersMs;
    srv.requestTimeout = t.requestMs;
    srv.keepAliveTimeout = t.keepAliveMs;
    closeStalledConnections(srv, t.idleMs);
    // With a checkContinue listener Node sends no 100 by itself (and ends the connection after a
    // final answer sent without one, so a body the client then sends is never taken as a request).
    if (opts.deferContinue)
      srv.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
        deferContinue(res);
        srv.emit('request', req, res);
      });
    srv.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // A client that half-closes its side in the middle of a body: the request in flight sees the
      // short body and answers IncompleteBody itself, so leave the socket to it (Node's default
      // handler would answer a bare 400 and cut it).
      if (err.code === 'HPE_INVALID_EOF_STATE' && socket.writable) {
        socket.setTimeout(30_000, () => socket.destroy());
        return;
      }
      if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      socket.destroy();
    });
  });
}

/**
 * The idle rule of ServerTimeouts. Node's socket timeout fires after `idleMs` without traffic; with a
 * listener of our own, what happens then is decided here: a request whose body has fully arrived and
 * whose answer is not stuck in the socket is the server's own work, and waits; anything else (a body
 * that stopped coming, an answer the client does not read, a kept-alive connection with no request)
 * is closed.
 */
function closeStalledConnections(srv: Server, idleMs: number): void {
  const serving = new WeakMap<Socket, IncomingMessage>();
  srv.timeout = idleMs;
  srv.on('request', (req: IncomingMessage, res: ServerResponse) => {
    serving.set(req.socket, req);
    res.once('close', () => {
      if (serving.get(req.socket) === req) serving.delete(req.socket);
    });
    // Answered before the body arrived (an error, a reclaimed upload): Node reads and drops the rest
    // of the body and would then wait the keep-alive time; a client that sends nothing more is
    // closed after the idle time instead. (Node's own 'finish' handler ran first.)
    res.once('finish', () => {
      if (!req.complete) req.socket.setTimeout(idleMs);
    });
  });
  srv.on('timeout', (socket: Socket) => {
    const req = serving.get(socket);
    if (req?.complete && socket.writableLength === 0) {
      socket.setTimeout(idleMs);
      return;
    }
    socket.destroy();
  });
}

export function close(srv: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => srv.closeAllConnections(), graceMs);
    srv.close(() => {
      clearTimeout(force);
      resolve();
    });
    srv.closeIdleConnections();
  });
}
