// The app's static files (built by console/build.ts), read once at start and served from memory:
// /assets/* are content-hashed and cached for good; index.html is never cached, so a new build
// shows up on the next page load. Headers for every page: a CSP without 'unsafe-inline'.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every console response (the passthrough replaces the CSP with its own). */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', PAGE_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  // Presigned URLs in a page's address must never leave in a Referer.
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export class Assets {
  private readonly files = new Map<string, Asset>();
  readonly missing: boolean;

  private constructor(missing: boolean) {
    this.missing = missing;
  }

  static async load(dir: string): Promise<Assets> {
    const paths = await walk(dir).catch(() => undefined);
    const assets = new Assets(!paths?.some((p) => p.endsWith('index.html')));
    for (const path of paths ?? []) {
      const body = await readFile(path);
      const url = '/' + relative(dir, path).split('\\').join('/');
      assets.files.set(url, {
        body,
        type: TYPES[extname(path)] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      });
    }
    return assets;
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /** Serve one file; false when there is no such file. */
  send(path: string, res: ServerResponse, ifNoneMatch: string | undefined, head = false): boolean {
    const asset = this.files.get(path);
    if (!asset) return false;
    const immutable = path.startsWith('/assets/');
    res.setHeader('content-type', asset.type);
    res.setHeader('etag', asset.etag);
    res.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (ifNoneMatch === asset.etag) {
      res.statusCode = 304;
      res.end();
      return true;
    }
    res.setHeader('content-length', asset.body.length);
    res.end(head ? undefined : asset.body);
    return true;
  }

  /** The app's page (every screen is the same page; the app routes on the path). */
  page(res: ServerResponse): void {
    if (this.missing) {
      res.statusCode = 503;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end("The console's assets are not built: run `npm run build:console`.\n");
      return;
    }
    const index = this.files.get('/index.html')!;
    res.setHeader('content-type', index.type);
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-length', index.body.length);
    res.end(index.body);
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
