// Tombstone collection. A removal is a record of its slot (a tombstone: the delete of a key in a
// bucket that never versioned, or of one version by id) so that a member holding an older live record
// cannot bring the slot back when it pushes its partition (LWW keeps the tombstone). Delete markers are
// S3 versions, never collected here. A tombstone may go only once no member anywhere holds an older
// live record of its slot:
// every data member in the map (drained ones too: they can be undrained) must answer, and each must
// hold either nothing for the key, or this tombstone, or an older tombstone. A member still holding
// an older version (a former holder of the partition keeps its copy) is sent the tombstone first. Then it is removed from
// every member that holds it — conditionally (`removeTombstone`), so a newer write that lands
// meanwhile is kept — the local copy last, so an interrupted collection is retried next pass.
import type { ClusterReplicas } from '../data/replicas.ts';
import { holdsData, replicasFor } from '../cluster/placement.ts';
import type { MetaStore } from '../meta/store.ts';
import type { ObjectVersion } from '../meta/records.ts';
import { compareVersions } from '../meta/lww.ts';
import { isRemoved, s3VersionId } from '../meta/slots.ts';

export interface TombstoneOptions {
  graceMs: number;
  now: number;
  limit?: number;
  signal?: AbortSignal;
}

/** Is `t` safe to collect given what every member holds for its key? (undefined = nothing) */
export function collectable(t: ObjectVersion, held: (ObjectVersion | undefined)[]): boolean {
  return held.every((v) => v === undefined || (isRemoved(v) && compareVersions(v, t) <= 0));
}

/** Collect old tombstones of the partitions this member is the first desired holder of; returns how many. */
export async function collectTombstones({ view, replicas }: ClusterReplicas, store: MetaStore, o: TombstoneOptions): Promise<number> {
  const members = view.members();
  const data = members.filter(holdsData);
  if (data.some((m) => m.state === 'down')) return 0; // a down member may hold an older live version
  const limit = o.limit ?? 1000;
  let collected = 0;
  for (const name of await store.bucketsWithData()) {
    const b = view.bucket(name);
    if (!b || replicasFor(`bucket:${name}`, members, b.replicas)[0]?.id !== view.selfId) continue;
    // The store's tombstone index, not every record: the cost is the tombstones held, not the partition.
    o.signal?.throwIfAborted();
    const old = store.listTombstones(name, { limit: 100_000 }).filter((t) => o.now - t.timestamp > o.graceMs);
    for (const at of old) {
      if (collected >= limit) break;
      const t = await store.getVersion(name, at.key, at.slot === '' ? 'null' : at.slot);
      if (!t || !isRemoved(t) || o.now - t.timestamp <= o.graceMs) continue;
      const slot = s3VersionId(t);
      let held: { member: string; v: ObjectVersion | undefined }[];
      try {
        held = await Promise.all(data.map(async (m) => ({ member: m.id, v: await replicas.meta(m.id).getVersion(name, t.key, slot) })));
      } catch {
        continue;
      } // someone did not answer: not this pass
      if (
        !collectable(
          t,
          held.map((h) => h.v),
        )
      ) {
        // A member still holding an older record of the slot (e.g. a former holder of the
        // partition) gets the tombstone now; the next pass can collect it.
        const behind = held.filter((h) => h.v && compareVersions(h.v, t) < 0);
        await Promise.allSettled(behind.map((h) => replicas.meta(h.member).putVersion(t)));
        continue;
      }
      const others = held.filter((h) => h.v && h.member !== view.selfId);
      const removed = await Promise.allSettled(others.map((h) => replicas.meta(h.member).removeTombstone(name, t.key, h.v!.versionId)));
      if (removed.some((r) => r.status === 'rejected')) continue;
      if (await store.removeTombstone(name, t.key, t.versionId)) collected++;
    }
  }
  return collected;
}
