// Metadata of a bucket on its R metadata replicas (placement of `bucket:<name>`): writes at write
// quorum W, reads at read quorum R' = R - W + 1 (so they always meet the last acknowledged write),
// newest version wins, and replicas that answered with an older version are repaired in the background.
// Reads also ask the partition's previous holders and wait briefly for every target, because after a
// membership change the first answer may come from a member that was placed there a moment ago.
// Writes go on while R members answer: a holder that fails or does not answer in time is stood in for
// by the next member of the partition's placement order (hinted handoff, quorum.ts); partition repair
// pushes the stand-in's entries to the holders placement wants and then drops its copy.
import type { ClusterView, BucketSettings, Member } from '../cluster/types.ts';
import { rankAll, replicasFor, writeOrder } from '../cluster/placement.ts';
import type { PeerHealth } from '../cluster/peer-health.ts';
import type { BucketUsage, DataPlane, ListVersionsOptions, MetaReplica, ReplicaDirectory, WriteOptions } from './replicas.ts';
import type { MultipartUpload, ObjectVersion, PartRecord } from './types.ts';
import { handoffQuorum, quorum, readQuorum, writeQuorum } from './quorum.ts';
import { compareVersions, newest } from '../meta/lww.ts';
import { currentOf, mergeSlots, s3VersionId, slotOf } from '../meta/slots.ts';
import { s3Error } from '../util/errors.ts';
import { logger } from '../util/log.ts';
import { withSpan } from '../observability/tracing.ts';
import { WriteStamps } from './stamps.ts';

const log = logger('metadata');

/** How long a read waits for the slower metadata replicas once its quorum answered (a down member
 *  fails at once; this bounds the cost of a hung one). */
const READ_SETTLE_MS = 1000;
/** A metadata write unanswered this long gets a stand-in (a healthy one takes milliseconds). */
const HEDGE_MS = 2000;
/** A write refused as stale is stamped again and retried at most this often (each retry is past
 *  the change that refused it, so more than one means writers of the key keep racing). */
const WRITE_ATTEMPTS = 5;

/** A key as its metadata replicas hold it: every slot's newest record (the ones not current may be
 *  without body) and the current version whole (undefined: the key is absent). */
export interface KeyVersions {
  records: ObjectVersion[];
  current?: ObjectVersion;
}

/** Whether a record carries its body (inline bytes or chunk list), as a read of it needs. */
export function hasBody(v: ObjectVersion): boolean {
  return v.deleted || v.inline !== undefined || v.chunks.length > 0 || v.size === 0;
}

export class BucketMetadata {
  private readonly view: ClusterView;
  private readonly replicas: ReplicaDirectory;
  private readonly timeoutMs: number;
  private readonly health: PeerHealth | undefined;
  /** This coordinator's write stamps (shared with the ObjectService that makes the records). */
  readonly stamps: WriteStamps;
  constructor(plane: DataPlane, timeoutMs: number, stamps = new WriteStamps()) {
    this.view = plane.view;
    this.replicas = plane.replicas;
    this.timeoutMs = timeoutMs;
    this.health = plane.health;
    this.stamps = stamps;
  }

  /** One member's metadata replica (conditional writes call the placed holders themselves). */
  replica(id: string): MetaReplica {
    return this.replicas.meta(id);
  }
  get metaTimeoutMs(): number {
    return this.timeoutMs;
  }

  private suspected = (id: string) => this.health?.suspected(id) ?? false;

  readonly #placed = new WeakMap<Member[], Map<string, PartitionPlacement>>();

  /**
   * Where bucket `b`'s partition lives (`placementOf`), worked out once per member list: the view
   * keeps one list per map version (a new one about every second, as heartbeats refresh liveness
   * times), and every small GET ranked the members six times (~4 % of its CPU in the 3-node probe).
   * With members suspected the read and write orders are worked out anew: suspicion comes and goes
   * by the second, and those orders depend on it.
   */
  private placed(b: BucketSettings): PartitionPlacement {
    const members = this.view.members();
    let byBucket = this.#placed.get(members);
    if (!byBucket) this.#placed.set(members, (byBucket = new Map()));
    const id = `${b.name}\0${b.replicas}`;
    let p = byBucket.get(id);
    if (!p) {
      if (byBucket.size >= PLACED_MAX) byBucket.clear();
      byBucket.set(id, (p = placementOf(b, members, () => false)));
    }
    return this.health && members.some((m) => this.suspected(m.id)) ? placementOf(b, members, this.suspected) : p;
  }

  /** Where bucket `b`'s metadata partition is written: its top-R active members. */
  targets(b: BucketSettings): string[] {
    return this.placed(b).targets;
  }

  /** Where it is read from (`placementOf`). */
  readTargets(b: BucketSettings): string[] {
    return this.placed(b).read;
  }

  // Each quorum round is one span (a no-op unless tracing is on); its replica calls nest inside.
  private write<T>(b: BucketSettings, what: string, op: (r: MetaReplica) => Promise<T>) {
    const order = this.placed(b).order;
    return withSpan('meta.quorum', { 'cairn.bucket': b.name, 'cairn.op': what, 'cairn.replicas': b.replicas }, () =>
      handoffQuorum(order, b.replicas, writeQuorum(b.replicas), (t) => op(this.replicas.meta(t)), {
        timeoutMs: this.timeoutMs,
        hedgeMs: Math.min(HEDGE_MS, this.timeoutMs),
        what: `${what} (bucket ${b.name})`,
        onSilent: (t) => {
          this.health?.unreachable(t);
          log.warn({ bucket: b.name, member: this.view.member(t)?.name ?? t }, `${what} unanswered: writing the next member of the placement order`);
        },
        onLate: (t, e) => log.warn({ bucket: b.name, member: t, err: String(e) }, `${what} failed on a replica after quorum`),
      }),
    );
  }

  /**
   * R' answers at least; then the other targets get a short while to answer too, and newest wins.
   * Only an answer of a member that holds the partition (placed now, or by the ranking over every
   * member) can say a key is absent: a stand-in holds just what was written while it stood in. So
   * when fewer than R' holders answered — the others dead or left out as suspected (a member that
   * came back stays suspected for a few seconds) — the members left out are asked as well.
   */
  private async read<T>(b: BucketSettings, what: string, op: (r: MetaReplica, whole: boolean) => Promise<T>) {
    return withSpan('meta.quorum', { 'cairn.bucket': b.name, 'cairn.op': what, 'cairn.replicas': b.replicas }, async () => {
      const need = readQuorum(b.replicas);
      const opts = { timeoutMs: this.timeoutMs, settleMs: Math.min(this.timeoutMs, READ_SETTLE_MS), what: `${what} (bucket ${b.name})` };
      const { read: asked, holders } = this.placed(b);
      // One target is asked for the whole answer (this member when it is asked: no round trip for
      // the bytes); see getKey.
      const whole = asked.includes(this.view.selfId) ? this.view.selfId : asked[0];
      const first = await quorum(asked, need, (t) => op(this.replicas.meta(t), t === whole), opts).catch((e) => ({ error: e }));
      const answered = 'error' in first ? 0 : first.ok.filter((x) => holders.has(x.target)).length;
      if (answered >= need && !('error' in first)) return first;
      const left = [...holders].filter((t) => !asked.includes(t));
      if (!left.length) {
        if ('error' in first) throw first.error;
        return first;
      }
      const more = await quorum(left, Math.min(left.length, need - answered), (t) => op(this.replicas.meta(t), true), opts).catch((e) => {
        if ('error' in first) throw first.error;
        throw e;
      });
      return 'error' in first ? more : { ok: [...first.ok, ...more.ok], failed: [...first.failed, ...more.failed] };
    });
  }

  /** A repair's merge of a whole record at write quorum (no fences: it restores what was written). */
  async putVersion(b: BucketSettings, v: ObjectVersion): Promise<ObjectVersion> {
    const r = await this.write(b, 'metadata write', (m) => m.putVersion(v));
    return newest(r.ok.map((x) => x.value)) ?? v;
  }

  /**
   * A coordinator's write at write quorum. A new version (`fence: 'write'`) that a replica refuses as
   * stale — the key changed at or after its stamp there, or a conditional write holds it — is
   * stamped again past that change and written again (the same version id: its slot's earlier copies
   * lose to it); a metadata revision that meets a held key waits a moment and tries again.
   */
  async writeVersion(b: BucketSettings, v: ObjectVersion, opts: WriteOptions): Promise<ObjectVersion> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.write(b, 'metadata write', (m) => m.writeVersion(v, opts));
      let staleAt: number | undefined;
      let held = false;
      const stored: ObjectVersion[] = [];
      for (const { value } of r.ok) {
        if ('stored' in value) stored.push(value.stored);
        else if ('staleAt' in value) staleAt = Math.max(staleAt ?? 0, value.staleAt);
        else held = true;
      }
      if (staleAt === undefined && !held) return newest(stored) ?? v;
      if (attempt >= WRITE_ATTEMPTS) throw s3Error('OperationAborted', undefined, { resource: v.key });
      if (opts.fence === 'write' && staleAt !== undefined) v = { ...v, timestamp: this.stamps.next(staleAt) };
      if (held || attempt > 1) await new Promise((res) => setTimeout(res, 10 * 2 ** attempt));
    }
  }

  /**
   * Every version of a key, merged slot by slot from a read quorum (meta/slots.ts says why whole keys),
   * and its current version whole. Only one replica sends its current record's inline body (this
   * member when it holds the partition); the others send records, which are all the merge compares.
   * So the merged record usually comes with its body; else (another replica was newer, or the one
   * asked for it failed) it is read by its version id. Replicas that answered with an older current
   * record are repaired in the background.
   */
  async getKey(b: BucketSettings, key: string): Promise<KeyVersions> {
    const r = await this.read(b, 'metadata read', (m, whole) => m.getVersions(b.name, key, whole ? undefined : { bodies: false }));
    const records = mergeSlots(r.ok.map((x) => x.value));
    let current = currentOf(records);
    if (current && !hasBody(current)) {
      const merged = current;
      current = r.ok.flatMap((x) => x.value).find((v) => compareVersions(v, merged) === 0 && hasBody(v)) ?? (await this.getSlot(b, key, s3VersionId(merged)));
    }
    if (current) {
      const best = current;
      for (const { target, value } of r.ok) {
        const theirs = value.find((v) => slotOf(v) === slotOf(best));
        if (!theirs || compareVersions(best, theirs) > 0) {
          this.replicas
            .meta(target)
            .putVersion(best)
            .catch((e) => log.warn({ bucket: b.name, key, member: target, err: String(e) }, 'read repair failed'));
        }
      }
    }
    return { records, current };
  }

  /** One slot's newest record (`versionId` an S3 version id) from a read quorum, repaired where older. */
  async getSlot(b: BucketSettings, key: string, versionId: string): Promise<ObjectVersion | undefined> {
    const r = await this.read(b, 'metadata read', (m) => m.getVersion(b.name, key, versionId));
    const best = newest(r.ok.map((x) => x.value));
    if (best) {
      for (const { target, value } of r.ok) {
        if (!value || compareVersions(best, value) > 0) {
          this.replicas
            .meta(target)
            .putVersion(best)
            .catch((e) => log.warn({ bucket: b.name, key, member: target, err: String(e) }, 'read repair failed'));
        }
      }
    }
    return best;
  }

  async listPages(b: BucketSettings, opts: ListVersionsOptions): Promise<ObjectVersion[][]> {
    const r = await this.read(b, 'listing', (m) => m.listVersions(b.name, opts));
    return r.ok.map((x) => x.value);
  }

  /** Live objects, versions and bytes: the largest count any replica reports (a lagging replica under-counts). */
  async usage(b: BucketSettings): Promise<BucketUsage> {
    const r = await this.read(b, 'usage', (m) => m.bucketUsage(b.name));
    return r.ok.reduce(
      (acc, { value }) => ({
        objects: Math.max(acc.objects, value.objects),
        bytes: Math.max(acc.bytes, value.bytes),
        // A member from before versions counts only current objects: as many versions as objects.
        versions: Math.max(acc.versions, value.versions ?? value.objects),
        versionBytes: Math.max(acc.versionBytes, value.versionBytes ?? value.bytes),
      }),
      { objects: 0, bytes: 0, versions: 0, versionBytes: 0 },
    );
  }

  async putUpload(b: BucketSettings, u: MultipartUpload): Promise<void> {
    await this.write(b, 'upload create', (m) => m.putUpload(u));
  }

  async getUpload(b: BucketSettings, uploadId: string): Promise<MultipartUpload | undefined> {
    const r = await this.read(b, 'upload read', (m) => m.getUpload(b.name, uploadId));
    return r.ok.map((x) => x.value).find((u) => u !== undefined);
  }

  async listUploads(b: BucketSettings, opts: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<MultipartUpload[][]> {
    const r = await this.read(b, 'upload listing', (m) => m.listUploads(b.name, opts));
    return r.ok.map((x) => x.value);
  }

  async putPart(b: BucketSettings, uploadId: string, part: PartRecord): Promise<void> {
    await this.write(b, 'part write', (m) => m.putPart(b.name, uploadId, part));
  }

  /** Parts by number; for a part uploaded twice, the later upload wins. */
  async listParts(b: BucketSettings, uploadId: string): Promise<PartRecord[]> {
    const r = await this.read(b, 'part listing', (m) => m.listParts(b.name, uploadId));
    const byNumber = new Map<number, PartRecord>();
    for (const { value } of r.ok)
      for (const p of value) {
        const cur = byNumber.get(p.number);
        if (!cur || p.timestamp > cur.timestamp) byNumber.set(p.number, p);
      }
    return [...byNumber.values()].sort((x, y) => x.number - y.number);
  }

  async deleteUpload(b: BucketSettings, uploadId: string): Promise<void> {
    await this.write(b, 'upload delete', (m) => m.deleteUpload(b.name, uploadId));
  }
}

/** How many buckets' placements one member list keeps (a bound, not a tuning: a node serves few). */
const PLACED_MAX = 1024;

/** Where a bucket's metadata partition lives, for one member list and one suspicion state. */
interface PartitionPlacement {
  /** Where it is written: its top-R active members. */
  targets: string[];
  /** The members that hold it (placed now, or by the ranking over every member): only their answer can say a key is absent. */
  holders: Set<string>;
  /** Where a read asks. */
  read: string[];
  /** Where a write goes, in turn (the first R, then stand-ins). */
  order: string[];
}

/**
 * A bucket's partition placement. Reads ask the write targets plus the top-R of the ranking over
 * every member, so that after a membership change (a holder down, draining or back) the members that
 * held the partition are asked too, not only the newly placed ones that may not have it yet.
 */
function placementOf(b: BucketSettings, members: Member[], suspected: (id: string) => boolean): PartitionPlacement {
  const item = `bucket:${b.name}`;
  const targets = replicasFor(item, members, b.replicas).map((m) => m.id);
  const holders = new Set([
    ...targets,
    ...rankAll(item, members)
      .slice(0, b.replicas)
      .map((m) => m.id),
  ]);
  const order = writeOrder(item, members, { suspected }).map((m) => m.id);
  // The first R members that answer (stand-ins included) hold every write made while a holder was suspected.
  const all = [...new Set([...holders, ...order.slice(0, b.replicas)])];
  // A member that failed to answer lately is not waited for, unless too few others are left.
  const likely = all.filter((t) => !suspected(t));
  return { targets, holders, read: likely.length >= readQuorum(b.replicas) ? likely : all, order };
}
