// The ObjectService (data/types.ts) of the cluster: it coordinates every file request across the
// members that hold the data, through placement and the replica interfaces, so the same code serves
// a one-process cluster and a many-node one. Order of a write: body chunks to W of R chunk
// replicas, then the version record to W of R metadata replicas; only the latter makes it visible.
import { randomHex } from '../util/random.ts';
import type { Readable } from 'node:stream';
import type { BucketSettings, ClusterView } from '../cluster/types.ts';
import type { Acl } from '../access/acl.ts';
import { s3Error } from '../util/errors.ts';
import type {
  BucketInfo,
  CompletedPart,
  DeleteOptions,
  DeleteResult,
  GetResult,
  ListOptions,
  ListResult,
  MultipartUpload,
  ObjectService,
  ObjectVersion,
  PartRecord,
  PutOptions,
  StoredChecksum,
  VersionBatch,
  VersionChange,
  VersionSelector,
} from './types.ts';
import type { DataPlane } from './replicas.ts';
import { checkBucketName, checkKey } from './names.ts';
import { BucketMetadata, type KeyVersions } from './metadata.ts';
import { writeConditionally } from './conditional.ts';
import { storeBody } from './write-path.ts';
import { inlineBytes, openBody, resolveRange, streamOf } from './read-path.ts';
import { compareKeys } from './listing.ts';
import { listCurrent, versionBatch } from './object-listing.ts';
import { assembleParts, MAX_PART_NUMBER } from './multipart.ts';
import { checkRemovable, defaultRetention } from './object-lock.ts';
import { newVersionId } from '../meta/version-ids.ts';
import { isLive, isRemoved, s3VersionId, slotOf } from '../meta/slots.ts';
import { openSealedBody } from './sealed-body.ts';
import { DATA_KEY_CONTEXT, newDataKey, openDataKey, rewrapDataKey, type Encryption, type EncryptionRequest } from './sse.ts';
import { QuotaGuard, type UserQuota } from './quota.ts';
import type { MutationKind, MutationListener } from './mutations.ts';
import type { NodeMetrics } from '../observability/metrics.ts';

export interface ObjectServiceOptions {
  /** The cluster master key: SSE-S3 data keys are wrapped under a key derived from it. */
  masterKey?: Buffer;
  metaTimeoutMs?: number; // a metadata quorum that does not answer in time → 503
  chunkTimeoutMs?: number; // per chunk write quorum
  /** The plan of a bucket owner (the registry's user record), checked with the bucket's own quota. */
  userQuota?: (user: string) => UserQuota | undefined;
  /** Told of every acknowledged write and delete before the client is answered (events/). */
  onMutation?: MutationListener;
  metrics?: NodeMetrics;
}

/** The owner and ACL fields of a new version (left out when not given: older readers see no change). */
const ownership = (o: { owner?: string; acl?: Acl }) => ({ ...(o.owner ? { owner: o.owner } : {}), ...(o.acl ? { acl: o.acl } : {}) });

const toInfo = (b: BucketSettings): BucketInfo => ({ name: b.name, createdAt: b.createdAt, replicas: b.replicas, access: b.access });

export class ClusterObjectService implements ObjectService {
  private readonly plane: DataPlane;
  private readonly view: ClusterView;
  private readonly meta: BucketMetadata;
  private readonly chunkTimeoutMs: number;
  private readonly master?: Buffer;
  private readonly quota: QuotaGuard;
  private readonly mutated?: MutationListener;

  constructor(plane: DataPlane, opts: ObjectServiceOptions = {}) {
    this.plane = plane;
    this.view = plane.view;
    this.meta = new BucketMetadata(plane, opts.metaTimeoutMs ?? 10_000);
    this.chunkTimeoutMs = opts.chunkTimeoutMs ?? 30_000;
    this.master = opts.masterKey;
    this.mutated = opts.onMutation;
    this.quota = new QuotaGuard({
      view: this.view,
      usage: (b) => this.meta.usage(b), // What a write replaces: the live null version, unless versioning is on (then every write adds one).
      current: async (b, key) => (b.versioning === 'Enabled' ? undefined : (await this.meta.getKey(b, key)).records.find((r) => slotOf(r) === '' && isLive(r))),
      userQuota: opts.userQuota ?? (() => undefined),
      metrics: opts.metrics,
    });
  }

  private masterKey(): Buffer {
    if (!this.master) throw s3Error('NotImplemented', 'encryption at rest needs the cluster master key, and this node has none');
    return this.master;
  }

  /** A new data key for a write that asks for encryption (and how its record keeps it). */
  private seal(sse: PutOptions['sse']): { seal?: { dataKey: Buffer; encryption: Encryption } } {
    if (!sse) return {};
    const { dataKey, encryption } = newDataKey(sse, this.masterKey(), DATA_KEY_CONTEXT);
    return { seal: { dataKey, encryption } };
  }

  /** The data key of an encrypted record, given the key the reader sent (refused when missing or wrong). */
  dataKeyOf(encryption: Encryption, sse: EncryptionRequest | undefined): Buffer {
    return openDataKey(encryption, sse, this.masterKey(), DATA_KEY_CONTEXT);
  }

  // ---- buckets ------------------------------------------------------------------------------

  async listBuckets(): Promise<BucketInfo[]> {
    return this.view.buckets().map(toInfo);
  }

  async createBucket(name: string, opts: { owner: string; replicas?: number; access?: 'private' | 'public-read'; acl?: Acl }): Promise<BucketInfo> {
    checkBucketName(name);
    const existing = this.view.bucket(name);
    if (existing) throw s3Error(existing.owner === opts.owner ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists', undefined, { resource: name });
    this.quota.checkNewBucket(opts.owner);
    const replicas = opts.replicas ?? this.view.settings().defaultReplicas;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16)
      throw s3Error('InvalidArgument', `replicas must be an integer from 1 to 16, got ${replicas}`);
    const b: BucketSettings = {
      name,
      createdAt: new Date().toISOString(),
      owner: opts.owner,
      replicas,
      access: opts.access ?? 'private',
      ...(opts.acl ? { acl: opts.acl } : {}),
    };
    await this.view.putBucket(b);
    return toInfo(b);
  }

  async headBucket(name: string): Promise<BucketInfo> {
    return toInfo(this.bucket(name));
  }

  async deleteBucket(name: string): Promise<void> {
    const b = this.bucket(name);
    // Noncurrent versions and delete markers keep a bucket from being empty, as in S3.
    const usage = await this.meta.usage(b);
    if (usage.objects > 0 || usage.versions > 0) throw s3Error('BucketNotEmpty', undefined, { resource: name });
    await this.view.removeBucket(name);
  }

  private bucket(name: string): BucketSettings {
    const b = this.view.bucket(name);
    if (!b) throw s3Error('NoSuchBucket', undefined, { resource: name, extra: { BucketName: name } });
    return b;
  }

  /**
   * Stamp and id of a new record of `b`: while versioning is Enabled it is a version of its own (its
   * id names it); otherwise it fills the null version. The id is a version id either way (unique).
   */
  private newRecord(b: BucketSettings): Pick<ObjectVersion, 'timestamp' | 'versionId' | 'versioned' | 'writer'> {
    const timestamp = this.meta.stamps.next();
    return { timestamp, versionId: newVersionId(timestamp), writer: this.view.selfId, ...(b.versioning === 'Enabled' ? { versioned: true } : {}) };
  }

  /**
   * QuotaExceeded when writing `size` bytes at `key` would take the bucket or its owner over a quota
   * (data/quota.ts), checked before the body is taken; commit() checks again with the real size.
   */
  private async checkQuota(b: BucketSettings, key: string, size: number): Promise<void> {
    await this.quota.check(b, key, size);
  }

  /**
   * Commit a new version: the quotas' last word first (a reservation while it is written), then the
   * write — conditionally when the request has a condition (data/conditional.ts), else fenced as
   * every write — then its listener (the event outbox), all before the client hears of it.
   */
  private async commit(b: BucketSettings, v: ObjectVersion, kind: MutationKind, precondition?: PutOptions['precondition']): Promise<ObjectVersion> {
    const release = await this.quota.reserve(b, v);
    let stored: ObjectVersion;
    try {
      stored = precondition
        ? (await writeConditionally(this.meta, b, v.key, {
            decide: (state) => {
              precondition(state.current);
              return v;
            },
          }))!
        : await this.meta.writeVersion(b, v, { fence: 'write' });
    } finally {
      release();
    }
    await this.mutated?.({ kind, bucket: b, version: stored });
    return stored;
  }

  /** The lock fields of a new version: asked for, else the bucket's default retention. */
  private lockOf(b: BucketSettings, opts: Pick<PutOptions, 'retention' | 'legalHold'>, now: number): Pick<ObjectVersion, 'retention' | 'legalHold'> {
    if ((opts.retention || opts.legalHold !== undefined) && !b.objectLock) throw s3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
    const retention = opts.retention ?? defaultRetention(b, now);
    return { ...(retention ? { retention } : {}), ...(opts.legalHold ? { legalHold: true } : {}) };
  }

  // ---- objects ------------------------------------------------------------------------------

  async putObject(bucket: string, key: string, body: Readable, opts: PutOptions): Promise<ObjectVersion> {
    const b = this.bucket(bucket);
    checkKey(key);
    // Checked before the body is taken too (the usual refusal costs no upload); again as it commits.
    if (opts.precondition) opts.precondition((await this.meta.getKey(b, key)).current);
    await this.checkQuota(b, key, opts.size ?? 0);
    const replicas = Math.max(b.replicas, opts.replicas ?? 0);
    const s = this.view.settings();
    const { seal } = this.seal(opts.sse);
    const stored = await storeBody(this.plane, body, {
      replicas,
      pin: opts.pin,
      inlineMax: s.inlineMax,
      chunkSize: s.chunkSize,
      size: opts.size,
      contentMd5: opts.contentMd5,
      signal: opts.signal,
      timeoutMs: this.chunkTimeoutMs,
      ...(seal ? { seal: { dataKey: seal.dataKey, part: 0 } } : {}),
    });
    opts.signal?.throwIfAborted();
    if (opts.size === undefined) await this.checkQuota(b, key, stored.size);
    const head = this.newRecord(b);
    const checksum = opts.checksum?.();
    const v: ObjectVersion = {
      bucket,
      key,
      ...head,
      deleted: false,
      size: stored.size,
      etag: stored.md5,
      contentType: opts.contentType,
      userMeta: opts.userMeta ?? {},
      headers: opts.headers,
      inline: stored.inline,
      chunks: stored.chunks,
      replicas,
      requestedReplicas: opts.replicas ?? 0,
      pin: opts.pin,
      ...ownership(opts),
      ...(seal ? { encryption: seal.encryption } : {}),
      ...(opts.tags?.length ? { tags: opts.tags } : {}),
      ...this.lockOf(b, opts, head.timestamp),
      ...(checksum ? { checksum } : {}),
    };
    return this.commit(b, v, 'Put', opts.precondition);
  }

  /**
   * The version a read names: the current one (NoSuchKey when absent; a current delete marker is
   * NoSuchKey with its headers), or one by id (NoSuchVersion; a delete marker is MethodNotAllowed).
   */
  async headObject(bucket: string, key: string, opts: VersionSelector = {}): Promise<ObjectVersion> {
    const b = this.bucket(bucket);
    checkKey(key);
    if (opts.versionId !== undefined) {
      const v = await this.meta.getSlot(b, key, opts.versionId);
      if (!v || isRemoved(v)) throw s3Error('NoSuchVersion', undefined, { resource: key, extra: { Key: key, VersionId: opts.versionId } });
      if (v.deleted)
        throw s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { resource: key, headers: markerHeaders(v) });
      return v;
    }
    const { current } = await this.meta.getKey(b, key);
    if (!current) throw s3Error('NoSuchKey', undefined, { resource: key, extra: { Key: key } });
    if (current.deleted) throw s3Error('NoSuchKey', undefined, { resource: key, extra: { Key: key }, headers: markerHeaders(current) });
    return current;
  }

  async getObject(
    bucket: string,
    key: string,
    opts: VersionSelector & {
      range?: { start?: number; end?: number; suffix?: number };
      partNumber?: number;
      signal?: AbortSignal;
      sse?: EncryptionRequest;
    } = {},
  ): Promise<GetResult> {
    const version = await this.headObject(bucket, key, opts);
    const range = resolveRange(version.size, opts.range);
    if (version.encryption) {
      const dataKey = this.dataKeyOf(version.encryption, opts.sse);
      return { version, range, ...(await openSealedBody(this.plane, version, range, dataKey, opts.signal)) };
    }
    const bytes = inlineBytes(version, range); // decoded once, for the stream and for direct sending
    if (bytes) return { version, body: streamOf(bytes), range, bytes };
    return { version, range, ...(await openBody(this.plane, version, range, opts.signal)) };
  }

  async putObjectAcl(bucket: string, key: string, acl: Acl, opts: VersionSelector = {}): Promise<ObjectVersion> {
    return this.reviseVersion(bucket, key, opts, () => ({ acl }));
  }

  /**
   * A metadata change of one version: the same write with a higher revision, so it replaces that
   * version's record on every replica and never becomes newer than a later write of the key (meta/lww.ts).
   * Retention and legal hold changes are conditional on the version as read (a removal racing them
   * cannot miss them, data/conditional.ts); ACL and tag changes are last-revision-wins.
   */
  async reviseVersion(bucket: string, key: string, opts: VersionSelector, change: VersionChange): Promise<ObjectVersion> {
    const b = this.bucket(bucket);
    const revise = (v: ObjectVersion): ObjectVersion => {
      const rev = Math.max(Date.now(), (v.rev ?? 0) + 1);
      return { ...v, ...change(v), rev, revBy: this.view.selfId, lastModified: v.lastModified ?? v.timestamp };
    };
    const current = await this.headObject(bucket, key, opts);
    if (!b.objectLock) return this.meta.writeVersion(b, revise(current), { fence: 'revision' });
    const slot = slotOf(current);
    const stored = await writeConditionally(this.meta, b, key, {
      kind: 'revision',
      decide: (state) => {
        const v = state.records.find((r) => slotOf(r) === slot);
        if (!v || v.deleted) throw s3Error('NoSuchVersion', undefined, { resource: key, extra: { Key: key, VersionId: s3VersionId(current) } });
        // Records beside the current one are read without body, which a version never changes.
        return revise({ ...v, inline: current.inline, chunks: current.chunks });
      },
    });
    return stored!;
  }

  /**
   * DeleteObject. Without a version id: a bucket that never versioned loses the key (its null version
   * is removed); a versioning one gets a delete marker (Enabled: a version of its own; Suspended: in
   * the null version's place). With one: that version is removed for good — unless object lock keeps it.
   */
  async deleteObject(bucket: string, key: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const b = this.bucket(bucket);
    checkKey(key);
    const tombstone = (base: Pick<ObjectVersion, 'timestamp' | 'versionId' | 'versioned' | 'writer'>, marker: boolean): ObjectVersion => ({
      bucket,
      key,
      ...base,
      deleted: true,
      ...(marker ? { deleteMarker: true } : {}),
      size: 0,
      etag: '',
      userMeta: {},
      chunks: [],
      replicas: b.replicas,
    });
    if (opts.versionId !== undefined) {
      const id = opts.versionId;
      let wasMarker = false;
      const plan = (state: KeyVersions): ObjectVersion | undefined => {
        const target = state.records.find((r) => s3VersionId(r) === id && !isRemoved(r));
        wasMarker = target?.deleteMarker === true;
        if (opts.precondition?.(target) === 'noop' || !target) return undefined;
        if (!target.deleted) checkRemovable(target, Date.now(), opts.bypassGovernance === true);
        return tombstone(
          {
            timestamp: this.meta.stamps.next(target.timestamp),
            versionId: target.versionId,
            writer: this.view.selfId,
            ...(target.versioned ? { versioned: true } : {}),
          },
          false,
        );
      };
      await this.writeDecided(b, key, plan, opts.precondition !== undefined || b.objectLock !== undefined);
      return { versionId: id, deleteMarker: wasMarker };
    }
    const plan = (state: KeyVersions): ObjectVersion | undefined => {
      if (opts.precondition?.(state.current) === 'noop') return undefined;
      if (b.versioning === undefined) return isLive(state.current) ? tombstone(this.newRecord(b), false) : undefined;
      return tombstone(this.newRecord(b), true);
    };
    const made = await this.writeDecided(b, key, plan, opts.precondition !== undefined);
    if (!made || b.versioning === undefined) return { deleteMarker: false };
    return { versionId: s3VersionId(made), deleteMarker: true };
  }

  /** Write what `plan` decides from the key: as one conditional write, or from a plain read then fenced. */
  private async writeDecided(
    b: BucketSettings,
    key: string,
    plan: (state: KeyVersions) => ObjectVersion | undefined,
    conditional: boolean,
  ): Promise<ObjectVersion | undefined> {
    let made: ObjectVersion | undefined;
    if (conditional) made = await writeConditionally(this.meta, b, key, { decide: plan });
    else {
      const v = plan(await this.meta.getKey(b, key));
      made = v && (await this.meta.writeVersion(b, v, { fence: 'write' }));
    }
    // A delete marker, or the removal of a version: an event as any delete (the outbox's listener).
    if (made) await this.mutated?.({ kind: 'Delete', bucket: b, version: made });
    return made;
  }

  async copyObject(
    src: { bucket: string; key: string } & VersionSelector,
    dst: { bucket: string; key: string },
    opts: PutOptions & { metadataDirective?: 'COPY' | 'REPLACE'; taggingDirective?: 'COPY' | 'REPLACE' },
  ): Promise<ObjectVersion> {
    const source = await this.headObject(src.bucket, src.key, src);
    const b = this.bucket(dst.bucket);
    checkKey(dst.key);
    const replace = opts.metadataDirective === 'REPLACE';
    if (src.bucket === dst.bucket && src.key === dst.key && src.versionId === undefined && !replace && !opts.sse && !source.encryption) {
      throw s3Error(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    if (opts.precondition) opts.precondition((await this.meta.getKey(b, dst.key)).current);
    const tags = opts.taggingDirective === 'REPLACE' ? opts.tags : source.tags;
    const metadata = {
      contentType: replace ? opts.contentType : source.contentType,
      userMeta: replace ? (opts.userMeta ?? {}) : source.userMeta,
      headers: replace ? opts.headers : source.headers,
    };
    // Encryption decides what a copy costs: the same data key wrapped for the destination shares the
    // source's chunks; from plaintext to ciphertext or back, every byte is read and written again.
    let encryption: Encryption | undefined;
    if (source.encryption) {
      const dataKey = this.dataKeyOf(source.encryption, opts.sourceSse);
      if (!opts.sse) return this.copyByStream(src, dst, source, { ...opts, tags }, metadata);
      encryption = rewrapDataKey(dataKey, opts.sse, this.masterKey());
    } else if (opts.sse) {
      return this.copyByStream(src, dst, source, { ...opts, tags }, metadata);
    }
    await this.checkQuota(b, dst.key, source.size);
    // Server side: the chunks are immutable and content-addressed, so the copy reuses their ids.
    // A copy is a new write: the copier's object with its own ACL, lock and revision, never the source's.
    const {
      owner: _o,
      acl: _a,
      rev: _r,
      revBy: _rb,
      lastModified: _lm,
      encryption: _e,
      tags: _t,
      retention: _rt,
      legalHold: _lh,
      versioned: _vd,
      deleteMarker: _dm,
      ...content
    } = source;
    const head = this.newRecord(b);
    const v: ObjectVersion = {
      ...content,
      bucket: dst.bucket,
      key: dst.key,
      ...head,
      // The destination's R applies from now on; repair raises the shared chunks to it.
      replicas: Math.max(b.replicas, source.replicas, opts.replicas ?? 0),
      pin: opts.pin ?? source.pin,
      requestedReplicas: Math.max(opts.replicas ?? 0, source.requestedReplicas ?? 0),
      ...metadata,
      ...ownership(opts),
      ...(encryption ? { encryption } : {}),
      ...(tags?.length ? { tags } : {}),
      ...this.lockOf(b, opts, head.timestamp),
    };
    return this.commit(b, v, 'Copy', opts.precondition);
  }

  /** A copy that re-encrypts (or decrypts): the source's plaintext streamed into a new write. */
  private async copyByStream(
    src: { bucket: string; key: string } & VersionSelector,
    dst: { bucket: string; key: string },
    source: ObjectVersion,
    opts: PutOptions,
    metadata: Pick<PutOptions, 'contentType' | 'userMeta' | 'headers'>,
  ): Promise<ObjectVersion> {
    const got = await this.getObject(src.bucket, src.key, { versionId: src.versionId, sse: opts.sourceSse, signal: opts.signal });
    try {
      // The same plaintext: a whole-object checksum still holds (a composite one described parts this copy does not have).
      const checksum = source.checksum?.type === 'FULL_OBJECT' ? source.checksum : undefined;
      return await this.putObject(dst.bucket, dst.key, got.body, {
        ...opts,
        ...metadata,
        size: source.size,
        contentMd5: undefined,
        pin: opts.pin ?? source.pin,
        checksum: () => checksum,
      });
    } finally {
      got.body.destroy();
    }
  }

  async listObjects(bucket: string, opts: ListOptions): Promise<ListResult> {
    return listCurrent(this.meta, this.bucket(bucket), opts);
  }

  async listVersionBatch(bucket: string, opts: { prefix?: string; from?: string; after?: string; limit: number }): Promise<VersionBatch> {
    return versionBatch(this.meta, this.bucket(bucket), opts);
  }

  // ---- multipart ----------------------------------------------------------------------------

  async createUpload(bucket: string, key: string, opts: PutOptions): Promise<MultipartUpload> {
    const b = this.bucket(bucket);
    checkKey(key);
    const { seal } = this.seal(opts.sse);
    const u: MultipartUpload = {
      bucket,
      key,
      uploadId: `${Date.now().toString(36)}${randomHex(12)}`,
      initiated: new Date().toISOString(),
      contentType: opts.contentType,
      userMeta: opts.userMeta ?? {},
      headers: opts.headers,
      replicas: Math.max(b.replicas, opts.replicas ?? 0),
      requestedReplicas: opts.replicas ?? 0,
      pin: opts.pin,
      owner: opts.owner ?? '',
      ...(opts.acl ? { acl: opts.acl } : {}),
      ...(seal ? { encryption: seal.encryption } : {}),
      ...(opts.tags?.length ? { tags: opts.tags } : {}),
      ...(opts.retention ? { retention: opts.retention } : {}),
      ...(opts.legalHold ? { legalHold: true } : {}),
      ...(opts.uploadChecksum ? { checksum: opts.uploadChecksum } : {}),
    };
    if ((opts.retention || opts.legalHold) && !b.objectLock) throw s3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
    await this.meta.putUpload(b, u);
    return u;
  }

  private async upload(bucket: string, key: string, uploadId: string): Promise<{ b: BucketSettings; u: MultipartUpload }> {
    const b = this.bucket(bucket);
    const u = await this.meta.getUpload(b, uploadId);
    if (!u || u.key !== key) throw s3Error('NoSuchUpload', undefined, { resource: key, extra: { UploadId: uploadId } });
    return { b, u };
  }

  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, opts: PutOptions): Promise<PartRecord> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      body.resume();
      throw s3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive.`);
    }
    const { b, u } = await this.upload(bucket, key, uploadId);
    const s = this.view.settings();
    // An encrypted upload's parts use its data key (SSE-C: each part brings the customer key again).
    if (!u.encryption && opts.sse?.kind === 'SSE-C') {
      body.resume();
      throw s3Error('InvalidRequest', 'The upload was not started with a customer-provided encryption key.');
    }
    let dataKey: Buffer | undefined;
    try {
      dataKey = u.encryption ? this.dataKeyOf(u.encryption, opts.sse) : undefined;
    } catch (e) {
      body.resume();
      throw e;
    }
    // Parts are never inlined: they are concatenated into one chunk list on completion.
    const stored = await storeBody(this.plane, body, {
      replicas: u.replicas,
      pin: u.pin,
      inlineMax: 0,
      chunkSize: s.chunkSize,
      size: opts.size,
      contentMd5: opts.contentMd5,
      signal: opts.signal,
      timeoutMs: this.chunkTimeoutMs,
      ...(dataKey ? { seal: { dataKey, part: partNumber } } : {}),
    });
    opts.signal?.throwIfAborted();
    const now = this.meta.stamps.next();
    const checksum = opts.checksum?.()?.value;
    const part: PartRecord = {
      number: partNumber,
      etag: stored.md5,
      size: stored.size,
      chunks: stored.chunks,
      lastModified: new Date(now).toISOString(),
      timestamp: now,
      ...(checksum ? { checksum } : {}),
    };
    await this.meta.putPart(b, uploadId, part);
    return part;
  }

  async completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    opts: Pick<PutOptions, 'precondition'> & { checksum?: StoredChecksum } = {},
  ): Promise<ObjectVersion> {
    const { b, u } = await this.upload(bucket, key, uploadId);
    const a = assembleParts(parts, await this.meta.listParts(b, uploadId));
    await this.checkQuota(b, key, a.size);
    const head = this.newRecord(b);
    const v: ObjectVersion = {
      bucket,
      key,
      ...head,
      deleted: false,
      size: a.size,
      etag: a.etag,
      contentType: u.contentType,
      userMeta: u.userMeta,
      headers: u.headers,
      chunks: a.chunks,
      replicas: u.replicas,
      requestedReplicas: u.requestedReplicas,
      pin: u.pin,
      parts: a.parts,
      ...ownership({ owner: u.owner || undefined, acl: u.acl }),
      ...(u.encryption ? { encryption: u.encryption } : {}),
      ...(u.tags?.length ? { tags: u.tags } : {}),
      ...this.lockOf(b, { retention: u.retention, legalHold: u.legalHold }, head.timestamp),
      ...(opts.checksum ? { checksum: opts.checksum } : {}),
    };
    const winner = await this.commit(b, v, 'CompleteMultipartUpload', opts.precondition);
    await this.meta.deleteUpload(b, uploadId);
    return winner;
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    const { b } = await this.upload(bucket, key, uploadId);
    await this.meta.deleteUpload(b, uploadId);
  }

  async headUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUpload> {
    return (await this.upload(bucket, key, uploadId)).u;
  }

  async listParts(bucket: string, key: string, uploadId: string): Promise<PartRecord[]> {
    const { b } = await this.upload(bucket, key, uploadId);
    return this.meta.listParts(b, uploadId);
  }

  async listUploads(bucket: string, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads: number }): Promise<MultipartUpload[]> {
    const b = this.bucket(bucket);
    const pages = await this.meta.listUploads(b, {
      prefix: opts.prefix,
      keyMarker: opts.keyMarker,
      uploadIdMarker: opts.uploadIdMarker,
      limit: opts.maxUploads,
    });
    const byId = new Map<string, MultipartUpload>();
    for (const page of pages) for (const u of page) byId.set(u.uploadId, u);
    return [...byId.values()].sort((x, y) => compareKeys(x.key, y.key) || compareKeys(x.uploadId, y.uploadId)).slice(0, Math.max(0, opts.maxUploads));
  }
}

/** The headers a delete marker answers with when a read meets it. */
function markerHeaders(v: ObjectVersion): Record<string, string> {
  return { 'x-amz-delete-marker': 'true', 'x-amz-version-id': s3VersionId(v), 'Last-Modified': new Date(v.timestamp).toUTCString() };
}
