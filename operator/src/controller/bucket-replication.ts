// Bucket.spec.replication.to → the admin API's replicateTo (pure, given the credentials Secret as
// read). Kubernetes owns the bucket's replication rule while the field is set; removing it stops
// the replication the operator had started (status.replicationTo says it had), and leaves alone
// one set through the admin API by someone else.
import type { V1Secret } from '@kubernetes/client-node';
import type { BucketStatus as BucketState, ReplicationRequest } from '../../../node-runtime/src/admin/types.ts';
import type { Bucket, BucketStatus } from '../api/bucket.ts';

export type ReplicationPlan = { replicateTo?: ReplicationRequest | null } | { missing: string };

const value = (s: V1Secret | undefined, k: string) => (s?.data?.[k] ? Buffer.from(s.data[k], 'base64').toString('utf8') : s?.stringData?.[k]);

export function replicationPlan(b: Bucket, secret: V1Secret | undefined): ReplicationPlan {
  const to = b.spec.replication?.to;
  if (!to) return b.status?.replicationTo?.endpoint ? { replicateTo: null } : {}; // (an emptied status object is not a rule)
  const accessKeyId = value(secret, 'AWS_ACCESS_KEY_ID'),
    secretAccessKey = value(secret, 'AWS_SECRET_ACCESS_KEY');
  const where = `Secret ${b.metadata.namespace}/${to.credentialsSecret.name}`;
  if (!secret) return { missing: `${where} (the replication target's credentials) does not exist` };
  if (!accessKeyId || !secretAccessKey) return { missing: `${where} has no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY` };
  return {
    replicateTo: {
      endpoint: to.endpoint,
      bucket: to.bucket,
      region: to.region,
      accessKeyId,
      secretAccessKey,
      ...(to.prefix ? { prefix: to.prefix } : {}),
      deletes: to.deletes,
    },
  };
}

/** status.replicationTo: the rule the operator set and how far the cluster got with it. */
export function replicationToStatus(b: Bucket, state: BucketState): Pick<BucketStatus, 'replicationTo'> {
  const r = state.replicateTo;
  if (!b.spec.replication?.to || !r) return {};
  const p = r.progress;
  return { replicationTo: { endpoint: r.endpoint, bucket: r.bucket, ...(p ? { backlog: p.backlog, lagSeconds: p.lagSeconds, backfill: p.backfill } : {}) } };
}
