// The one HTTP client of the load generator: undici keep-alive pools (one per endpoint, as many
// connections as the workload's concurrency), SigV4-signed S3 requests for S3 targets and plain
// GET/PUT/HEAD for nginx (static files + WebDAV PUT). Every body is consumed, so connections
// are reused; a non-2xx answer is an error carrying the status and the start of the body.
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { SigV4Signer } from './sigv4.ts';

export interface TargetSpec {
  name: string;
  kind: 's3' | 'http';
  endpoints: string[]; // http://host:port, requests are spread round-robin
  bucket: string;
  accessKey?: string;
  secretKey?: string;
  region?: string;
  headers?: Record<string, string>; // extra headers on bucket creation (e.g. x-cairn-replicas)
}

export type Body = Buffer | AsyncIterable<Buffer>;

export class RequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class BenchClient {
  readonly target: TargetSpec;
  #pools: Pool[];
  #hosts: string[];
  #signer: SigV4Signer | undefined;
  #next = 0;

  constructor(target: TargetSpec, connections: number) {
    if (target.endpoints.length === 0) throw new Error(`target ${target.name} has no endpoints`);
    this.target = target;
    this.#pools = target.endpoints.map(
      (e) =>
        new Pool(e, {
          connections,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          headersTimeout: 120_000,
          bodyTimeout: 120_000,
        }),
    );
    this.#hosts = target.endpoints.map((e) => new URL(e).host);
    if (target.kind === 's3') {
      if (!target.accessKey || !target.secretKey) throw new Error(`S3 target ${target.name} needs an access key and a secret key`);
      this.#signer = new SigV4Signer({ accessKey: target.accessKey, secretKey: target.secretKey, region: target.region ?? 'us-east-1' });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#pools.map((p) => p.close()));
  }

  /** Send one request; returns the status, headers and the number of body bytes read (body discarded). */
  async request(
    method: string,
    path: string,
    opts: {
      query?: Record<string, string>;
      headers?: Record<string, string>;
      body?: Body;
      keepText?: boolean;
      signal?: AbortSignal;
      progress?: (n: number) => void;
    } = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number; text?: string }> {
    const i = this.#next++ % this.#pools.length;
    let wirePath: string;
    let headers: Record<string, string>;
    if (this.#signer) {
      const signed = this.#signer.sign({ method, host: this.#hosts[i]!, path, query: opts.query, headers: opts.headers });
      wirePath = signed.path;
      headers = signed.headers;
    } else {
      const q = opts.query ? new URLSearchParams(opts.query).toString() : '';
      wirePath = encodeURI(path) + (q ? `?${q}` : '');
      headers = { ...opts.headers };
    }
    const body = opts.body === undefined || Buffer.isBuffer(opts.body) ? opts.body : Readable.from(opts.body, { objectMode: false });
    const res = await this.#pools[i]!.request({ method, path: wirePath, headers, body, reset: false, signal: opts.signal }); // reset: false keeps HEAD on keep-alive (undici closes after HEAD by default)
    let bytes = 0;
    const parts: Buffer[] = [];
    const keep = opts.keepText || res.statusCode >= 300;
    for await (const c of res.body) {
      bytes += (c as Buffer).length;
      opts.progress?.((c as Buffer).length);
      if (keep) parts.push(c as Buffer);
    }
    const text = keep ? Buffer.concat(parts).toString('utf8') : undefined;
    if (res.statusCode >= 300) throw new RequestError(res.statusCode, `${method} ${path} → ${res.statusCode} ${describeError(text ?? '')}`);
    return { status: res.statusCode, headers: res.headers, bytes, text };
  }

  path(key: string): string {
    return `/${this.target.bucket}/${key}`;
  }

  async put(key: string, body: Body, length: number, signal?: AbortSignal): Promise<number> {
    await this.request('PUT', this.path(key), { body, signal, headers: { 'content-length': String(length), 'content-type': 'application/octet-stream' } });
    return length;
  }

  async get(key: string, ctx?: { signal?: AbortSignal; progress?: (n: number) => void }): Promise<number> {
    return (await this.request('GET', this.path(key), { signal: ctx?.signal, progress: ctx?.progress })).bytes;
  }

  async head(key: string, signal?: AbortSignal): Promise<number> {
    await this.request('HEAD', this.path(key), { signal });
    return 0;
  }

  /** One ListObjectsV2 page. Only two scalar fields are needed, so they are read with a regular
   *  expression: a full XML parse of 1000 entries would charge the client's CPU to the server. */
  async listPage(prefix: string, maxKeys: number, token?: string, signal?: AbortSignal): Promise<{ keys: number; next?: string }> {
    if (this.target.kind !== 's3') throw new Error(`LIST is not available on ${this.target.name}`);
    const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': String(maxKeys) };
    if (token) query['continuation-token'] = token;
    const { text = '' } = await this.request('GET', `/${this.target.bucket}`, { query, keepText: true, signal });
    const keys = (text.match(/<Key>/g) ?? []).length;
    const truncated = /<IsTruncated>true<\/IsTruncated>/.test(text);
    const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(text)?.[1];
    if (truncated && !next) throw new Error('truncated LIST page without a continuation token');
    return { keys, next: truncated ? decodeXml(next!) : undefined };
  }

  /** Create the bucket (S3) or its directory (WebDAV needs none: create_full_put_path). */
  async createBucket(): Promise<void> {
    if (this.target.kind !== 's3') return;
    try {
      await this.request('PUT', `/${this.target.bucket}`, { headers: this.target.headers });
    } catch (e) {
      if (!(e instanceof RequestError && e.status === 409)) throw e; // already ours
    }
  }
}

/** `Code: Message` of an S3 error body, else the start of the body on one line. */
export function describeError(body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  if (code) return message ? `${code}: ${decodeXml(message)}` : code;
  return body.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+);/g, (_m, n: string) =>
    n === 'lt' ? '<' : n === 'gt' ? '>' : n === 'amp' ? '&' : n === 'quot' ? '"' : n === 'apos' ? "'" : String.fromCharCode(Number(n.slice(1))),
  );
}
