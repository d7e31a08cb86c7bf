// The admin API client (cluster port, /admin/v1) used by the operator and the `cairn` CLI. It
// depends only on admin/types.ts, so callers never reach into the node runtime's internals.
import { request } from 'undici';
import type {
  AccessKeyRequest,
  AccessKeyResponse,
  AdminClient,
  BucketRequest,
  BucketStatus,
  ClusterStatus,
  KeyStatus,
  MemberStatus,
  UserQuota,
  UserRequest,
  UserStatus,
} from './types.ts';
import type { ClusterSettings } from '../cluster/types.ts';

/** An admin call that failed: the server's error code (e.g. DrainRefused, NoSuchBucket) and HTTP status. */
export class AdminApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'AdminApiError';
    this.code = code;
    this.status = status;
  }
}

export interface AdminClientOptions {
  /** Cluster port base URL of any root or node, e.g. http://127.0.0.2:9100 */
  url: string;
  /** The cluster secret (sent as `Authorization: Bearer <secret>`). */
  secret: string;
  timeoutMs?: number;
}

export function createAdminClient(opts: AdminClientOptions): AdminClient {
  const base = opts.url.replace(/\/+$/, '') + '/admin/v1';
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function call<T>(method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res;
    try {
      res = await request(base + path, {
        method,
        headers: { authorization: `Bearer ${opts.secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (e) {
      throw new AdminApiError('Unreachable', 0, `admin API at ${opts.url} unreachable: ${(e as Error).message}`);
    }
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      let code = `Http${res.statusCode}`,
        message = text || `HTTP ${res.statusCode}`;
      try {
        const j = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (j.error?.code) code = j.error.code;
        if (j.error?.message) message = j.error.message;
      } catch {
        /* not JSON: keep the raw text */
      }
      throw new AdminApiError(code, res.statusCode, message);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const enc = encodeURIComponent;
  return {
    status: () => call<ClusterStatus>('GET', '/status'),
    putBucket: (req: BucketRequest) => call<BucketStatus>('PUT', `/buckets/${enc(req.name)}`, req),
    deleteBucket: (name: string, o: { purge?: boolean } = {}) => call<void>('DELETE', `/buckets/${enc(name)}${o.purge ? '?purge=true' : ''}`),
    users: () => call<UserStatus[]>('GET', '/users'),
    putUser: (req: UserRequest) => call<UserStatus>('PUT', `/users/${enc(req.id)}`, req),
    deleteUser: (id: string) => call<void>('DELETE', `/users/${enc(id)}`),
    putUserQuota: (id: string, quota: UserQuota) => call<UserStatus>('PUT', `/users/${enc(id)}/quota`, quota),
    createKey: (req: AccessKeyRequest) => call<AccessKeyResponse>('POST', '/keys', req),
    setKeyDisabled: (id: string, disabled: boolean) => call<KeyStatus>('PATCH', `/keys/${enc(id)}`, { disabled }),
    endSessions: (id: string, notBefore: number) => call<KeyStatus>('PATCH', `/keys/${enc(id)}`, { sessionsNotBefore: notBefore }),
    deleteKey: (id: string) => call<void>('DELETE', `/keys/${enc(id)}`),
    drain: (member: string) => call<MemberStatus>('POST', `/members/${enc(member)}/drain`),
    undrain: (member: string) => call<MemberStatus>('POST', `/members/${enc(member)}/undrain`),
    forget: (member: string) => call<void>('DELETE', `/members/${enc(member)}`),
    settings: () => call<ClusterSettings>('GET', '/settings'),
    putSettings: (changes: Partial<ClusterSettings>) => call<ClusterSettings>('PUT', '/settings', changes),
  };
}
