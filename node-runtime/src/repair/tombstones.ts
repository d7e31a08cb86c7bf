// Tombstone collection. A delete is a version (a tombstone) so that a member holding an older live
// version cannot bring the object back when it pushes its partition (LWW keeps the tombstone). A
// tombstone may therefore go only once no member anywhere holds an older live version of its key:
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

export interface TombstoneOptions { graceMs: number; now: number; limit?: number; signal?: AbortSignal }

/** Is `t` safe to collect given what every member holds for its key? (undefined = nothing) */
export function collectable(t: ObjectVersion, held: (ObjectVersion | undefined)[]): boolean {
  return held.every((v) => v === undefined || (v.deleted && compareVersions(v, t) <= 0));
}

/** Collect old tombstones of the partitions this member is the first desired holder of; returns how many. */
export async function collectTombstones({ view, replicas }: ClusterReplicas, store: MetaStore, o: TombstoneOptions): Promise<number> {
  const members = view.members();
  const data = members.filter(holdsData);
  if (data.some((m) => m.state === 'down')) return 0;   // a down member may hold an older live version   // a down member may hold an older live version
  const limit = o.limit ?? 1000;
  let collected = 0;
  for (const name of await store.bucketsWithData()) {
    const b = view.bucket(name);
    if (!b || replicasFor(`bucket:${name}`, members, b.replicas)[0]?.id !== view.selfId) continue;
    let cursor: string | undefined;
    for (let page = 0; page < 10_000_000 && collected < limit; page++) {
      o.signal?.throwIfAborted();
      const versions = await store.listVersions(name, { startAfter: cursor, limit: 1000 });
      if (versions.length === 0) break;
      cursor = versions[versions.length - 1]!.key;
      for (const t of versions) {
        if (!t.deleted || o.now - t.timestamp <= o.graceMs || collected >= limit) continue;
        let held: { member: string; v: ObjectVersion | undefined }[];
        try {
          held = await Promise.all(data.map(async (m) => ({ member: m.id, v: await replicas.meta(m.id).getVersion(name, t.key) })));
        } catch { continue; }   // someone did not answer: not this pass
        if (!collectable(t, held.map((h) => h.v))) {
          // A member still holding an older version (e.g. a former holder of the partition) gets
          // the tombstone now; the next pass can collect it.
          const behind = held.filter((h) => h.v && compareVersions(h.v, t) < 0);
          await Promise.allSettled(behind.map((h) => replicas.meta(h.member).putVersion(t)));
          continue;
        }
        const others = held.filter((h) => h.v && h.member !== view.selfId);
        const removed = await Promise.allSettled(others.map((h) => replicas.meta(h.member).removeTombstone(name, t.key, h.v!.versionId)));
        if (removed.some((r) => r.status === 'rejected')) continue;
        if (await store.removeTombstone(name, t.key, t.versionId)) collected++;
      }
      if (versions.length < 1000) break;
    }
  }
  return collected;
}
