// What an admin PUT of a bucket asks for (pure): checked against the registry before anything is
// written, then applied to the current settings. A name claimed by one Kubernetes Bucket stays its
// own: another claim is NameTaken, whatever namespace it comes from.
import type { BucketNotificationRule, BucketSettings, UserRecord } from '../cluster/types.ts';
import { targetArn } from '../events/arn.ts';
import { parseNotificationConfiguration, renderNotificationConfiguration, type DeclaredTargets } from '../events/notification-config.ts';
import { isS3Error } from '../util/errors.ts';
import type { BucketNotification, BucketRequest } from './types.ts';
import { AdminFailure } from './users.ts';

/**
 * The rules of an admin (or Kubernetes) notification list, checked exactly as an S3
 * PutBucketNotificationConfiguration is: the list becomes that document and goes through its parser.
 */
export function notificationRules(list: unknown, declared: DeclaredTargets): BucketNotificationRule[] {
  const bad = (message: string) => new AdminFailure('InvalidArgument', 400, `notifications: ${message}`);
  if (!Array.isArray(list)) throw bad('expected a list of {target, events, prefix?, suffix?, id?}');
  const draft = list.map((n: Partial<BucketNotification>, i): BucketNotificationRule => {
    const at = `rule ${i + 1}`;
    if (!n || typeof n !== 'object' || typeof n.target !== 'string') throw bad(`${at}: target is required (a target declared on the cluster)`);
    if (!Array.isArray(n.events) || n.events.length === 0 || n.events.some((e) => typeof e !== 'string'))
      throw bad(`${at}: events is a non-empty list of event names, e.g. s3:ObjectCreated:*`);
    for (const f of ['id', 'prefix', 'suffix'] as const) if (n[f] !== undefined && typeof n[f] !== 'string') throw bad(`${at}: ${f} must be a string`);
    const kind = declared.targets.get(n.target);
    if (!kind)
      throw bad(
        `${at}: no target ${n.target} is declared on the cluster${declared.targets.size ? ` (declared: ${[...declared.targets.keys()].join(', ')})` : ' (none is declared)'}`,
      );
    return {
      id: n.id ?? `rule-${i + 1}`,
      destination: 'Queue',
      arn: targetArn(n.target, kind),
      target: n.target,
      events: n.events,
      ...(n.prefix !== undefined ? { prefix: n.prefix } : {}),
      ...(n.suffix !== undefined ? { suffix: n.suffix } : {}),
    };
  });
  try {
    return parseNotificationConfiguration(renderNotificationConfiguration(draft), declared);
  } catch (e) {
    if (!isS3Error(e)) throw e;
    throw bad(`${e.message}${e.extra ? ` (${Object.values(e.extra).join(': ')})` : ''}`);
  }
}

/** The rules as the admin API shows them. */
export const notificationList = (rules: readonly BucketNotificationRule[]): BucketNotification[] =>
  rules.map((r) => ({
    id: r.id,
    target: r.target,
    events: r.events,
    ...(r.prefix !== undefined ? { prefix: r.prefix } : {}),
    ...(r.suffix !== undefined ? { suffix: r.suffix } : {}),
  }));

export const DEFAULT_OWNER = 'admin';

export function bucketChanges(
  body: BucketRequest,
  existing: BucketSettings | undefined,
  user: (id: string) => UserRecord | undefined,
  declared: DeclaredTargets = { targets: new Map(), region: '' },
): { owner: string; apply(cur: BucketSettings): BucketSettings } {
  const bad = (message: string) => new AdminFailure('InvalidArgument', 400, message);
  if (body.replicas !== undefined && (!Number.isInteger(body.replicas) || body.replicas < 1 || body.replicas > 16))
    throw bad(`replicas must be an integer from 1 to 16, got ${JSON.stringify(body.replicas)}`);
  if (body.access !== undefined && body.access !== 'private' && body.access !== 'public-read') throw bad('access must be private or public-read');
  for (const q of ['quotaBytes', 'quotaObjects'] as const) {
    if (body[q] !== undefined && (!Number.isSafeInteger(body[q]) || body[q]! < 0)) throw bad(`${q} must be a non-negative integer`);
  }
  if (body.encryption !== undefined && body.encryption !== null && body.encryption !== 'AES256') throw bad('encryption must be AES256 or null');
  if (body.ownership !== undefined && !['ObjectWriter', 'BucketOwnerPreferred', 'BucketOwnerEnforced'].includes(body.ownership))
    throw bad('ownership must be ObjectWriter, BucketOwnerPreferred or BucketOwnerEnforced');
  const owner = body.owner ?? existing?.owner ?? DEFAULT_OWNER;
  if (!user(owner)) throw new AdminFailure('NoSuchUser', 404, `no user ${owner}: create it first`);
  for (const g of body.grants ?? []) {
    if (!g || typeof g.user !== 'string' || (g.access !== 'read' && g.access !== 'read-write')) throw bad('grants are {user, access: read | read-write}');
    if (!user(g.user)) throw new AdminFailure('NoSuchUser', 404, `no user ${g.user} to grant ${g.access} to`);
  }
  if (body.claim !== undefined) {
    const c = body.claim;
    if (!c || typeof c.namespace !== 'string' || typeof c.name !== 'string' || typeof c.uid !== 'string' || !c.uid)
      throw bad('claim is {namespace, name, uid}');
    const held = existing?.claim;
    if (held && held.uid !== c.uid) throw new AdminFailure('NameTaken', 409, `bucket ${existing!.name} is claimed by Bucket ${held.namespace}/${held.name}`);
    if (existing && !held && existing.owner !== owner)
      throw new AdminFailure('NameTaken', 409, `bucket ${existing.name} already exists and belongs to user ${existing.owner}`);
  }
  const notifications = body.notifications === undefined ? undefined : notificationRules(body.notifications, declared);
  return {
    owner,
    apply(cur) {
      const next: BucketSettings = { ...cur, owner, replicas: body.replicas ?? cur.replicas };
      if (body.access !== undefined && body.access !== cur.access) {
        next.access = body.access;
        delete next.acl;
      }
      if (body.quotaBytes !== undefined) next.quotaBytes = body.quotaBytes;
      if (body.quotaObjects !== undefined) next.quotaObjects = body.quotaObjects;
      if (body.claim !== undefined) next.claim = body.claim;
      if (body.grants !== undefined) {
        if (body.grants.length) next.shares = body.grants.map((g) => ({ user: g.user, access: g.access }));
        else delete next.shares;
      }
      if (body.encryption !== undefined) {
        if (body.encryption) next.encryption = body.encryption;
        else delete next.encryption;
      }
      if (notifications !== undefined) {
        if (notifications.length) next.notifications = notifications;
        else delete next.notifications;
      }
      if (body.ownership !== undefined) next.ownership = body.ownership;
      else if (!existing) next.ownership = 'BucketOwnerEnforced';
      return next;
    },
  };
}
