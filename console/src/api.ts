// The console API from the browser: JSON calls with the session's CSRF token on every change. A
// 401 means the session ended: the app asks the user to sign in again (a dialog, nothing lost)
// and the call is repeated once; every other failure is an ApiError with the server's message.
import type {
  ApiErrorBody,
  BucketEntry,
  ClusterStatus,
  DeleteResult,
  MoveResult,
  ObjectPage,
  SessionInfo,
  ShareLink,
  SignInOptions,
  TagSearchPage,
  UploadPlan,
} from '../../node-runtime/src/console/api.ts';
import { CSRF_HEADER } from '../../node-runtime/src/console/api.ts';
import type { UploadApi } from './uploads/transport.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds?: number;
  constructor(status: number, code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The session the calls carry, and who to ask when it ends. */
export const session = {
  csrfToken: '',
  /** Set by the app: resolves once the user signed in again, rejects if they gave up. */
  renew: undefined as undefined | (() => Promise<void>),
};

let renewing: Promise<void> | undefined;

async function call<T>(method: string, path: string, body?: unknown, opts: { signal?: AbortSignal; renew?: boolean } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      signal: opts.signal,
      credentials: 'same-origin',
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(method !== 'GET' ? { [CSRF_HEADER]: session.csrfToken } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'NetworkError', 'The console cannot be reached. Check the connection and retry.');
  }
  if (res.status === 401 && opts.renew !== false && session.renew) {
    // Calls that fail together wait for the same sign-in.
    renewing ??= session.renew().finally(() => {
      renewing = undefined;
    });
    await renewing;
    return call(method, path, body, { ...opts, renew: false });
  }
  if (!res.ok) {
    let err: ApiErrorBody['error'] = { code: `Http${res.status}`, message: `The request failed (HTTP ${res.status}).` };
    try {
      err = ((await res.json()) as ApiErrorBody).error ?? err;
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, err.code, err.message, err.retryAfterSeconds);
  }
  if (res.status === 204 || res.status === 201) return undefined as T;
  return (await res.json()) as T;
}

const b = (bucket: string) => `/api/buckets/${encodeURIComponent(bucket)}`;

export const api = {
  session: () => call<SessionInfo>('GET', '/api/session', undefined, { renew: false }),
  signIn: (accessKeyId: string, secretAccessKey: string) => call<SessionInfo>('POST', '/api/session', { accessKeyId, secretAccessKey }, { renew: false }),
  signInOptions: () => call<SignInOptions>('GET', '/api/sign-in-options', undefined, { renew: false }),
  signOut: () => call<void>('DELETE', '/api/session', undefined, { renew: false }),
  buckets: () => call<BucketEntry[]>('GET', '/api/buckets'),
  createBucket: (name: string) => call<void>('POST', '/api/buckets', { name }),
  page: (bucket: string, prefix: string, token: string | undefined, opts: { folders?: boolean; max?: number; signal?: AbortSignal } = {}) => {
    const q = new URLSearchParams({ prefix, max: String(opts.max ?? 1000), delimiter: opts.folders === false ? '0' : '1' });
    if (token) q.set('token', token);
    return call<ObjectPage>('GET', `${b(bucket)}/objects?${q}`, undefined, { signal: opts.signal });
  },
  /** One step of a search by tag (`key=value` or `key`) under a prefix: the server reads one page of keys. */
  tagged: (bucket: string, prefix: string, tag: string, token: string | undefined, signal?: AbortSignal) => {
    const q = new URLSearchParams({ prefix, tag });
    if (token) q.set('token', token);
    return call<TagSearchPage>('GET', `${b(bucket)}/tagged?${q}`, undefined, { signal });
  },
  createFolder: (bucket: string, key: string) => call<void>('POST', `${b(bucket)}/folders`, { key }),
  move: (bucket: string, from: string, to: string) => call<MoveResult>('POST', `${b(bucket)}/move`, { from, to }),
  remove: (bucket: string, keys: string[]) => call<DeleteResult>('POST', `${b(bucket)}/delete`, { keys }),
  share: (bucket: string, key: string, expiresInSeconds: number) => call<ShareLink>('POST', `${b(bucket)}/share`, { key, expiresInSeconds }),
  /** The address of a file's bytes (the server answers with a presigned URL of the user). */
  contentUrl: (bucket: string, key: string, disposition: 'inline' | 'attachment') => `${b(bucket)}/content?${new URLSearchParams({ key, disposition })}`,
  cluster: (signal?: AbortSignal) => call<ClusterStatus>('GET', '/api/cluster', undefined, { signal }),
};

export const uploadApi: UploadApi = {
  start: (bucket, key, size, contentType) => call<UploadPlan>('POST', `${b(bucket)}/uploads`, { key, size, contentType }),
  partUrls: async (bucket, key, uploadId, partNumbers) =>
    (await call<{ urls: string[] }>('POST', `${b(bucket)}/uploads/parts`, { key, uploadId, partNumbers })).urls,
  complete: async (bucket, key, uploadId, parts) => {
    await call('POST', `${b(bucket)}/uploads/complete`, { key, uploadId, parts });
  },
  abort: (bucket, key, uploadId) => call<void>('POST', `${b(bucket)}/uploads/abort`, { key, uploadId }),
};

export function errorText(e: unknown): string {
  return e instanceof ApiError ? e.message : ((e as Error)?.message ?? String(e));
}
