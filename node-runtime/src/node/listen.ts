// The two listening ports of a node: plain node:http servers (the file API hands each request
// straight to the S3 app; the cluster port serves an express app), with the timeouts large uploads
// need and a clean close that lets requests in flight finish for a grace period.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

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

export function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer(handler);
    srv.once('error', reject);
    srv.listen(port, host, () => resolve(srv));
    // Large uploads may take longer than Node's default 5 minute request limit.
    srv.requestTimeout = 0;
    srv.keepAliveTimeout = 65_000;
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

export function close(srv: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => srv.closeAllConnections(), graceMs);
    srv.close(() => { clearTimeout(force); resolve(); });
    srv.closeIdleConnections();
  });
}
