// How Buckets concern each other (pure, for the watch → queue wiring and the reconciler): a bucket
// name is bound to the first Bucket that claims it in its cluster, so a change to one Bucket (its
// deletion frees the name) concerns every other Bucket that wants the same name in the same cluster.

/** A Bucket as the watch cache holds it: as stored, not defaulted. */
export interface BucketObject {
  metadata: { name: string; namespace?: string };
  spec?: { clusterRef?: { name?: string; namespace?: string }; bucketName?: string };
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

/**
 * The keys of the other Buckets to reconcile when `obj` changed (`old`: before the change): those
 * that want the same bucket name in the same cluster (the name may have been freed).
 */
export function relatedBuckets(obj: BucketObject, old: BucketObject | undefined, all: BucketObject[]): string[] {
  const self = keyOf(obj);
  const names = new Set([obj, ...(old ? [old] : [])].map((b) => `${clusterKeyOf(b)}/${s3NameOf(b)}`));
  const out = new Set<string>();
  for (const b of all) {
    const k = keyOf(b);
    if (k !== self && names.has(`${clusterKeyOf(b)}/${s3NameOf(b)}`)) out.add(k);
  }
  return [...out].sort();
}
