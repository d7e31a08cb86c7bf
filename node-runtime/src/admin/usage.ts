// What buckets and users hold, as the admin API, `cairn status` and the quota gauges report it.
//
// A bucket's usage is the largest count any reachable metadata replica reports, asked in bounded
// time: the current holders and the ones placement chose before a membership change. Every replica
// counts exactly what it holds, so once repair has brought them level (seconds after the last write)
// the figure is exact; a lagging replica can only under-count.
import type { BucketSettings, ClusterView, UserRecord } from '../cluster/types.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import { rankAll, replicasFor } from '../cluster/placement.ts';
import type { UserUsage } from './types.ts';

export interface Usage {
  bytes: number;
  objects: number;
}

export async function bucketUsage(view: ClusterView, replicas: ReplicaDirectory, s: BucketSettings, timeoutMs = 2000): Promise<Usage> {
  const members = view.members();
  const item = `bucket:${s.name}`;
  const targets = [...new Set([...replicasFor(item, members, s.replicas), ...rankAll(item, members).slice(0, s.replicas)])].filter((m) => m.state !== 'down');
  const usage = await Promise.all(targets.map((m) => withTimeout(replicas.meta(m.id).bucketUsage(s.name), timeoutMs).catch(() => undefined)));
  return { objects: Math.max(0, ...usage.map((u) => u?.objects ?? 0)), bytes: Math.max(0, ...usage.map((u) => u?.bytes ?? 0)) };
}

/** A user's usage over the buckets it owns, from the buckets' usage (by name) and the registry. */
export function userUsage(u: UserRecord, buckets: readonly BucketSettings[], usage: ReadonlyMap<string, Usage>): UserUsage {
  const owned = buckets.filter((b) => b.owner === u.id);
  const sum = owned.reduce((a, b) => ({ bytes: a.bytes + (usage.get(b.name)?.bytes ?? 0), objects: a.objects + (usage.get(b.name)?.objects ?? 0) }), {
    bytes: 0,
    objects: 0,
  });
  return { id: u.id, ...(u.quota ? { quota: u.quota } : {}), buckets: owned.length, ...sum };
}

/** Usage of every bucket of the registry, by name. */
export async function usageByBucket(view: ClusterView, replicas: ReplicaDirectory, timeoutMs?: number): Promise<Map<string, Usage>> {
  const buckets = view.buckets();
  const all = await Promise.all(buckets.map((b) => bucketUsage(view, replicas, b, timeoutMs)));
  return new Map(buckets.map((b, i) => [b.name, all[i]]));
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(t));
}
