// The embedded metadata store of one member: object versions of the bucket partitions it holds,
// multipart uploads and parts, bucket usage counters, and a small key-value area (node identity,
// the standalone bucket registry). Built on LMDB (`lmdb` package) because:
//  - keys are ordered byte strings, so listing a bucket by prefix / start-after is a range scan
//    over `bucket \0 key` without a secondary index;
//  - transactions are ACID, so the LWW merge and the usage counter change commit together;
//  - lmdb-js batches concurrent async writes into one transaction (group commit) on a writer
//    thread, so many small PUTs share one fsync;
//  - reads are synchronous from a memory map (no I/O round trip for HEAD/GET metadata).
// Every write resolves only after its commit is flushed to disk (durable before acknowledged).
import { open, type Database, type RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ListVersionsOptions, MultipartUpload, ObjectVersion, PartRecord } from './records.ts';
import { compareVersions } from './lww.ts';

export interface BucketUsage { objects: number; bytes: number }

const SEP = 0x00;        // bucket names never contain NUL, so `bucket \0` is an exact partition prefix

function bucketPrefix(bucket: string): Buffer {
  return Buffer.concat([Buffer.from(bucket, 'utf8'), Buffer.from([SEP])]);
}

/** `bucket \0 key` — byte order of the key, as S3 lists (UTF-8 binary order). */
export function versionKey(bucket: string, key: string): Buffer {
  return Buffer.concat([bucketPrefix(bucket), Buffer.from(key, 'utf8')]);
}

function partKey(bucket: string, uploadId: string, number: number): Buffer {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(number);
  return Buffer.concat([bucketPrefix(bucket), Buffer.from(uploadId, 'utf8'), Buffer.from([SEP]), n]);
}

/** The first key after every key that starts with `prefix` (exclusive end of a prefix range). */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) { end[i]++; return end.subarray(0, i + 1); }
  }
  return undefined;
}

export class MetaStore {
  private readonly env: RootDatabase;
  private readonly versions: Database<ObjectVersion, Buffer>;
  private readonly uploads: Database<MultipartUpload, Buffer>;
  private readonly parts: Database<PartRecord, Buffer>;
  private readonly usage: Database<BucketUsage, string>;
  private readonly kv: Database<unknown, string>;

  private constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.env = open({ path: dir, compression: false });
    this.versions = this.env.openDB({ name: 'versions', keyEncoding: 'binary' });
    this.uploads = this.env.openDB({ name: 'uploads', keyEncoding: 'binary' });
    this.parts = this.env.openDB({ name: 'parts', keyEncoding: 'binary' });
    this.usage = this.env.openDB({ name: 'usage' });
    this.kv = this.env.openDB({ name: 'kv' });
  }

  /** Open (creating) the store in `<dataDir>/meta`. */
  static open(dataDir: string): MetaStore {
    return new MetaStore(join(dataDir, 'meta'));
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }

  /**
   * Wait for a commit and for it to be on disk (overlappingSync acknowledges before the flush).
   * The flush is taken at once, while the write is the newest queued: `env.flushed` is the flush
   * of whatever batch is pending when it is read, so read after the commit it would often be the
   * *next* batch's under load — a whole extra commit and fsync on every acknowledged write. (Any
   * later flush also covers this write: waiting for one is never less durable, only slower.)
   */
  private async durable<T>(commit: Promise<T>): Promise<T> {
    const flushed = new Promise<unknown>((resolve, reject) => { this.env.flushed.then(resolve, reject); });
    const r = await commit;
    await flushed;
    return r;
  }

  // ---- object versions ----------------------------------------------------------------------

  /** LWW merge: `v` is stored only if newer than the stored version; returns the winner. */
  putVersion(v: ObjectVersion): Promise<ObjectVersion> {
    const k = versionKey(v.bucket, v.key);
    return this.durable(this.versions.transaction(() => {
      const old = this.versions.get(k);
      if (old && compareVersions(v, old) <= 0) return old;
      this.versions.putSync(k, v);
      const u = this.usage.get(v.bucket) ?? { objects: 0, bytes: 0 };
      if (old && !old.deleted) { u.objects--; u.bytes -= old.size; }
      if (!v.deleted) { u.objects++; u.bytes += v.size; }
      this.usage.putSync(v.bucket, u);
      return v;
    }));
  }

  /**
   * Remove a tombstone, only if the stored version of the key is exactly that tombstone (a newer
   * write that landed meanwhile is kept). Used by tombstone collection once every member has it.
   */
  removeTombstone(bucket: string, key: string, versionId: string): Promise<boolean> {
    const k = versionKey(bucket, key);
    return this.durable(this.versions.transaction(() => {
      const cur = this.versions.get(k);
      if (!cur || !cur.deleted || cur.versionId !== versionId) return false;
      this.versions.removeSync(k);
      return true;
    }));
  }

  async getVersion(bucket: string, key: string): Promise<ObjectVersion | undefined> {
    return this.versions.get(versionKey(bucket, key));
  }

  /** Latest version per key in key order (tombstones included), from max(prefix, after startAfter). */
  async listVersions(bucket: string, opts: ListVersionsOptions): Promise<ObjectVersion[]> {
    const base = versionKey(bucket, opts.prefix ?? '');
    const after = opts.startAfter !== undefined ? versionKey(bucket, opts.startAfter) : undefined;
    const start = after && Buffer.compare(after, base) > 0 ? after : base;
    const out: ObjectVersion[] = [];
    if (opts.limit <= 0) return out;
    for (const { key, value } of this.versions.getRange({ start, end: prefixEnd(base) })) {
      if (after && Buffer.compare(key, after) <= 0) continue;
      out.push(opts.fields ? leanVersion(value, opts.fields) : value);
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  async bucketUsage(bucket: string): Promise<BucketUsage> {
    return { ...(this.usage.get(bucket) ?? { objects: 0, bytes: 0 }) };
  }

  /**
   * Remove this member's whole copy of a bucket partition: versions (tombstones included), uploads,
   * parts and the usage counter. Repair calls it only once every desired holder confirmed the
   * partition and this member is not one of them.
   */
  dropPartition(bucket: string): Promise<void> {
    const base = bucketPrefix(bucket);
    const end = prefixEnd(base);
    return this.durable(this.env.transaction(() => {
      for (const k of this.versions.getKeys({ start: base, end })) this.versions.removeSync(k);
      for (const k of this.uploads.getKeys({ start: base, end })) this.uploads.removeSync(k);
      for (const k of this.parts.getKeys({ start: base, end })) this.parts.removeSync(k);
      this.usage.removeSync(bucket);
    })).then(() => {});
  }

  /** Buckets that have any version records here (for repair and purge). */
  async bucketsWithData(): Promise<string[]> {
    return [...this.usage.getKeys()];
  }

  // ---- multipart uploads ---------------------------------------------------------------------

  putUpload(u: MultipartUpload): Promise<void> {
    return this.durable(this.uploads.put(versionKey(u.bucket, u.uploadId), u)).then(() => {});
  }

  async getUpload(bucket: string, uploadId: string): Promise<MultipartUpload | undefined> {
    return this.uploads.get(versionKey(bucket, uploadId));
  }

  /** Uploads in (key, uploadId) order after the markers, filtered by prefix. A bucket's in-progress
   * uploads are few, so they are sorted in memory rather than kept in a second index. */
  async listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[]> {
    const base = bucketPrefix(bucket);
    const all: MultipartUpload[] = [];
    for (const { value } of this.uploads.getRange({ start: base, end: prefixEnd(base) })) {
      if (opts.prefix && !value.key.startsWith(opts.prefix)) continue;
      all.push(value);
    }
    const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    all.sort((a, b) => cmp(a.key, b.key) || cmp(a.uploadId, b.uploadId));
    const afterMarker = (u: MultipartUpload) => {
      if (opts.keyMarker === undefined) return true;
      const c = cmp(u.key, opts.keyMarker);
      if (c !== 0) return c > 0;
      return opts.uploadIdMarker !== undefined && cmp(u.uploadId, opts.uploadIdMarker) > 0;
    };
    return all.filter(afterMarker).slice(0, Math.max(0, opts.limit));
  }

  putPart(bucket: string, uploadId: string, part: PartRecord): Promise<void> {
    return this.durable(this.parts.put(partKey(bucket, uploadId, part.number), part)).then(() => {});
  }

  async listParts(bucket: string, uploadId: string): Promise<PartRecord[]> {
    const base = Buffer.concat([bucketPrefix(bucket), Buffer.from(uploadId, 'utf8'), Buffer.from([SEP])]);
    return [...this.parts.getRange({ start: base, end: prefixEnd(base) }).map(({ value }) => value)];
  }

  deleteUpload(bucket: string, uploadId: string): Promise<void> {
    const base = Buffer.concat([bucketPrefix(bucket), Buffer.from(uploadId, 'utf8'), Buffer.from([SEP])]);
    return this.durable(this.env.transaction(() => {
      for (const k of this.parts.getKeys({ start: base, end: prefixEnd(base) })) this.parts.removeSync(k);
      this.uploads.removeSync(versionKey(bucket, uploadId));
    })).then(() => {});
  }

  // ---- key-value area -----------------------------------------------------------------------

  getKV<T>(name: string): T | undefined {
    return this.kv.get(name) as T | undefined;
  }

  putKV(name: string, value: unknown): Promise<void> {
    return this.durable(this.kv.put(name, value)).then(() => {});
  }

  deleteKV(name: string): Promise<void> {
    return this.durable(this.kv.remove(name)).then(() => {});
  }
}

/** A version without its inline body, and for a listing without its chunk list (see ListVersionsOptions.fields). */
function leanVersion(v: ObjectVersion, fields: 'listing' | 'references'): ObjectVersion {
  const { inline: _inline, ...rest } = v;
  return fields === 'listing' ? { ...rest, chunks: [] } : rest;
}
