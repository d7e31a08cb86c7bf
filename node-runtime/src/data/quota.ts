// Quotas on every write path: the bucket's (Bucket.spec.quota, the registry) and its owner's plan
// (a user's bytes, objects and buckets), checked by the coordinator of the write.
//
// There is no quota authority: usage is what the bucket's metadata replicas count (read at read
// quorum, so every acknowledged write is in it) and the limits come from the registry every node
// caches. A write is checked twice: before its body is taken (with the declared size, so a write
// that cannot fit is refused before any byte is stored) and just before its version is committed
// (with the real size). The second check is a reservation: a coordinator counts the writes it has
// admitted but not yet committed, so the writes of one node never overshoot together. Writes through
// different coordinators can: each sees only its own reservations, so with N coordinators admitting
// at the same moment the usage can end at most (N - 1) x the room that was left above the limit
// (each admits at most that room), and only by writes whose commit overlapped. docs/quotas.md says so.
//
// A write that adds nothing (an overwrite by a smaller or equal body, a delete) is never refused,
// so a bucket over its quota (the limit was lowered) can always be cleaned up.
import type { BucketSettings, ClusterView } from '../cluster/types.ts';
import type { UserQuota } from '../access/users.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import { s3Error } from '../util/errors.ts';
import type { ObjectVersion } from './types.ts';

export type { UserQuota };

export interface Usage {
  bytes: number;
  objects: number;
}

export interface QuotaSources {
  view: ClusterView;
  /** A bucket's usage from its metadata replicas (read quorum). */
  usage(b: BucketSettings): Promise<Usage>;
  /** The live version a write of `key` replaces. */
  current(b: BucketSettings, key: string): Promise<ObjectVersion | undefined>;
  /** The plan of a user (bucket owner), if it has one. */
  userQuota(user: string): UserQuota | undefined;
  metrics?: NodeMetrics;
}

type Limit = 'bytes' | 'objects';
interface Subject {
  id: string;
  scope: 'bucket' | 'user';
  limits: Partial<Record<Limit, number>>;
  describe(n: number, limit: Limit, q: number): string;
}

/** A write's change of usage: what it adds, and what the version it replaces took. */
function delta(size: number, replaced: ObjectVersion | undefined): Usage {
  return { bytes: size - (replaced?.size ?? 0), objects: replaced ? 0 : 1 };
}

export class QuotaGuard {
  private readonly s: QuotaSources;
  /** Admitted writes of this coordinator not committed yet, per subject (`bucket:B`, `user:U`). */
  private readonly pending = new Map<string, Usage>();

  constructor(sources: QuotaSources) {
    this.s = sources;
  }

  /** Before the body: refuse a write that cannot fit (size as declared; 0 when unknown). */
  async check(b: BucketSettings, key: string, size: number): Promise<void> {
    const subjects = this.subjects(b);
    if (subjects.length === 0) return;
    const replaced = await this.replaced(b, key);
    await this.admit(b, key, subjects, delta(size, replaced), false);
  }

  /**
   * Just before the version is committed: admit it and count it as pending until `release()` (call
   * it once the commit resolved or failed). Throws QuotaExceeded when it does not fit.
   */
  async reserve(b: BucketSettings, v: ObjectVersion): Promise<() => void> {
    const subjects = this.subjects(b);
    if (subjects.length === 0 || v.deleted) return () => {};
    return this.admit(b, v.key, subjects, delta(v.size, await this.replaced(b, v.key)), true);
  }

  /** CreateBucket: refuse when the owner's plan allows no more buckets (registry count, as every node caches it). */
  checkNewBucket(owner: string): void {
    const max = this.s.userQuota(owner)?.buckets;
    if (max === undefined) return;
    const owned = this.s.view.buckets().filter((b) => b.owner === owner).length;
    if (owned >= max) {
      this.s.metrics?.quotaRefusals.inc({ scope: 'user', limit: 'buckets' });
      throw s3Error('TooManyBuckets', `User ${owner} owns ${owned} buckets; their quota is ${max}.`);
    }
  }

  private async replaced(b: BucketSettings, key: string): Promise<ObjectVersion | undefined> {
    const v = await this.s.current(b, key);
    return v && !v.deleted ? v : undefined;
  }

  private subjects(b: BucketSettings): Subject[] {
    const out: Subject[] = [];
    if (b.quotaBytes !== undefined || b.quotaObjects !== undefined) {
      out.push({
        id: `bucket:${b.name}`,
        scope: 'bucket',
        limits: { bytes: b.quotaBytes, objects: b.quotaObjects },
        describe: (n, limit, q) => `Bucket ${b.name} would hold ${n} ${limit}; its quota is ${q}.`,
      });
    }
    const plan = this.s.userQuota(b.owner);
    if (plan && (plan.bytes !== undefined || plan.objects !== undefined)) {
      out.push({
        id: `user:${b.owner}`,
        scope: 'user',
        limits: { bytes: plan.bytes, objects: plan.objects },
        describe: (n, limit, q) => `User ${b.owner} would hold ${n} ${limit} in their buckets; their quota is ${q}.`,
      });
    }
    return out;
  }

  private async usageOf(s: Subject, b: BucketSettings): Promise<Usage> {
    if (s.scope === 'bucket') return this.s.usage(b);
    const owned = this.s.view.buckets().filter((x) => x.owner === b.owner);
    const all = await Promise.all(owned.map((x) => this.s.usage(x)));
    return all.reduce((a, u) => ({ bytes: a.bytes + u.bytes, objects: a.objects + u.objects }), { bytes: 0, objects: 0 });
  }

  /** Refuse `d` if it does not fit; else, when `hold`, count it as pending until the returned release. */
  private async admit(b: BucketSettings, key: string, subjects: Subject[], d: Usage, hold: boolean): Promise<() => void> {
    if (d.bytes <= 0 && d.objects <= 0) return () => {};
    const usages = await Promise.all(subjects.map((s) => this.usageOf(s, b)));
    // From here to the reservation nothing awaits: concurrent admissions see each other's.
    for (const [i, s] of subjects.entries()) {
      const pending = this.pending.get(s.id) ?? { bytes: 0, objects: 0 };
      for (const limit of ['bytes', 'objects'] as const) {
        const q = s.limits[limit];
        if (q === undefined || d[limit] <= 0) continue;
        const would = usages[i][limit] + pending[limit] + d[limit];
        if (would > q) {
          this.s.metrics?.quotaRefusals.inc({ scope: s.scope, limit });
          throw s3Error('QuotaExceeded', s.describe(would, limit, q), { resource: key });
        }
      }
    }
    if (!hold) return () => {};
    const added = { bytes: Math.max(0, d.bytes), objects: Math.max(0, d.objects) };
    for (const s of subjects) this.add(s.id, added, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const s of subjects) this.add(s.id, added, -1);
    };
  }

  private add(id: string, u: Usage, sign: 1 | -1): void {
    const cur = this.pending.get(id) ?? { bytes: 0, objects: 0 };
    const next = { bytes: cur.bytes + sign * u.bytes, objects: cur.objects + sign * u.objects };
    if (next.bytes <= 0 && next.objects <= 0) this.pending.delete(id);
    else this.pending.set(id, next);
  }
}
