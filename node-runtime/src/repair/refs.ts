// Chunk references, derived from the metadata itself: which chunks the live object versions and the
// in-progress multipart uploads of every bucket point at, with the R they want now (effectiveReplicas:
// their bucket's current R, or more when the write asked for more) and the pins they were written with.
//
// Why derived rather than a refs table kept beside each chunk (Garage's block refcount table): the
// metadata partitions are already replicated with quorum reads, and they are the one source of
// truth about what is live. A separate refs table would be a second copy that can drift (a missed
// decrement leaks, a missed increment deletes live data), and the write path creates the version id
// only after its chunks are stored. Building the index from the listings of every member means
// garbage collection only deletes what no copy of any metadata partition references, and a member
// that is down or a listing that fails makes the index incomplete, which disables deletion.
import type { ClusterReplicas, ReplicaDirectory } from '../data/replicas.ts';
import { holdsData } from '../cluster/placement.ts';
import { mergePages } from '../data/listing.ts';
import type { ChunkRef, MultipartUpload, ObjectVersion, PartRecord } from '../meta/records.ts';
import { sameDigest, type PartitionDigest } from '../meta/digest.ts';

export interface ChunkRefs {
  size: number;
  r: number; // the largest effective R of the versions and uploads that reference it
  pin?: string[]; // pins of the first reference that has any
  refs: number; // how many versions/parts reference it
  buckets: string[]; // the buckets whose versions or uploads reference it (progress per bucket)
}

/**
 * The R a stored version (or upload) wants now: its bucket's current R, or more when the write asked
 * for more with x-cairn-replicas (recorded as `requestedReplicas`), so a bucket's changed factor
 * converges every existing object, up and down, while a per-write raise is kept. A version written
 * before the raise was recorded apart has only `replicas`, the R it was written with: whether that
 * came from the bucket or a header cannot be told, so it stays a floor (never lowered below it;
 * raised with its bucket like any other).
 */
export function effectiveReplicas(v: { replicas: number; requestedReplicas?: number }, bucketReplicas: number): number {
  return Math.max(bucketReplicas, v.requestedReplicas ?? v.replicas);
}

export class ReferenceIndex {
  readonly chunks = new Map<string, ChunkRefs>();
  /** When set, only these chunk ids are indexed (a member needs the refs of what it stores). */
  readonly only?: Set<string>;
  constructor(only?: Set<string>) {
    this.only = only;
  }
  /** False when some bucket could not be listed: nothing may be deleted on the strength of this index. */
  complete = true;
  readonly errors: string[] = [];
  /** Records read from every member's listings (the cost of building the index). */
  visited = 0;

  /** The R of each bucket as this index saw it (the R its chunks were planned with). */
  readonly bucketReplicas = new Map<string, number>();

  add(c: ChunkRef, r: number, pin?: string[], bucket?: string): void {
    if (this.only && !this.only.has(c.id)) return;
    const cur = this.chunks.get(c.id);
    if (!cur) {
      this.chunks.set(c.id, { size: c.size, r, pin: pin?.length ? pin : undefined, refs: 1, buckets: bucket ? [bucket] : [] });
      return;
    }
    cur.refs++;
    cur.r = Math.max(cur.r, r);
    if (!cur.pin && pin?.length) cur.pin = pin;
    if (bucket && !cur.buckets.includes(bucket)) cur.buckets.push(bucket);
  }

  /** A live version (current or not) references its chunks; a tombstone or an inline body references none. */
  addVersion(v: ObjectVersion, bucket?: { name: string; replicas: number }): void {
    if (v.deleted) return;
    for (const c of v.chunks) this.add(c, effectiveReplicas(v, bucket?.replicas ?? 0), v.pin, bucket?.name ?? v.bucket);
  }

  addUpload(u: MultipartUpload, parts: PartRecord[], bucket?: { name: string; replicas: number }): void {
    for (const p of parts) for (const c of p.chunks) this.add(c, effectiveReplicas(u, bucket?.replicas ?? 0), u.pin, bucket?.name ?? u.bucket);
  }

  get(id: string): ChunkRefs | undefined {
    return this.chunks.get(id);
  }

  /** Add what another index (one bucket's) found, as if its references had been added here. */
  merge(from: Map<string, ChunkRefs>): void {
    for (const [id, c] of from) {
      if (this.only && !this.only.has(id)) continue;
      const cur = this.chunks.get(id);
      if (!cur) {
        this.chunks.set(id, { ...c, buckets: [...c.buckets] });
        continue;
      }
      cur.refs += c.refs;
      cur.r = Math.max(cur.r, c.r);
      cur.pin ??= c.pin;
      for (const b of c.buckets) if (!cur.buckets.includes(b)) cur.buckets.push(b);
    }
  }
}

/**
 * Pure: which members to list a bucket from, given every member's partition digests. Members whose
 * digests say they hold nothing of it are left out, and of members with equal digests (the same
 * records) one is listed — this member when it is one of them, its listing being local. `key` names
 * what was listed (R and each member's digest): an index of the bucket made under the same key holds
 * the same references. Undefined digests anywhere: every member is listed, and there is no key.
 */
export function bucketSources(
  bucket: { name: string; replicas: number },
  members: string[],
  digests: Map<string, Record<string, PartitionDigest> | undefined> | undefined,
  selfId: string,
): { list: string[]; key?: string } {
  if (!digests || members.some((m) => digests.get(m) === undefined)) return { list: members };
  const byDigest = new Map<string, string>();
  const parts: string[] = [];
  for (const m of members) {
    const d = digests.get(m)![bucket.name];
    parts.push(`${m}:${d ? `${d.hash}/${d.entries}` : '-'}`);
    if (!d) continue;
    const k = `${d.hash}/${d.entries}`;
    if (!byDigest.has(k) || m === selfId) byDigest.set(k, m);
  }
  return { list: [...byDigest.values()], key: `${bucket.replicas}|${parts.sort().join(',')}` };
}

/**
 * One bucket's references as the last pass indexed them, under the key of its digests (bucketSources).
 * Reused while the key is the same and no chunk arrived here since (a chunk stored later could be
 * referenced by a record the cached index filtered out): a pass after k changed objects then lists
 * only the buckets they changed. Why this is safe for garbage collection: equal digests on every
 * member mean the same records as when the bucket was listed, so the same references.
 */
export class ReferenceCache {
  readonly #buckets = new Map<string, { key: string; only: Set<string> | undefined; refs: Map<string, ChunkRefs> }>();
  readonly #covers = new Map<Set<string> | undefined, boolean>();

  get(bucket: string, key: string | undefined, only: Set<string> | undefined): Map<string, ChunkRefs> | undefined {
    const e = this.#buckets.get(bucket);
    if (!e || key === undefined || e.key !== key) return undefined;
    return this.#covered(e.only, only) ? e.refs : undefined;
  }

  set(bucket: string, key: string | undefined, only: Set<string> | undefined, refs: Map<string, ChunkRefs>): void {
    if (key === undefined) this.#buckets.delete(bucket);
    else this.#buckets.set(bucket, { key, only, refs });
  }

  /** Forget buckets not in `keep` (deleted ones) and the memo of the last pass. */
  retain(keep: Set<string>): void {
    for (const b of [...this.#buckets.keys()]) if (!keep.has(b)) this.#buckets.delete(b);
    this.#covers.clear();
  }

  clear(): void {
    this.#buckets.clear();
    this.#covers.clear();
  }

  /** Was an index filtered by `was` told about every chunk in `now`? */
  #covered(was: Set<string> | undefined, now: Set<string> | undefined): boolean {
    if (was === undefined || was === now) return true;
    if (now === undefined) return false;
    let ok = this.#covers.get(was);
    if (ok === undefined) {
      ok = true;
      for (const id of now) {
        if (!was.has(id)) {
          ok = false;
          break;
        }
      }
      this.#covers.set(was, ok);
    }
    return ok;
  }
}

const PAGE = 1000;

/**
 * Read every bucket's versions (every slot of every key) and in-progress uploads from *every* data
 * member that is not drained, merging the newest record per slot, and index the chunks the live
 * versions reference — noncurrent ones included: a chunk goes only when no version keeps it.
 *
 * Why every member rather than a read quorum of the bucket's desired holders: right after a map
 * change the desired holders may be new members that have not received the partition yet (metadata
 * repair is still pushing it), and a quorum read could then see an empty bucket. Asking every member
 * sees each version wherever a copy is; and if any member is down or does not answer, a version
 * only it holds could be missed, so the index is marked incomplete and nothing is collected.
 * Bounded: pages advance strictly by key.
 */
export async function buildReferenceIndex(
  { view, replicas }: ClusterReplicas,
  opts: {
    signal?: AbortSignal;
    only?: Set<string>;
    /** Every member's partition digests (this pass's): list each bucket from one member per distinct digest, and reuse `cache`. */
    digests?: Map<string, Record<string, PartitionDigest> | undefined>;
    cache?: ReferenceCache;
    /** Trust no digest (the safety-net pass): list every member, use no cached bucket; the cache is still refreshed. */
    everyMember?: boolean;
  } = {},
): Promise<ReferenceIndex> {
  const index = new ReferenceIndex(opts.only);
  const sources = view.members().filter((m) => holdsData(m) && m.state !== 'drained');
  const down = sources.filter((m) => m.state === 'down');
  if (down.length) {
    index.complete = false;
    index.errors.push(`members down: ${down.map((m) => m.name).join(', ')}`);
  }
  const reachable = sources.filter((m) => m.state !== 'down').map((m) => m.id);
  const cache = opts.cache;
  cache?.retain(new Set(view.buckets().map((b) => b.name)));
  for (const b of view.buckets()) {
    opts.signal?.throwIfAborted();
    index.bucketReplicas.set(b.name, b.replicas);
    const sources = bucketSources(b, reachable, opts.digests, view.selfId);
    let { key } = sources;
    const list = opts.everyMember ? reachable : sources.list;
    const cached = opts.everyMember ? undefined : cache?.get(b.name, key, opts.only);
    if (cached) {
      index.merge(cached);
      continue;
    }
    let one = new ReferenceIndex(opts.only);
    try {
      await indexBucket(replicas, b, list, one, opts.signal);
      // Listed from fewer members than hold it: only sound if what was listed is what the digests
      // described — a member that dropped its copy of the partition (or changed it) since must not
      // stand for the others. Checked after the listing; otherwise listed from every member.
      if (list.length < reachable.length && !(await unchanged(replicas, list, b.name, opts.digests!))) {
        one = new ReferenceIndex(opts.only);
        key = undefined;
        await indexBucket(replicas, b, reachable, one, opts.signal);
      }
    } catch (e) {
      one.complete = false;
      one.errors.push(`bucket ${b.name}: ${(e as Error).message}`);
    }
    index.visited += one.visited;
    index.merge(one.chunks);
    if (!one.complete) {
      index.complete = false;
      index.errors.push(...one.errors);
    }
    cache?.set(b.name, one.complete ? key : undefined, opts.only, one.chunks);
  }
  return index;
}

/** Do these members still have the digests of `bucket` the pass started with? */
async function unchanged(
  replicas: ReplicaDirectory,
  members: string[],
  bucket: string,
  digests: Map<string, Record<string, PartitionDigest> | undefined>,
): Promise<boolean> {
  const now = await Promise.all(members.map((m) => replicas.meta(m).partitionDigests()));
  return members.every((m, i) => sameDigest(digests.get(m)?.[bucket], now[i]![bucket]));
}

async function indexBucket(
  replicas: ReplicaDirectory,
  settings: { name: string; replicas: number },
  members: string[],
  index: ReferenceIndex,
  signal?: AbortSignal,
): Promise<void> {
  const bucket = settings.name;
  // A member that fails is left out (the index is then incomplete: no GC) so that repair still
  // learns the references from the members that answered.
  const from = async <T>(what: string, call: (m: string) => Promise<T>): Promise<T[]> => {
    const got = await Promise.allSettled(members.map(call));
    const ok: T[] = [];
    got.forEach((g, i) => {
      if (g.status === 'fulfilled') {
        ok.push(g.value);
        return;
      }
      index.complete = false;
      index.errors.push(`bucket ${bucket} ${what} on ${members[i]}: ${(g.reason as Error)?.message ?? g.reason}`);
    });
    if (ok.length === 0 && members.length > 0) throw new Error(`no member answered the ${what} of bucket ${bucket}`);
    return ok;
  };
  // Every version slot of every key (noncurrent versions reference chunks too), merged slot by slot.
  let after: { key: string; slot: string } | undefined;
  for (let page = 0; page < 10_000_000; page++) {
    signal?.throwIfAborted();
    const pages = await from('listing', (m) =>
      replicas.meta(m).listVersions(bucket, { startAfter: after?.key, startAfterSlot: after?.slot, limit: PAGE, fields: 'references' }),
    );
    for (const p of pages) index.visited += p.length;
    const { versions, complete, bound } = mergePages(pages, PAGE);
    for (const v of versions) index.addVersion(v, settings);
    if (complete || !bound) break;
    after = bound;
  }
  // Uploads: one listing per member; the parts of an upload are the union of what members hold.
  const uploads = new Map<string, MultipartUpload>();
  for (const list of await from('upload listing', (m) => replicas.meta(m).listUploads(bucket, { limit: 1_000_000 }))) {
    for (const u of list) uploads.set(u.uploadId, u);
  }
  for (const u of uploads.values()) {
    const parts = (await from('part listing', (m) => replicas.meta(m).listParts(bucket, u.uploadId))).flat();
    index.addUpload(u, parts, settings);
  }
}
