// The kubelet's own HTTP endpoint, advertised in the Node's status.daemonEndpoints: the API server
// proxies `kubectl logs` (pods/log) to GET /containerLogs/<ns>/<pod>/<container> here, with the
// real query parameters tailLines, limitBytes, previous and follow. Also /healthz.
import { createServer, type Server } from 'node:http';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

export interface LogSource {
  /** The log file of a container run; undefined when the pod/container/run is unknown. */
  logFile(ns: string, pod: string, container: string, previous: boolean): string | undefined;
  isRunning(ns: string, pod: string, container: string): boolean;
}

/** The last `n` lines of a text (a trailing newline does not count as a line). */
export function tailLines(text: string, n: number): string {
  if (n <= 0) return '';
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '' ? lines.pop() !== undefined : false;
  return lines.slice(-n).join('\n') + (trailing ? '\n' : '');
}

export async function startKubeletServer(src: LogSource, host = '127.0.0.1'): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    if (url.pathname === '/healthz') {
      res.end('ok');
      return;
    }
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m || req.method !== 'GET') {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    const [ns, pod, container] = m.slice(1).map(decodeURIComponent);
    const q = url.searchParams;
    const previous = q.get('previous') === 'true';
    const file = src.logFile(ns, pod, container, previous);
    if (!file) {
      res.writeHead(previous ? 400 : 404, { 'content-type': 'text/plain' });
      res.end(
        previous ? `previous terminated container "${container}" in pod "${pod}" not found\n` : `container "${container}" in pod "${pod}" is not available\n`,
      );
      return;
    }
    let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (q.has('tailLines')) text = tailLines(text, Number(q.get('tailLines')));
    const limit = q.has('limitBytes') ? Number(q.get('limitBytes')) : Infinity;
    const head = Buffer.from(text).subarray(0, limit);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(head);
    if (q.get('follow') !== 'true' || previous || head.length >= limit) {
      res.end();
      return;
    }
    // Follow: send what is appended until the client goes or the container run ends.
    let offset = existsSync(file) ? statSync(file).size : 0;
    const timer = setInterval(() => {
      const size = existsSync(file) ? statSync(file).size : 0;
      if (size > offset) {
        const fd = openSync(file, 'r');
        const buf = Buffer.alloc(size - offset);
        readSync(fd, buf, 0, buf.length, offset);
        closeSync(fd);
        offset = size;
        res.write(buf);
      }
      if (!src.isRunning(ns, pod, container) || src.logFile(ns, pod, container, false) !== file) {
        clearInterval(timer);
        res.end();
      }
    }, 200);
    req.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
