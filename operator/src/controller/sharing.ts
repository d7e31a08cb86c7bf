// Sharing between Buckets (spec.sharedWith), pure: which grants a bucket gets from the Buckets its
// spec names as the API server has them now, and what status says from what the cluster holds. A
// grant goes to the named Bucket's user (bucket.<namespace>.<name>), which the cluster's admin API
// stores as the bucket's shares; a grant waits while its Bucket does not exist (or is going), and
// never reaches a Bucket of another StorageCluster (its user lives in another cluster).
import type { BucketStatus as BucketState, ClusterStatus } from '../../../node-runtime/src/admin/types.ts';
import type { Bucket, BucketStatus } from '../api/bucket.ts';
import { bucketUserOf, clusterKeyOf, refOf, refOfUser, sharedWithRefs, type BucketObject, type BucketRef } from './bucket-relations.ts';
import type { ConditionInput } from './conditions.ts';

export type ShareAccess = 'read' | 'read-write';
export interface Grant {
  ref: BucketRef;
  user: string;
  access: ShareAccess;
}
export interface WaitingGrant {
  ref: BucketRef;
  reason: 'BucketNotFound' | 'OtherCluster' | 'SameBucket';
  message: string;
}
export interface GrantPlan {
  grants: Grant[];
  waiting: WaitingGrant[];
}

const named = (r: BucketRef) => `${r.namespace}/${r.name}`;

/** The grants to apply now, and those that wait. `found`: the named Buckets as they are now (absent: not found). */
export function planGrants(b: Bucket, found: (ref: BucketRef) => BucketObject | undefined): GrantPlan {
  const plan: GrantPlan = { grants: [], waiting: [] };
  const self = refOf(b);
  const refs = sharedWithRefs(b);
  for (const [i, ref] of refs.entries()) {
    const access = b.spec.sharedWith![i]!.access;
    const other = found(ref);
    if (ref.namespace === self.namespace && ref.name === self.name) {
      plan.waiting.push({ ref, reason: 'SameBucket', message: `${named(ref)} is this Bucket: its owner may do anything already` });
    } else if (!other || other.metadata.deletionTimestamp) {
      plan.waiting.push({ ref, reason: 'BucketNotFound', message: `Bucket ${named(ref)} not found: granted ${access} once it exists` });
    } else if (clusterKeyOf(other) !== clusterKeyOf(b)) {
      plan.waiting.push({ ref, reason: 'OtherCluster', message: `Bucket ${named(ref)} uses StorageCluster ${clusterKeyOf(other)}, not ${clusterKeyOf(b)}` });
    } else {
      plan.grants.push({ ref, user: bucketUserOf(ref), access });
    }
  }
  return plan;
}

/** GrantsApplied: True when every grant of spec.sharedWith is in effect; False names those that wait. */
export function grantsCondition(plan: GrantPlan): ConditionInput {
  if (plan.waiting.length) {
    return { type: 'GrantsApplied', status: 'False', reason: plan.waiting[0]!.reason, message: plan.waiting.map((w) => w.message).join('; ') };
  }
  return plan.grants.length
    ? { type: 'GrantsApplied', status: 'True', reason: 'Applied', message: `shared with ${plan.grants.map((g) => `${named(g.ref)} (${g.access})`).join(', ')}` }
    : { type: 'GrantsApplied', status: 'True', reason: 'NoGrants', message: 'shared with no other Bucket' };
}

/** status.sharedWith: the grants in effect on the bucket, as the cluster holds them. */
export function grantsInEffect(state: BucketState): NonNullable<BucketStatus['sharedWith']> {
  return (state.shares ?? [])
    .map((s) => {
      const ref = refOfUser(s.user);
      return { ...(ref ? { bucketRef: ref } : {}), user: s.user, access: s.access };
    })
    .sort((a, b) => a.user.localeCompare(b.user));
}

/** status.sharedBy: the other buckets of the cluster that share their objects with this Bucket's user. */
export function grantsReceived(user: string, own: string, cluster: ClusterStatus): NonNullable<BucketStatus['sharedBy']> {
  const out: NonNullable<BucketStatus['sharedBy']> = [];
  for (const s of cluster.buckets) {
    const share = s.name !== own ? s.shares?.find((x) => x.user === user) : undefined;
    if (share) out.push({ bucketName: s.name, ...(s.claim ? { bucketRef: { namespace: s.claim.namespace, name: s.claim.name } } : {}), access: share.access });
  }
  return out.sort((a, b) => a.bucketName!.localeCompare(b.bucketName!));
}
