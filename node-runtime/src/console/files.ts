// File actions of one signed-in user: real S3 requests to the node's own file API, signed with
// that user's key (the `minio` client), so S3's authorization decides every one of them — the
// console holds no power of its own. Presigned URLs are that user's too: the browser's uploads,
// previews and downloads are S3 requests of the user, passed through at /s3/ (passthrough.ts).
import type { Agent } from 'node:http';
import type * as Minio from 'minio';
import type { BucketEntry, CompleteRequest, DeleteResult, ObjectEntry, ObjectPage, ShareLink, UploadPlan } from './api.ts';
import { MULTIPART_THRESHOLD, PART_URL_BATCH, SHARE_MAX_SECONDS } from './api.ts';
import { ConsoleError, badRequest, fromS3 } from './errors.ts';
import type { TagSource } from './tag-search.ts';
import { parseTaggingXml, type Tag } from '../s3/semantics/tagging.ts';

/** The file API the console calls, and the console's own keep-alive connections to it. */
export interface S3Target {
  endpoint: URL;
  region: string;
  agent: Agent;
}

/** The prefix under which presigned S3 requests reach the console's passthrough. */
export const PASSTHROUGH_PREFIX = '/s3';
/** Presigned URLs the app uses itself (uploads, previews): long enough for a slow part. */
const APP_URL_SECONDS = 3600;
/** Objects one move or delete of a folder may touch: more is a job, not a click. */
export const MAX_FOLDER_OBJECTS = 10_000;
const MIN_PART = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

// The S3 client library (about 11 MB of heap once loaded) is loaded by the first console request
// that needs it, not by every node that starts: a node whose console nobody uses stays smaller.
let library: Promise<typeof Minio> | undefined;
const minio = () => (library ??= import('minio'));

function client(M: typeof Minio, target: S3Target, accessKey: string, secretKey: string): Minio.Client {
  const u = target.endpoint;
  return new M.Client({
    endPoint: u.hostname,
    port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80),
    useSSL: u.protocol === 'https:',
    accessKey,
    secretKey,
    region: target.region,
    pathStyle: true,
    transportAgent: target.agent,
  });
}

const s3 = async <T>(p: Promise<T>): Promise<T> => {
  try {
    return await p;
  } catch (e) {
    throw fromS3(e);
  }
};

/** Part size of a multipart upload: at least 8 MiB and at most 10,000 parts (whole MiBs). */
export function partSizeFor(size: number): number {
  const mib = 1024 * 1024;
  return Math.max(MIN_PART, Math.ceil(size / MAX_PARTS / mib) * mib);
}

/** A Content-Disposition value with the file's own name (RFC 6266, UTF-8). */
export function contentDisposition(kind: 'inline' | 'attachment', key: string): string {
  const name = key.slice(key.lastIndexOf('/', key.length - 2) + 1) || 'download';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export class UserFiles {
  private readonly M: typeof Minio;
  private readonly c: Minio.Client;
  private readonly share: Minio.Client;

  static async open(target: S3Target, shareTarget: S3Target, accessKeyId: string, secretAccessKey: string): Promise<UserFiles> {
    return new UserFiles(await minio(), target, shareTarget, accessKeyId, secretAccessKey);
  }

  private constructor(M: typeof Minio, target: S3Target, shareTarget: S3Target, accessKeyId: string, secretAccessKey: string) {
    this.M = M;
    this.c = client(M, target, accessKeyId, secretAccessKey);
    this.share = shareTarget === target ? this.c : client(M, shareTarget, accessKeyId, secretAccessKey);
  }

  async buckets(): Promise<BucketEntry[]> {
    const list = await s3(this.c.listBuckets());
    return list.map((b) => ({ name: b.name, createdAt: b.creationDate.toISOString() }));
  }

  async createBucket(name: string): Promise<void> {
    await s3(this.c.makeBucket(name));
  }

  /** One page of a folder (delimiter '/') or of everything under a prefix (a search). */
  async page(bucket: string, prefix: string, token: string | undefined, max: number, folders: boolean): Promise<ObjectPage> {
    const res = await this.list(bucket, prefix, token, max, folders ? '/' : '');
    const entries: ObjectEntry[] = [];
    for (const o of res.objects) {
      if (o.prefix !== undefined) entries.push({ key: o.prefix, folder: true, size: 0 });
      // The folder marker itself (`photos/` inside `photos/`) is the folder we are in, not an entry.
      else if (o.name !== prefix || !prefix.endsWith('/'))
        entries.push({ key: o.name, folder: false, size: Number(o.size), lastModified: o.lastModified.toISOString(), etag: o.etag });
    }
    // S3 interleaves keys and common prefixes in one order; the XML lists them apart.
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { prefix, entries, nextToken: res.isTruncated && res.nextContinuationToken ? res.nextContinuationToken : undefined };
  }

  /** Every key under a prefix, the folder's own marker included, at most `limit`: folder moves and deletes. */
  async keysUnder(bucket: string, prefix: string, limit: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.list(bucket, prefix, token, 1000, '');
      for (const o of res.objects) if (o.name !== undefined) keys.push(o.name);
      if (keys.length > limit) throw new ConsoleError('TooManyObjects', 409, `The folder holds more than ${limit} objects; use an S3 tool for this one.`);
      token = res.isTruncated && res.nextContinuationToken ? res.nextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** What a tag search reads of one bucket, as this user (tag-search.ts). */
  tagSource(bucket: string): TagSource {
    return {
      list: async (prefix, token, max) => {
        const res = await this.list(bucket, prefix, token, max, '');
        return {
          entries: res.objects
            .filter((o) => o.name !== undefined)
            .map((o) => ({ key: o.name, folder: false, size: Number(o.size), lastModified: o.lastModified.toISOString(), etag: o.etag })),
          nextToken: res.isTruncated && res.nextContinuationToken ? res.nextContinuationToken : undefined,
        };
      },
      tagsOf: (key) => this.objectTags(bucket, key),
    };
  }

  /**
   * GetObjectTagging, parsed with the S3 layer's own reader: the `minio` client's parser turns a
   * value such as `2026` or `007` into a number and trims blanks, which a search by value must not.
   */
  async objectTags(bucket: string, key: string): Promise<Tag[]> {
    const res = await s3(this.c.makeRequestAsync({ method: 'GET', bucketName: bucket, objectName: key, query: 'tagging' }));
    const chunks: Buffer[] = [];
    for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
    return parseTaggingXml(Buffer.concat(chunks).toString('utf8'), 'object');
  }

  private list(bucket: string, prefix: string, token: string | undefined, max: number, delimiter: string) {
    return s3(this.c.listObjectsV2Query(bucket, prefix, token ?? '', delimiter, Math.min(Math.max(max, 1), 1000), ''));
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.c.statObject(bucket, key);
      return true;
    } catch (e) {
      const err = fromS3(e);
      if (err.status === 404) return false;
      throw err;
    }
  }

  async createFolder(bucket: string, key: string): Promise<void> {
    if (!key.endsWith('/')) throw badRequest('A folder key ends with "/".');
    await s3(this.c.putObject(bucket, key, Buffer.alloc(0), 0));
  }

  /** Rename or move a file or a folder: copy, then delete the source (S3 has no rename). */
  async move(bucket: string, from: string, to: string): Promise<number> {
    if (from === to) return 0;
    const folder = from.endsWith('/');
    if (folder !== to.endsWith('/')) throw badRequest('A folder moves to a folder and a file to a file.');
    if (folder && to.startsWith(from)) throw badRequest('A folder cannot move into itself.');
    const sources = folder ? await this.keysUnder(bucket, from, MAX_FOLDER_OBJECTS) : [from];
    if (!folder && (await this.exists(bucket, to))) throw new ConsoleError('TargetExists', 409, `"${to}" exists already.`);
    await inBatches(sources, 8, async (key) => {
      const dest = to + key.slice(from.length);
      await s3(
        this.c.copyObject(new this.M.CopySourceOptions({ Bucket: bucket, Object: key }), new this.M.CopyDestinationOptions({ Bucket: bucket, Object: dest })),
      );
    });
    // Only once every copy is there: a failed move leaves the source whole.
    const result = await this.remove(bucket, sources);
    if (result.errors.length)
      throw new ConsoleError('MovePartial', 502, `Copied, but ${result.errors.length} source object(s) could not be removed: ${result.errors[0].message}`);
    return sources.length;
  }

  /** Delete keys, and folders with everything under them. */
  async delete(bucket: string, keys: string[]): Promise<DeleteResult> {
    const all = new Set<string>();
    for (const k of keys) {
      if (k.endsWith('/')) for (const under of await this.keysUnder(bucket, k, MAX_FOLDER_OBJECTS)) all.add(under);
      else all.add(k);
    }
    return this.remove(bucket, [...all]);
  }

  private async remove(bucket: string, keys: string[]): Promise<DeleteResult> {
    const errors: DeleteResult['errors'] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const res = await s3(this.c.removeObjects(bucket, keys.slice(i, i + 1000)));
      for (const r of res as { Key?: string; Message?: string; Code?: string }[]) {
        if (r && (r.Code || r.Message)) errors.push({ key: r.Key ?? '', message: r.Message ?? r.Code ?? 'failed' });
      }
    }
    return { deleted: keys.length - errors.length, errors };
  }

  /** A presigned GET on the public endpoint: anyone with the link reads the file until it expires. */
  async shareLink(bucket: string, key: string, seconds: number, now = Date.now()): Promise<ShareLink> {
    if (!Number.isInteger(seconds) || seconds < 60 || seconds > SHARE_MAX_SECONDS)
      throw badRequest(`A link lives between one minute and ${SHARE_MAX_SECONDS / 86400} days.`);
    // Presigning is local arithmetic: ask S3 first whether this user may read the file at all.
    await s3(this.c.statObject(bucket, key));
    const date = new Date(now);
    const url = await s3(this.share.presignedUrl('GET', bucket, key, seconds, {}, date));
    return { url, expiresAt: new Date(date.getTime() + seconds * 1000).toISOString() };
  }

  /** A console-relative presigned GET for previews and downloads (served through /s3/). */
  async contentUrl(bucket: string, key: string, disposition: 'inline' | 'attachment'): Promise<string> {
    const url = await s3(this.c.presignedUrl('GET', bucket, key, APP_URL_SECONDS, { 'response-content-disposition': contentDisposition(disposition, key) }));
    return viaPassthrough(url);
  }

  async startUpload(bucket: string, key: string, size: number, contentType: string | undefined): Promise<UploadPlan> {
    if (!key || key.endsWith('/')) throw badRequest('An upload needs a file name.');
    if (!Number.isSafeInteger(size) || size < 0) throw badRequest('Invalid size.');
    if (size <= MULTIPART_THRESHOLD) {
      return { kind: 'single', url: viaPassthrough(await s3(this.c.presignedUrl('PUT', bucket, key, APP_URL_SECONDS))) };
    }
    const partSize = partSizeFor(size);
    const headers = contentType && /^[\w.+-]+\/[\w.+-]+$/.test(contentType) ? { 'Content-Type': contentType } : {};
    const uploadId = await s3(this.c.initiateNewMultipartUpload(bucket, key, headers));
    return { kind: 'multipart', uploadId, partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
  }

  async partUrls(bucket: string, key: string, uploadId: string, partNumbers: number[]): Promise<string[]> {
    if (partNumbers.length === 0 || partNumbers.length > PART_URL_BATCH) throw badRequest(`Ask for 1-${PART_URL_BATCH} part URLs at a time.`);
    if (!partNumbers.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_PARTS)) throw badRequest('Part numbers are 1-10000.');
    const date = new Date();
    return Promise.all(
      partNumbers.map(async (n) =>
        viaPassthrough(await s3(this.c.presignedUrl('PUT', bucket, key, APP_URL_SECONDS, { partNumber: String(n), uploadId }, date))),
      ),
    );
  }

  async completeUpload(bucket: string, req: CompleteRequest): Promise<void> {
    const parts = [...req.parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ part: p.partNumber, etag: p.etag }));
    await s3(this.c.completeMultipartUpload(bucket, req.key, req.uploadId, parts));
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await s3(this.c.abortMultipartUpload(bucket, key, uploadId));
  }
}

/** `http://s3-host/b/k?X-Amz-…` → `/s3/b/k?X-Amz-…`: the same signed request, on the console's origin. */
export function viaPassthrough(presigned: string): string {
  const u = new URL(presigned);
  return PASSTHROUGH_PREFIX + u.pathname + u.search;
}

async function inBatches<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
