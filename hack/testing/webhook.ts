// A webhook receiver for tests: a real HTTP server on a loopback address that keeps every JSON body
// it answered 2xx to. stop() takes it down (connections cut: an outage) and start() brings it back on
// the same address, keeping what it received, as a receiver with its own storage would.
import { createServer, type Server } from 'node:http';
import { freePort, loopbackAddress } from './net.ts';

export interface WebhookReceiver<T = unknown> {
  url: string;
  /** Bodies answered 2xx, in arrival order. */
  received: T[];
  /** Authorization headers seen. */
  authorizations: (string | undefined)[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startWebhookReceiver<T = unknown>(opts: { path?: string; token?: string } = {}): Promise<WebhookReceiver<T>> {
  const host = loopbackAddress();
  const port = await freePort(host);
  const path = opts.path ?? '/hook';
  const received: T[] = [];
  const authorizations: (string | undefined)[] = [];
  let server: Server | undefined;
  const r: WebhookReceiver<T> = {
    url: `http://${host}:${port}${path}`,
    received,
    authorizations,
    async start() {
      if (server) return;
      const s = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (body += d));
        req.on('end', () => {
          authorizations.push(req.headers.authorization);
          if (req.url !== path || req.method !== 'POST') {
            res.writeHead(404).end();
            return;
          }
          if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
            res.writeHead(401).end();
            return;
          }
          try {
            received.push(JSON.parse(body) as T);
          } catch {
            res.writeHead(400).end();
            return;
          }
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => resolve());
      });
      server = s;
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await r.start();
  return r;
}
