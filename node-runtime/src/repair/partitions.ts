// Metadata partition repair: this member pushes every bucket partition it holds (every version of
// every key, one record per version slot, tombstones included; multipart uploads and their parts) to the partition's desired holders that lack it or
// hold older entries, and drops its own copy once it is misplaced and every desired holder has it. Pushing is a last-writer-wins merge on the receiver, so it is idempotent and
// order-free: two holders pushing the same partition to a newcomer at once cannot conflict, and a
// member coming back with stale entries never overwrites newer ones (nor resurrects a deleted object:
// tombstones are versions too, and are kept).
import { replicasFor } from '../cluster/placement.ts';
import type { MetaStore } from '../meta/store.ts';
import type { ClusterReplicas, MetaReplica } from '../data/replicas.ts';
import type { ObjectVersion } from '../meta/records.ts';
import { compareVersions } from '../meta/lww.ts';
import { comparePositions, positionOf, s3VersionId, slotOf, type Position } from '../meta/slots.ts';
import { logger } from '../util/log.ts';

const log = logger('repair');
const PAGE = 1000;
/** A multipart upload not completed or aborted within this time is abandoned: it and its parts go. */
export const DEFAULT_UPLOAD_EXPIRY_MS = 7 * 24 * 3600_000;

export interface PartitionReport {
  partitions: number; // partitions held here
  misplaced: number; // held here but placement does not want them here
  unconfirmed: number; // partitions some desired holder could not be brought up to date
  pushed: number; // entries sent (versions, uploads, parts)
  expiredUploads: number; // abandoned multipart uploads removed here
  dropped: number; // misplaced partitions removed here after every desired holder confirmed them
  skipped: number; // pushes left out: the holder's digest of the partition equals this member's
  visited: number; // entries read from this member's partitions to push them
  /** Buckets whose every desired holder (a full set of R) confirmed the whole partition. */
  confirmed: Set<string>;
  /** Buckets whose partition is held here while placement wants it elsewhere, and was not dropped yet. */
  surplus: Set<string>;
  /** Buckets whose partition some desired holder could not be brought up to date (or that lack holders). */
  pending: Set<string>;
}

/** Bring every desired holder of each partition held here up to date with this member's entries. */
export async function repairPartitions(
  plane: ClusterReplicas,
  store: MetaStore,
  opts: {
    signal?: AbortSignal;
    uploadExpiryMs?: number;
    now?: number;
    /** True when `member` is known to hold exactly this member's copy of `bucket` (equal digests): nothing to push. */
    inSync?: (bucket: string, member: string) => boolean;
  } = {},
): Promise<PartitionReport> {
  const { signal } = opts;
  const { view, replicas } = plane;
  const report: PartitionReport = {
    partitions: 0,
    misplaced: 0,
    unconfirmed: 0,
    pushed: 0,
    expiredUploads: 0,
    dropped: 0,
    skipped: 0,
    visited: 0,
    confirmed: new Set(),
    surplus: new Set(),
    pending: new Set(),
  };
  const members = view.members();
  for (const name of await store.bucketsWithData()) {
    signal?.throwIfAborted();
    const b = view.bucket(name);
    if (!b) continue; // a deleted bucket: its partition holds only tombstones; nothing to serve
    report.expiredUploads += await expireUploads(store, name, (opts.now ?? Date.now()) - (opts.uploadExpiryMs ?? DEFAULT_UPLOAD_EXPIRY_MS));
    report.partitions++;
    const desired = replicasFor(`bucket:${name}`, members, b.replicas).map((m) => m.id);
    if (!desired.includes(view.selfId)) {
      report.misplaced++;
      report.surplus.add(name);
    }
    let ok = desired.length >= b.replicas;
    for (const d of desired) {
      if (d === view.selfId) continue;
      if (opts.inSync?.(name, d)) {
        report.skipped++;
        continue;
      }
      try {
        report.pushed += await pushPartition(store, replicas.meta(d), name, signal, report);
      } catch (e) {
        if (signal?.aborted) throw e;
        ok = false;
        log.warn({ bucket: name, member: d, err: (e as Error).message }, 'metadata partition push failed');
      }
    }
    if (ok) report.confirmed.add(name);
    else {
      report.unconfirmed++;
      report.pending.add(name);
    }
    if (ok && !desired.includes(view.selfId) && (await settled(replicas, store, name, desired, signal))) {
      await store.dropPartition(name);
      report.dropped++;
      report.surplus.delete(name);
      log.info({ bucket: name, desired }, 'misplaced metadata partition dropped: every desired holder has it');
    }
  }
  return report;
}

/**
 * A second push that finds nothing to send to any desired holder: a write that reached this member
 * through a stale map just before the drop is then on the desired holders too.
 */
async function settled(replicas: ClusterReplicas['replicas'], store: MetaStore, bucket: string, desired: string[], signal?: AbortSignal): Promise<boolean> {
  try {
    for (const d of desired) if ((await pushPartition(store, replicas.meta(d), bucket, signal)) > 0) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Push the entries `to` lacks or holds older; returns how many were sent. Both listings are lean
 * (no inline body, no chunk list: a version's stamp is all a comparison needs), so a walk reads
 * neither side's small bodies and ships none of them over the wire: a partition of 5,000 objects of
 * 4 KiB was ~27 MB of listing per walk, and kept ~20 MiB of the map resident on each holder after
 * it. What is sent is read whole again, alone; a peer from before `fields` lists whole records,
 * which compare the same.
 */
export async function pushPartition(store: MetaStore, to: MetaReplica, bucket: string, signal?: AbortSignal, tally?: { visited: number }): Promise<number> {
  let sent = 0;
  // Records (one per version slot of each key): a merge join of the two (key, slot)-ordered
  // listings, a page at a time.
  const after = (p: Position | undefined) => (p ? { startAfter: p.key, startAfterSlot: p.slot } : {});
  let cursor: Position | undefined;
  let remote: ObjectVersion[] = [];
  let remoteCursor: Position | undefined;
  let remoteDone = false;
  for (let page = 0; page < 10_000_000; page++) {
    signal?.throwIfAborted();
    const local = await store.listVersions(bucket, { ...after(cursor), limit: PAGE, fields: 'listing' });
    if (local.length === 0) break;
    if (tally) tally.visited += local.length;
    const last = positionOf(local[local.length - 1]!);
    // Fetch remote pages until they cover every local record of this page.
    while (!remoteDone && (remote.length === 0 || comparePositions(positionOf(remote[remote.length - 1]!), last) < 0)) {
      const more = await to.listVersions(bucket, { ...after(remoteCursor ?? cursor), limit: PAGE, fields: 'listing' });
      if (more.length < PAGE) remoteDone = true;
      if (more.length === 0) break;
      remote = remote.concat(more);
      remoteCursor = positionOf(more[more.length - 1]!);
    }
    const id = (v: ObjectVersion) => `${v.key}\u0000${slotOf(v)}`;
    const theirs = new Map(remote.map((v) => [id(v), v]));
    const stale = local.filter((v) => {
      const r = theirs.get(id(v));
      return !r || compareVersions(v, r) > 0;
    });
    // Whole (body, chunks) as they are now: a record changed since the listing merges by its stamp
    // all the same; one removed since (tombstone collection) has nothing left to send. Most of a page
    // stale (a new holder) is read again as a page, not record by record (20,000 records to an empty
    // holder: 20–30 % more CPU one by one).
    const again =
      stale.length > local.length / 2 ? new Map((await store.listVersions(bucket, { ...after(cursor), limit: PAGE })).map((v) => [id(v), v])) : undefined;
    await inBatches(stale, 16, async (v) => {
      const whole = again ? again.get(id(v)) : await store.getVersion(bucket, v.key, s3VersionId(v));
      if (whole) await to.putVersion(whole);
    });
    sent += stale.length;
    // Keep only the remote entries past this page for the next round.
    remote = remote.filter((v) => comparePositions(positionOf(v), last) > 0);
    cursor = last;
    if (local.length < PAGE) break;
  }
  // Uploads in progress and their parts (few per bucket).
  const theirUploads = new Set((await to.listUploads(bucket, { limit: 1_000_000 })).map((u) => u.uploadId));
  for (const u of await store.listUploads(bucket, { limit: 1_000_000 })) {
    signal?.throwIfAborted();
    if (!theirUploads.has(u.uploadId)) {
      await to.putUpload(u);
      sent++;
    }
    const theirParts = new Map((await to.listParts(bucket, u.uploadId)).map((p) => [p.number, p]));
    const parts = (await store.listParts(bucket, u.uploadId)).filter((p) => {
      const r = theirParts.get(p.number);
      return !r || p.timestamp > r.timestamp;
    });
    await inBatches(parts, 16, (p) => to.putPart(bucket, u.uploadId, p));
    sent += parts.length;
  }
  return sent;
}

async function inBatches<T>(items: T[], n: number, op: (x: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(op));
}

/**
 * Remove uploads initiated before `cutoff` from this member's partition. Every holder decides alone
 * from the upload's own `initiated` time, so they agree without coordination; their parts' chunks
 * then lose their references and are collected after the grace period.
 */
async function expireUploads(store: MetaStore, bucket: string, cutoff: number): Promise<number> {
  let n = 0;
  for (const u of await store.listUploads(bucket, { limit: 1_000_000 })) {
    const t = Date.parse(u.initiated);
    if (Number.isFinite(t) && t < cutoff) {
      await store.deleteUpload(bucket, u.uploadId);
      log.info({ bucket, key: u.key, uploadId: u.uploadId, initiated: u.initiated }, 'abandoned multipart upload expired');
      n++;
    }
  }
  return n;
}
