// How Buckets concern each other (pure, for the watch → queue wiring and the reconciler): a bucket
// name is bound to the first Bucket that claims it in its cluster, so a change to one Bucket (its
// deletion frees the name) concerns every other Bucket that wants the same name in the same cluster;
// and a Bucket that shares its bucket with others (spec.sharedWith) concerns them (what they may
// access changes) as they concern it (a grant waits for its Bucket to exist).

/** A Bucket named from another, with its namespace filled in. */
export interface BucketRef {
  namespace: string;
  name: string;
}

/** A Bucket as the watch cache holds it: as stored, not defaulted. */
export interface BucketObject {
  metadata: { name: string; namespace?: string; deletionTimestamp?: string };
  spec?: { clusterRef?: { name?: string; namespace?: string }; bucketName?: string; sharedWith?: { bucketRef: { name: string; namespace?: string } }[] };
  status?: { sharedWith?: { bucketRef?: Partial<BucketRef> }[] };
}

/** The cluster user a Bucket's Secret acts as: it owns the bucket and nothing else. Namespaces hold no dots, so the id reads back. */
export function bucketUserOf(ref: BucketRef): string {
  return `bucket.${ref.namespace}.${ref.name}`;
}

/** The Bucket a user id stands for, when it is a Bucket's user. */
export function refOfUser(user: string): BucketRef | undefined {
  const m = /^bucket\.([^.]+)\.(.+)$/.exec(user);
  return m ? { namespace: m[1]!, name: m[2]! } : undefined;
}

export const refOf = (b: BucketObject): BucketRef => ({ namespace: b.metadata.namespace ?? '', name: b.metadata.name });

/** The Buckets a Bucket's spec.sharedWith names, namespaces filled in. */
export function sharedWithRefs(b: BucketObject): BucketRef[] {
  return (b.spec?.sharedWith ?? []).map((s) => ({ namespace: s.bucketRef.namespace ?? b.metadata.namespace ?? '', name: s.bucketRef.name }));
}

/** The StorageCluster a Bucket names, as `namespace/name`. */
export function clusterKeyOf(b: BucketObject): string {
  return `${b.spec?.clusterRef?.namespace ?? b.metadata.namespace}/${b.spec?.clusterRef?.name}`;
}

/** The bucket's name in its cluster (S3 bucket name). */
export function s3NameOf(b: BucketObject): string {
  return b.spec?.bucketName ?? b.metadata.name;
}

const keyOf = (b: BucketObject) => `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
const refKey = (r: Partial<BucketRef>) => `${r.namespace ?? ''}/${r.name ?? ''}`;

/**
 * The keys of the other Buckets to reconcile when `obj` changed (`old`: before the change): those
 * that want the same bucket name in the same cluster (the name may have been freed), those it
 * shares with or did (spec, and the grants in effect that status lists), and those sharing with it.
 */
export function relatedBuckets(obj: BucketObject, old: BucketObject | undefined, all: BucketObject[]): string[] {
  const self = keyOf(obj);
  const versions = [obj, ...(old ? [old] : [])];
  const names = new Set(versions.map((b) => `${clusterKeyOf(b)}/${s3NameOf(b)}`));
  const out = new Set<string>();
  for (const b of versions) {
    for (const r of sharedWithRefs(b)) out.add(refKey(r));
    for (const s of b.status?.sharedWith ?? []) if (s.bucketRef) out.add(refKey(s.bucketRef));
  }
  for (const b of all) {
    const k = keyOf(b);
    if (names.has(`${clusterKeyOf(b)}/${s3NameOf(b)}`) || sharedWithRefs(b).some((r) => refKey(r) === self)) out.add(k);
  }
  out.delete(self);
  return [...out].sort();
}

/** Whether a watch event of a Bucket can concern others: not a change of its usage or key alone. */
export function concernsOthers(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: BucketObject, old: BucketObject | undefined): boolean {
  if (type !== 'MODIFIED' || !old) return true;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return (
    !same(old.spec, obj.spec) || old.metadata.deletionTimestamp !== obj.metadata.deletionTimestamp || !same(old.status?.sharedWith, obj.status?.sharedWith)
  );
}
