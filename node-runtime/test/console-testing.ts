// A plain HTTP client of the console for tests: keeps the session cookie and the CSRF token the
// way a browser app would, and nothing else (no redirects followed, no Origin unless asked).
import type { SessionInfo } from '../src/console/api.ts';

export class ConsoleClient {
  readonly base: string;
  readonly headers: Record<string, string>;
  cookie = '';
  csrf = '';

  constructor(base: string, headers: Record<string, string> = {}) {
    this.base = base;
    this.headers = headers;
  }

  async raw(
    method: string,
    path: string,
    body?: unknown,
    opts: { csrf?: boolean; headers?: Record<string, string>; rawBody?: string | Buffer } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers };
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.csrf !== false && this.csrf && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = this.csrf;
    Object.assign(headers, opts.headers);
    const res = await fetch(this.base + path, {
      method,
      headers,
      redirect: 'manual',
      body: opts.rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0].endsWith('=') ? '' : set.split(';')[0];
    return res;
  }

  /** A JSON call that must succeed. */
  async json<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async signIn(accessKeyId: string, secretAccessKey: string): Promise<SessionInfo> {
    const info = await this.json<SessionInfo>('POST', '/api/session', { accessKeyId, secretAccessKey });
    this.csrf = info.csrfToken;
    return info;
  }
}

/** A response's JSON body, untyped (tests look at fields directly). */
export const jsonOf = (res: Response): Promise<any> => res.json();
