// Bucket notification configuration: GetBucketNotificationConfiguration and
// PutBucketNotificationConfiguration, stored in the bucket's registry entry. The document is parsed
// and checked against the targets declared on the cluster (events/notification-config.ts) before
// anything is written: a bad target, event name or filter changes nothing. An empty configuration
// turns notifications off (the change feed still sees every change).
import { parseNotificationConfiguration, renderNotificationConfiguration } from '../events/notification-config.ts';
import type { BucketSettings } from '../cluster/types.ts';
import { bucketOrThrow } from './object-access.ts';
import { readSmallBody } from './payload.ts';
import type { Handler } from './types.ts';

export const getBucketNotification: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  res
    .status(200)
    .set('Content-Type', 'application/xml')
    .end(renderNotificationConfiguration(b.notifications ?? []));
};

export const putBucketNotification: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const declared = ctx.deps.notificationTargets ?? { targets: new Map(), region: ctx.deps.region };
  const rules = parseNotificationConfiguration(await readSmallBody(req, ctx.caller, 256 * 1024), declared);
  const next: BucketSettings = { ...b, notifications: rules };
  if (rules.length === 0) delete next.notifications;
  if (JSON.stringify(next) !== JSON.stringify(b)) await ctx.deps.putBucket(next);
  res.status(200).end();
};
