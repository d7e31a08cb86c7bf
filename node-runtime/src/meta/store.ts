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
//
// A small object's body (inline, up to the node's inline size) is kept apart from its record, in
// `bodies` under the same key (issue 23). A record is read by every walk over a partition — repair,
// listings, the chunk reference walk, usage counts — and a body only when that object is read: with
// bodies inside records, each walk read every small object's bytes, and the pages it touched stayed
// in the node's resident memory (a walk over 30,000 objects of 4 KiB: +235 MiB). Records written
// before hold their body inside and are read as they are. A body a few bytes over whole pages keeps
// those bytes in its record (`inlineTail`, see tailOf): a body of 4,096 bytes takes one page, not two.
import { open, type Database, type RootDatabase } from 'lmdb';
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type {
  GetVersionsOptions,
  KeyReservation,
  ListVersionsOptions,
  MultipartUpload,
  ObjectVersion,
  PartRecord,
  ReserveOutcome,
  WriteOptions,
  WriteOutcome,
} from './records.ts';
import { compareVersions } from './lww.ts';
import { currentOf, isRemoved, lastChangeOf, slotOf, slotOfVersionId } from './slots.ts';
import { EMPTY_DIGEST, fold, foldAll, partEntry, uploadEntry, versionEntry, type PartitionDigest } from './digest.ts';

/** A partition's counters: current live objects and their bytes (what a listing shows), and every
 *  stored version (noncurrent ones and delete markers included) with the bytes they hold. */
export interface BucketUsage {
  objects: number;
  bytes: number;
  versions: number;
  versionBytes: number;
}

const SEP = 0x00; // bucket names and keys never contain NUL (data/names.ts), so `bucket \0` is an exact partition prefix
/** The layout of the versions table: 2 = one record per slot (`bucket \0 key \0 slot`). */
const LAYOUT = 2;
/** The layout of the partition digests and the tombstone index (built once from the records when absent). */
const DIGESTS = 1;

function bucketPrefix(bucket: string): Buffer {
  return Buffer.concat([Buffer.from(bucket, 'utf8'), Buffer.from([SEP])]);
}

/** `bucket \0 key \0`: every slot of a key, and nothing else (keys hold no NUL). */
function keyPrefix(bucket: string, key: string): Buffer {
  return Buffer.concat([bucketPrefix(bucket), Buffer.from(key, 'utf8'), Buffer.from([SEP])]);
}

/** `bucket \0 key \0 slot` — byte order of (key, slot), as S3 lists keys (UTF-8 binary order). */
export function versionKey(bucket: string, key: string, slot = ''): Buffer {
  return Buffer.concat([keyPrefix(bucket, key), Buffer.from(slot, 'utf8')]);
}

/** The key of an upload record (a key of its own table: `bucket \0 uploadId`). */
function uploadKey(bucket: string, uploadId: string): Buffer {
  return Buffer.concat([bucketPrefix(bucket), Buffer.from(uploadId, 'utf8')]);
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
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

const emptyUsage = (): BucketUsage => ({ objects: 0, bytes: 0, versions: 0, versionBytes: 0 });

/** How long a reservation holds when its conditional write neither commits nor releases it. */
export const RESERVATION_LEASE_MS = 10_000;
interface StoredReservation {
  id: string;
  timestamp: number;
  until: number;
}

/** A version as stored: its inline body, if any, is in `bodies` (`inlineApart`) with its last bytes
 *  maybe in the record (`inlineTail`), or still inside (older records). */
type StoredVersion = ObjectVersion & { inlineApart?: 1; inlineTail?: Uint8Array };

/** lmdb's header on a value's overflow pages, in bytes: a value too large for a leaf page takes
 *  ⌈(length + OVERFLOW_HEADER) / page size⌉ pages of its own (pinned by store.test.ts). */
export const OVERFLOW_HEADER = 24;
/** At most this many bytes of a body's end are kept in its record (records are read by every walk). */
const TAIL_MAX = 256;

/**
 * How many bytes of the end of an inline body of `length` bytes its record keeps, so that the rest
 * fills its overflow pages exactly: a body whose length is a multiple of the page size (4 KiB, 8 KiB —
 * common sizes) is the header's 24 bytes over, and would take a whole page more for them.
 */
export function tailOf(length: number, pageSize: number): number {
  const over = (length + OVERFLOW_HEADER) % pageSize;
  return length + OVERFLOW_HEADER > pageSize && over <= TAIL_MAX ? over : 0;
}

export class MetaStore {
  private readonly env: RootDatabase;
  private readonly versions: Database<StoredVersion, Buffer>;
  /** Inline bodies (raw bytes) by version key. */
  private readonly bodies: Database<Buffer, Buffer>;
  private readonly uploads: Database<MultipartUpload, Buffer>;
  private readonly parts: Database<PartRecord, Buffer>;
  private readonly usage: Database<BucketUsage, string>;
  private readonly reservations: Database<StoredReservation, Buffer>;
  private readonly kv: Database<unknown, string>;
  /** Per bucket partition: its digest (meta/digest.ts), kept in the transaction of every change. */
  private readonly digests: Database<PartitionDigest, string>;
  /** The removal tombstones (`bucket \0 key \0 slot` → timestamp): tombstone collection reads these, not every record. */
  private readonly tombstones: Database<number, Buffer>;
  private readonly pageSize: number;
  /** Bumped on every change to any partition (in memory): a repair pass that finds it unchanged knows nothing was written here. */
  #changes = 0;
  /** The file lmdb maps (its real path, as /proc/self/maps names it): node/at-rest.ts gives its pages back. */
  readonly mappedFile: string;

  private constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.mappedFile = join(realpathSync(dir), 'data.mdb');
    // remapChunks: the file is mapped in 64 KiB pieces as reads need them instead of whole, so fewer
    // of its pages are resident (issue 23: after 30,000 small objects, four large PUTs and the node's
    // own repair walk, 125–152 MiB of the map resident against 165–289 without; small GETs no slower).
    this.env = open({ path: dir, compression: false, remapChunks: true });
    this.pageSize = (this.env.getStats() as { pageSize: number }).pageSize;
    this.versions = this.env.openDB({ name: 'versions', keyEncoding: 'binary' });
    this.bodies = this.env.openDB({ name: 'bodies', keyEncoding: 'binary', encoding: 'binary' });
    this.uploads = this.env.openDB({ name: 'uploads', keyEncoding: 'binary' });
    this.parts = this.env.openDB({ name: 'parts', keyEncoding: 'binary' });
    this.usage = this.env.openDB({ name: 'usage' });
    this.reservations = this.env.openDB({ name: 'reservations', keyEncoding: 'binary' });
    this.kv = this.env.openDB({ name: 'kv' });
    this.digests = this.env.openDB({ name: 'digests' });
    this.tombstones = this.env.openDB({ name: 'tombstones', keyEncoding: 'binary' });
    if (this.kv.get('layout') !== LAYOUT) this.migrate();
    if (this.kv.get('digests') !== DIGESTS) this.buildDigests();
  }

  /** Digests and the tombstone index from every record, once (a store from before they were kept). */
  private buildDigests(): void {
    this.env.transactionSync(() => {
      const byBucket = new Map<string, PartitionDigest>();
      const add = (bucket: string, entry: Buffer) => byBucket.set(bucket, fold(byBucket.get(bucket) ?? EMPTY_DIGEST, entry, 1));
      for (const k of [...this.tombstones.getKeys({})]) this.tombstones.removeSync(k);
      for (const { key, value } of this.versions.getRange({})) {
        add(value.bucket, versionEntry(value));
        if (isRemoved(value)) this.tombstones.putSync(key, value.timestamp);
      }
      const uploads = new Map<string, string>(); // uploadId → bucket
      for (const { value } of this.uploads.getRange({})) {
        add(value.bucket, uploadEntry(value));
        uploads.set(value.uploadId, value.bucket);
      }
      for (const { key, value } of this.parts.getRange({})) {
        // `bucket \0 uploadId \0 number(4 bytes)`: the number's bytes may hold a NUL, so cut it by length.
        const bucket = key.subarray(0, key.indexOf(SEP)).toString('utf8');
        const uploadId = key.subarray(key.indexOf(SEP) + 1, key.length - 5).toString('utf8');
        add(uploads.get(uploadId) ?? bucket, partEntry(uploadId, value));
      }
      for (const b of [...this.digests.getKeys()]) this.digests.removeSync(b);
      for (const [b, d] of byBucket) this.digests.putSync(b, d);
      this.kv.putSync('digests', DIGESTS);
    });
  }

  /** Fold entries in and out of a bucket's digest (inside a write transaction). */
  private digestSync(bucket: string, out: Buffer[], into: Buffer[]): void {
    const d = foldAll(this.digests.get(bucket) ?? EMPTY_DIGEST, out, into);
    if (d.entries === 0) this.digests.removeSync(bucket);
    else this.digests.putSync(bucket, d);
    this.#changes++;
  }

  /** Every partition's digest here (what repair compares between holders). */
  partitionDigests(): Record<string, PartitionDigest> {
    const out: Record<string, PartitionDigest> = {};
    for (const { key, value } of this.digests.getRange({})) out[key] = value;
    return out;
  }

  /** Pages that inline bodies take (what small objects cost on disk and in the map; the tests read it). */
  bodyPages(): number {
    const s = this.bodies.getStats() as { overflowPages: number; treeLeafPageCount: number; treeBranchPageCount: number };
    return s.overflowPages + s.treeLeafPageCount + s.treeBranchPageCount;
  }

  /** Changes to any partition since this store opened (in memory; a restart starts again at 0). */
  changeCount(): number {
    return this.#changes;
  }

  /** The removal tombstones of a partition, in (key, slot) order: positions and timestamps. */
  listTombstones(bucket: string, opts: { limit: number }): { key: string; slot: string; timestamp: number }[] {
    const base = bucketPrefix(bucket);
    const out: { key: string; slot: string; timestamp: number }[] = [];
    for (const { key, value } of this.tombstones.getRange({ start: base, end: prefixEnd(base) })) {
      const rest = key.subarray(base.length);
      const sep = rest.indexOf(SEP);
      out.push({ key: rest.subarray(0, sep).toString('utf8'), slot: rest.subarray(sep + 1).toString('utf8'), timestamp: value });
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  /**
   * From the layout of one record per key (`bucket \0 key`, before versioning) to one per slot: every
   * record moves to its slot's key and the usage counters are counted again. Once, at open.
   */
  private migrate(): void {
    this.env.transactionSync(() => {
      const byBucket = new Map<string, BucketUsage>();
      const moves = [...this.versions.getRange({})].filter(({ key, value }) => !versionKey(value.bucket, value.key, slotOf(value)).equals(key));
      for (const { key, value } of moves) {
        const v = this.withBody(key, value);
        this.removeRecordSync(key);
        this.putRecordSync(versionKey(value.bucket, value.key, slotOf(value)), v);
      }
      let records: ObjectVersion[] = [];
      const flush = () => {
        if (records.length === 0) return;
        const u = byBucket.get(records[0]!.bucket) ?? emptyUsage();
        countKey(u, records, 1);
        byBucket.set(records[0]!.bucket, u);
        records = [];
      };
      for (const { value } of this.versions.getRange({})) {
        if (records.length && (records[0]!.bucket !== value.bucket || records[0]!.key !== value.key)) flush();
        records.push(value);
      }
      flush();
      for (const b of [...this.usage.getKeys()]) if (!byBucket.has(b)) this.usage.removeSync(b);
      for (const [b, u] of byBucket) this.usage.putSync(b, u);
      this.kv.putSync('layout', LAYOUT);
    });
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
    const flushed = new Promise<unknown>((resolve, reject) => {
      this.env.flushed.then(resolve, reject);
    });
    const r = await commit;
    await flushed;
    return r;
  }

  // ---- object versions ----------------------------------------------------------------------

  /** Every record of a key (one per slot), in slot order, without inline bodies (see `withBody`); read inside a transaction for its writes. */
  private recordsOf(bucket: string, key: string): ObjectVersion[] {
    return this.storedOf(bucket, key).map((r) => r.lean);
  }

  /** A key's records as stored, read once: each lean, and as stored (to add its body back with `bodied`). */
  private storedOf(bucket: string, key: string): { stored: StoredVersion; lean: ObjectVersion }[] {
    const base = keyPrefix(bucket, key);
    return [...this.versions.getRange({ start: base, end: prefixEnd(base) }).map(({ value }) => ({ stored: value, lean: lean(value) }))];
  }

  /** `v` (read from `at`) with its inline body, wherever it is kept. */
  private withBody(at: Buffer, v: StoredVersion): ObjectVersion {
    if (!v.inlineApart) return v;
    const { inlineApart: _, inlineTail: tail, ...rest } = v;
    const body = this.bodies.get(at);
    if (body === undefined) return rest;
    return { ...rest, inline: (tail ? Buffer.concat([body, tail]) : body).toString('base64') };
  }

  /** Store `v` at `at`: the record, and its inline body apart (inside a write transaction). */
  private putRecordSync(at: Buffer, v: ObjectVersion): void {
    if (v.inline === undefined) {
      this.versions.putSync(at, v);
      this.bodies.removeSync(at);
      return;
    }
    const { inline, ...rest } = v;
    const body = Buffer.from(inline, 'base64');
    const tail = tailOf(body.length, this.pageSize);
    this.bodies.putSync(at, body.subarray(0, body.length - tail));
    this.versions.putSync(at, { ...rest, inlineApart: 1, ...(tail ? { inlineTail: body.subarray(body.length - tail) } : {}) });
  }

  private removeRecordSync(at: Buffer): void {
    this.versions.removeSync(at);
    this.bodies.removeSync(at);
  }

  /**
   * Store `v` in its slot if newer than the slot's record (LWW), and keep the usage counters with
   * it in the same transaction. Returns the slot's winner. Called inside a write transaction.
   */
  private mergeSync(v: ObjectVersion, records: ObjectVersion[]): ObjectVersion {
    const slot = slotOf(v);
    const old = records.find((r) => slotOf(r) === slot);
    const at = versionKey(v.bucket, v.key, slot);
    if (old && compareVersions(v, old) <= 0) return this.withBody(at, this.versions.get(at)!);
    this.putRecordSync(at, v);
    this.digestSync(v.bucket, old ? [versionEntry(old)] : [], [versionEntry(v)]);
    if (isRemoved(v)) this.tombstones.putSync(at, v.timestamp);
    else if (old && isRemoved(old)) this.tombstones.removeSync(at);
    const after = old ? records.map((r) => (r === old ? v : r)) : [...records, v];
    const u = { ...emptyUsage(), ...this.usage.get(v.bucket) };
    countKey(u, records, -1);
    countKey(u, after, 1);
    this.usage.putSync(v.bucket, u);
    return v;
  }

  /** LWW merge of `v` into its slot (repair pushes, read repair); returns the slot's winner. */
  putVersion(v: ObjectVersion): Promise<ObjectVersion> {
    return this.durable(this.versions.transaction(() => this.mergeSync(v, this.recordsOf(v.bucket, v.key))));
  }

  /**
   * A coordinator's write of `v` (data/conditional.ts explains the ordering it keeps). Refused —
   * nothing stored — while another conditional write holds the key (`held`), and, for a new write
   * (`fence: 'write'`), when the key already has a change stamped at or after it (`staleAt`: the
   * coordinator stamps it again, later); a metadata revision (`fence: 'revision'`) keeps its stamp.
   * `release` names the reservation this write commits: it is freed with the write.
   */
  writeVersion(v: ObjectVersion, opts: WriteOptions): Promise<WriteOutcome> {
    return this.durable(
      this.versions.transaction((): WriteOutcome => {
        const name = keyPrefix(v.bucket, v.key);
        // A new write stamped after a reservation comes after that conditional write and may go on; one
        // stamped before it would slip under its condition. A commit's stamp was checked when the key
        // was reserved (a holder that did not reserve it merges it).
        const held = this.activeReservation(name);
        if (held && held.id !== opts.release) {
          if (opts.fence !== 'write') return { held: true };
          if (v.timestamp <= held.timestamp) return { staleAt: held.timestamp };
        }
        const records = this.recordsOf(v.bucket, v.key);
        if (opts.fence === 'write') {
          const last = lastChangeOf(records);
          if (last && last.timestamp >= v.timestamp && !(slotOf(last) === slotOf(v) && last.versionId === v.versionId && last.timestamp === v.timestamp)) {
            return { staleAt: last.timestamp };
          }
        }
        const stored = this.mergeSync(v, records);
        if (held && held.id === opts.release) this.reservations.removeSync(name);
        return { stored };
      }),
    );
  }

  /**
   * The first phase of a conditional write: hold the key for reservation `r` if no other holds it,
   * nothing changed it since the coordinator read it (`expected`: the key's last change it saw, or
   * that slot's record when `slot` is given; null = nothing), and — for a new record, not a revision
   * of the slot's — nothing is stamped at or after `r.timestamp`. Durable, so a restart cannot forget
   * a reservation it granted.
   */
  reserveKey(bucket: string, key: string, r: KeyReservation): Promise<ReserveOutcome> {
    return this.durable(
      this.versions.transaction((): ReserveOutcome => {
        const name = keyPrefix(bucket, key);
        const held = this.activeReservation(name);
        if (held && held.id !== r.id) return { held: true };
        const records = this.recordsOf(bucket, key);
        const seen = r.slot !== undefined ? records.find((x) => slotOf(x) === r.slot) : lastChangeOf(records);
        if (seen && (!r.expected || compareVersions(seen, r.expected) > 0)) return { changed: true };
        const last = lastChangeOf(records);
        if (r.slot === undefined && last && last.timestamp >= r.timestamp) return { staleAt: last.timestamp };
        this.reservations.putSync(name, { id: r.id, timestamp: r.timestamp, until: Math.min(r.until, Date.now() + RESERVATION_LEASE_MS) });
        return { reserved: true };
      }),
    );
  }

  /** Free a key reserved by `id` (a conditional write that will not commit here). */
  releaseKey(bucket: string, key: string, id: string): Promise<void> {
    return this.durable(
      this.versions.transaction(() => {
        const name = keyPrefix(bucket, key);
        if (this.reservations.get(name)?.id === id) this.reservations.removeSync(name);
      }),
    ).then(() => {});
  }

  private activeReservation(name: Buffer): StoredReservation | undefined {
    const r = this.reservations.get(name);
    return r && r.until > Date.now() ? r : undefined;
  }

  /**
   * Remove a tombstone, only if the stored record of its slot is exactly that tombstone (a newer
   * write that landed meanwhile is kept). Used by tombstone collection once every member has it.
   */
  removeTombstone(bucket: string, key: string, versionId: string): Promise<boolean> {
    return this.durable(
      this.versions.transaction(() => {
        const records = this.recordsOf(bucket, key);
        const cur = records.find((r) => r.versionId === versionId);
        if (!cur || !isRemoved(cur)) return false;
        this.removeRecordSync(versionKey(bucket, key, slotOf(cur)));
        this.tombstones.removeSync(versionKey(bucket, key, slotOf(cur)));
        this.digestSync(bucket, [versionEntry(cur)], []);
        const u = { ...emptyUsage(), ...this.usage.get(bucket) };
        countKey(u, records, -1);
        countKey(
          u,
          records.filter((r) => r !== cur),
          1,
        );
        this.usage.putSync(bucket, u);
        return true;
      }),
    );
  }

  /** The record of one slot (`versionId` an S3 version id, 'null' for the null version); without
   *  one, the key's newest record of any kind. */
  async getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
    if (versionId !== undefined) {
      const at = versionKey(bucket, key, slotOfVersionId(versionId));
      const v = this.versions.get(at);
      return v && this.withBody(at, v);
    }
    const stored = this.storedOf(bucket, key);
    const last = lastChangeOf(stored.map((r) => r.lean));
    const r = stored.find((x) => x.lean === last);
    return r && this.bodied(r);
  }

  /** A record read by `storedOf`, with its inline body. */
  private bodied(r: { stored: StoredVersion; lean: ObjectVersion }): ObjectVersion {
    return this.withBody(versionKey(r.lean.bucket, r.lean.key, slotOf(r.lean)), r.stored);
  }

  /** Every record of a key, in slot order: its current record whole, the others without body (a
   *  reader that wants one of them reads it by version id). */
  async getVersions(bucket: string, key: string, opts?: GetVersionsOptions): Promise<ObjectVersion[]> {
    const stored = this.storedOf(bucket, key);
    const current = currentOf(stored.map((r) => r.lean));
    return stored.map((r) => {
      if (r.lean === current) return opts?.bodies === false ? r.lean : this.bodied(r);
      return stored.length <= 1 ? r.lean : leanVersion(r.lean, 'listing');
    });
  }

  /** Records in (key, slot) order (tombstones included), from max(prefix, after the start position). */
  async listVersions(bucket: string, opts: ListVersionsOptions): Promise<ObjectVersion[]> {
    const base = Buffer.concat([bucketPrefix(bucket), Buffer.from(opts.prefix ?? '', 'utf8')]);
    // After every slot of startAfter: the first key past `startAfter \0` (keys hold no NUL).
    const after =
      opts.startAt !== undefined
        ? keyPrefix(bucket, opts.startAt)
        : opts.startAfter === undefined
          ? undefined
          : opts.startAfterSlot !== undefined
            ? versionKey(bucket, opts.startAfter, opts.startAfterSlot)
            : prefixEnd(keyPrefix(bucket, opts.startAfter));
    const inclusive = opts.startAt !== undefined || (opts.startAfter !== undefined && opts.startAfterSlot === undefined);
    const start = after && Buffer.compare(after, base) > 0 ? after : base;
    const out: ObjectVersion[] = [];
    if (opts.limit <= 0) return out;
    for (const { key, value } of this.versions.getRange({ start, end: prefixEnd(base) })) {
      if (after && !inclusive && Buffer.compare(key, after) <= 0) continue;
      out.push(opts.fields ? leanVersion(lean(value), opts.fields) : this.withBody(key, value));
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  async bucketUsage(bucket: string): Promise<BucketUsage> {
    return { ...emptyUsage(), ...this.usage.get(bucket) };
  }

  /**
   * Remove this member's whole copy of a bucket partition: versions (tombstones included), uploads,
   * parts and the usage counter. Repair calls it only once every desired holder confirmed the
   * partition and this member is not one of them.
   */
  dropPartition(bucket: string): Promise<void> {
    const base = bucketPrefix(bucket);
    const end = prefixEnd(base);
    return this.durable(
      this.env.transaction(() => {
        for (const k of this.versions.getKeys({ start: base, end })) this.versions.removeSync(k);
        for (const k of this.bodies.getKeys({ start: base, end })) this.bodies.removeSync(k);
        for (const k of this.uploads.getKeys({ start: base, end })) this.uploads.removeSync(k);
        for (const k of this.parts.getKeys({ start: base, end })) this.parts.removeSync(k);
        for (const k of this.reservations.getKeys({ start: base, end })) this.reservations.removeSync(k);
        for (const k of this.tombstones.getKeys({ start: base, end })) this.tombstones.removeSync(k);
        this.usage.removeSync(bucket);
        this.digests.removeSync(bucket);
        this.#changes++;
      }),
    ).then(() => {});
  }

  /** Buckets that have any version records here (for repair and purge). */
  async bucketsWithData(): Promise<string[]> {
    return [...this.usage.getKeys()];
  }

  // ---- multipart uploads ---------------------------------------------------------------------

  putUpload(u: MultipartUpload): Promise<void> {
    return this.durable(
      this.env.transaction(() => {
        const at = uploadKey(u.bucket, u.uploadId);
        const old = this.uploads.get(at);
        this.uploads.putSync(at, u);
        this.digestSync(u.bucket, old ? [uploadEntry(old)] : [], [uploadEntry(u)]);
      }),
    ).then(() => {});
  }

  async getUpload(bucket: string, uploadId: string): Promise<MultipartUpload | undefined> {
    return this.uploads.get(uploadKey(bucket, uploadId));
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
    return this.durable(
      this.env.transaction(() => {
        const at = partKey(bucket, uploadId, part.number);
        const old = this.parts.get(at);
        this.parts.putSync(at, part);
        this.digestSync(bucket, old ? [partEntry(uploadId, old)] : [], [partEntry(uploadId, part)]);
      }),
    ).then(() => {});
  }

  async listParts(bucket: string, uploadId: string): Promise<PartRecord[]> {
    const base = Buffer.concat([bucketPrefix(bucket), Buffer.from(uploadId, 'utf8'), Buffer.from([SEP])]);
    return [...this.parts.getRange({ start: base, end: prefixEnd(base) }).map(({ value }) => value)];
  }

  deleteUpload(bucket: string, uploadId: string): Promise<void> {
    const base = Buffer.concat([bucketPrefix(bucket), Buffer.from(uploadId, 'utf8'), Buffer.from([SEP])]);
    return this.durable(
      this.env.transaction(() => {
        const gone: Buffer[] = [];
        for (const { key, value } of this.parts.getRange({ start: base, end: prefixEnd(base) })) {
          gone.push(partEntry(uploadId, value));
          this.parts.removeSync(key);
        }
        const upload = this.uploads.get(uploadKey(bucket, uploadId));
        if (upload) gone.push(uploadEntry(upload));
        this.uploads.removeSync(uploadKey(bucket, uploadId));
        if (gone.length) this.digestSync(bucket, gone, []);
      }),
    ).then(() => {});
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

/** A stored record as a version without its inline body (kept apart or not). */
function lean(v: StoredVersion): ObjectVersion {
  if (v.inlineApart) {
    const { inlineApart: _, inlineTail: _tail, ...rest } = v;
    return rest;
  }
  if (v.inline === undefined) return v;
  const { inline: _, ...rest } = v;
  return rest;
}

/** A version without its inline body, and for a listing without its chunk list (see ListVersionsOptions.fields). */
function leanVersion(v: ObjectVersion, fields: 'listing' | 'references'): ObjectVersion {
  const { inline: _inline, ...rest } = v;
  return fields === 'listing' ? { ...rest, chunks: [] } : rest;
}

/** Add (sign 1) or take away (-1) what a key's records count for: its current live version, and
 *  every stored version and delete marker. */
function countKey(u: BucketUsage, records: readonly ObjectVersion[], sign: 1 | -1): void {
  const current = currentOf(records);
  if (current && !current.deleted) {
    u.objects += sign;
    u.bytes += sign * current.size;
  }
  for (const r of records) {
    if (isRemoved(r)) continue;
    u.versions += sign;
    u.versionBytes += sign * (r.deleted ? 0 : r.size);
  }
}
