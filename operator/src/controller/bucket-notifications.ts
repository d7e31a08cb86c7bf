// Bucket.spec.notifications → the admin API's notification list (pure). Kubernetes owns the
// bucket's notification configuration only while the field is set: unset, the owner's own
// PutBucketNotificationConfiguration stands, except right after the field was removed (status says
// the operator had set rules), when the operator takes back what it set by sending [].
import type { BucketNotification, BucketStatus as BucketState } from '../../../node-runtime/src/admin/types.ts';
import type { Bucket } from '../api/bucket.ts';

export function notificationsRequest(b: Bucket): { notifications?: BucketNotification[] } {
  const spec = b.spec.notifications;
  if (spec) return { notifications: spec.map((r) => ({ ...r, events: [...r.events] })) };
  return b.status?.notificationRules !== undefined ? { notifications: [] } : {};
}

/** status.notificationRules: the rules in effect when the operator set them, absent otherwise. */
export function notificationRulesStatus(b: Bucket, state: BucketState): { notificationRules?: number } {
  return b.spec.notifications ? { notificationRules: state.notifications?.length ?? 0 } : {};
}
