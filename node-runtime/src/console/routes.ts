// The JSON API behind a session (api.ts lists it): each handler turns one request into S3 calls
// made as the session's user (files.ts), or reads the cluster status for admins.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterStatus } from '../admin/types.ts';
import type { CompleteRequest, DeleteRequest, MoveRequest, ShareRequest, UploadRequest } from './api.ts';
import { PART_URL_BATCH } from './api.ts';
import { badRequest, forbidden } from './errors.ts';
import type { UserFiles } from './files.ts';
import { objectKey, readJson, sendJson, str } from './http.ts';
import type { SessionClaims } from './session.ts';
import { parseTagQuery, searchByTag } from './tag-search.ts';

export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  claims: SessionClaims;
  files: UserFiles;
  bucket: string; // '' on routes without one
  isAdmin(userId: string): boolean;
  clusterStatus(): Promise<ClusterStatus>;
}

type Handler = (ctx: ApiContext) => Promise<void>;

const BUCKET = '([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])';
const created = (res: ServerResponse) => {
  res.statusCode = 201;
  res.end();
};

const handlers: [method: string, path: RegExp, handler: Handler][] = [
  ['GET', /^\/api\/buckets$/, async ({ res, files }) => sendJson(res, 200, await files.buckets())],

  [
    'POST',
    /^\/api\/buckets$/,
    async ({ req, res, files }) => {
      const name = str(await readJson(req), 'name', { max: 63 });
      if (!new RegExp(`^${BUCKET}$`).test(name)) throw badRequest('Bucket names have 3-63 lower-case letters, digits, dots and hyphens.');
      await files.createBucket(name);
      created(res);
    },
  ],

  [
    'GET',
    new RegExp(`^/api/buckets/${BUCKET}/objects$`),
    async ({ url, res, files, bucket }) => {
      const q = url.searchParams;
      const prefix = q.get('prefix') ?? '';
      if (Buffer.byteLength(prefix) > 1024) throw badRequest('The prefix is too long.');
      const max = Number(q.get('max') ?? 1000);
      if (!Number.isInteger(max) || max < 1 || max > 1000) throw badRequest('max is 1-1000.');
      sendJson(res, 200, await files.page(bucket, prefix, q.get('token') || undefined, max, q.get('delimiter') !== '0'));
    },
  ],

  [
    'GET',
    new RegExp(`^/api/buckets/${BUCKET}/tagged$`),
    async ({ url, res, files, bucket }) => {
      const q = url.searchParams;
      const prefix = q.get('prefix') ?? '';
      if (Buffer.byteLength(prefix) > 1024) throw badRequest('The prefix is too long.');
      const tag = parseTagQuery(q.get('tag'));
      sendJson(res, 200, await searchByTag(files.tagSource(bucket), prefix, tag, q.get('token') || undefined, Number(q.get('max') ?? 1000)));
    },
  ],

  [
    'POST',
    new RegExp(`^/api/buckets/${BUCKET}/folders$`),
    async ({ req, res, files, bucket }) => {
      await files.createFolder(bucket, objectKey(await readJson(req), 'key'));
      created(res);
    },
  ],

  [
    'POST',
    new RegExp(`^/api/buckets/${BUCKET}/move$`),
    async ({ req, res, files, bucket }) => {
      const body = await readJson<MoveRequest>(req);
      sendJson(res, 200, { moved: await files.move(bucket, objectKey(body, 'from'), objectKey(body, 'to')) });
    },
  ],

  [
    'POST',
    new RegExp(`^/api/buckets/${BUCKET}/delete$`),
    async ({ req, res, files, bucket }) => {
      const body = await readJson<DeleteRequest>(req);
      const keys = body?.keys;
      if (!Array.isArray(keys) || keys.length === 0 || keys.length > 1000) throw badRequest('"keys" holds 1-1000 keys.');
      if (!keys.every((k) => typeof k === 'string' && k.length > 0 && Buffer.byteLength(k) <= 1024)) throw badRequest('Every key is a string of 1-1024 bytes.');
      sendJson(res, 200, await files.delete(bucket, keys));
    },
  ],

  [
    'POST',
    new RegExp(`^/api/buckets/${BUCKET}/share$`),
    async ({ req, res, files, bucket }) => {
      const body = await readJson<ShareRequest>(req);
      sendJson(res, 200, await files.shareLink(bucket, objectKey(body, 'key'), Number(body.expiresInSeconds)));
    },
  ],

  [
    'GET',
    new RegExp(`^/api/buckets/${BUCKET}/content$`),
    async ({ url, res, files, bucket }) => {
      const key = url.searchParams.get('key');
      if (!key) throw badRequest('"key" is missing.');
      const disposition = url.searchParams.get('disposition') === 'attachment' ? 'attachment' : 'inline';
      res.statusCode = 302;
      res.setHeader('location', await files.contentUrl(bucket, key, disposition));
      res.setHeader('cache-control', 'no-store');
      res.end();
    },
  ],

  [
    'POST',
    new RegExp(`^/api/buckets/${BUCKET}/uploads$`),
    async ({ req, res, files, bucket }) => {
      const body = await readJson<UploadRequest>(req);
      const type = str(body, 'contentType', { optional: true, max: 255 });
      sendJson(res, 200, await files.startUpload(bucket, objectKey(body, 'key'), Number(body.size), type || undefined));
    },
  ],

  [
    'POST',
    new RegExp(`^/api/buckets/${BUCKET}/uploads/parts$`),
    async ({ req, res, files, bucket }) => {
      const body = await readJson<{ key: string; uploadId: string; partNumbers: number[] }>(req);
      if (!Array.isArray(body?.partNumbers) || body.partNumbers.length > PART_URL_BATCH) throw badRequest('"partNumbers" must be a short array.');
      sendJson(res, 200, { urls: await files.partUrls(bucket, objectKey(body, 'key'), str(body, 'uploadId'), body.partNumbers) });
    },
  ],

  [
    'POST',
    new RegExp(`^/api/buckets/${BUCKET}/uploads/complete$`),
    async ({ req, res, files, bucket }) => {
      const body = await readJson<CompleteRequest>(req);
      const parts = Array.isArray(body?.parts) ? body.parts : [];
      if (parts.length === 0 || parts.length > 10_000 || !parts.every((p) => Number.isInteger(p?.partNumber) && typeof p?.etag === 'string'))
        throw badRequest('"parts" must list { partNumber, etag }.');
      await files.completeUpload(bucket, { key: objectKey(body, 'key'), uploadId: str(body, 'uploadId'), parts });
      sendJson(res, 200, {});
    },
  ],

  [
    'POST',
    new RegExp(`^/api/buckets/${BUCKET}/uploads/abort$`),
    async ({ req, res, files, bucket }) => {
      const body = await readJson(req);
      await files.abortUpload(bucket, objectKey(body, 'key'), str(body, 'uploadId'));
      res.statusCode = 204;
      res.end();
    },
  ],

  [
    'GET',
    /^\/api\/cluster$/,
    async ({ res, claims, isAdmin, clusterStatus }) => {
      if (!isAdmin(claims.userId)) throw forbidden('The cluster page is for administrators.');
      sendJson(res, 200, await clusterStatus());
    },
  ],
];

/** The handler of a request and the bucket it names; undefined when no route matches. */
export function findRoute(method: string, path: string): { handler: Handler; bucket: string } | undefined {
  for (const [m, re, handler] of handlers) {
    const match = re.exec(path);
    if (match && (m === method || (m === 'GET' && method === 'HEAD'))) return { handler, bucket: match[1] ?? '' };
  }
  return undefined;
}

export function routeExists(path: string): boolean {
  return handlers.some(([, re]) => re.test(path));
}
