// What an admin PUT of a bucket asks for its replication (pure): the target checked, the secret
// sealed by the caller's function, and the rule kept as it is (same id, no second backfill) when
// the same target is given again.
import { createHash } from 'node:crypto';
import type { ReplicationRule } from '../cluster/types.ts';
import type { ReplicationRequest } from './types.ts';
import { AdminFailure } from './users.ts';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The rule a request makes (undefined: none), or the current one when nothing changes. */
export function replicationRule(
  req: ReplicationRequest | null,
  current: ReplicationRule | undefined,
  source: string,
  seal: (accessKeyId: string, secret: string) => string,
  open: (rule: ReplicationRule) => string,
  now = Date.now(),
): ReplicationRule | undefined {
  if (req === null) return undefined;
  const bad = (m: string) => new AdminFailure('InvalidArgument', 400, `replicateTo: ${m}`);
  if (!req || typeof req !== 'object') throw bad('expected {endpoint, bucket, accessKeyId, secretAccessKey, region?, prefix?, deletes?}');
  let url: URL;
  try {
    url = new URL(req.endpoint);
  } catch {
    throw bad(`endpoint ${JSON.stringify(req.endpoint)} is not a URL`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.username)
    throw bad('endpoint is http(s)://host[:port], nothing after it');
  if (typeof req.bucket !== 'string' || !BUCKET_NAME.test(req.bucket)) throw bad(`bucket ${JSON.stringify(req.bucket)} is not an S3 bucket name`);
  if (typeof req.accessKeyId !== 'string' || !req.accessKeyId || typeof req.secretAccessKey !== 'string' || !req.secretAccessKey)
    throw bad('accessKeyId and secretAccessKey are required');
  if (req.prefix !== undefined && typeof req.prefix !== 'string') throw bad('prefix must be a string');
  if (req.deletes !== undefined && typeof req.deletes !== 'boolean') throw bad('deletes must be true or false');
  const endpoint = url.origin;
  const region = req.region ?? 'us-east-1';
  const target = { endpoint, bucket: req.bucket, region, ...(req.prefix ? { prefix: req.prefix } : {}), deletes: req.deletes ?? false };
  const same =
    current &&
    current.endpoint === endpoint &&
    current.bucket === req.bucket &&
    current.region === region &&
    (current.prefix ?? '') === (req.prefix ?? '') &&
    current.accessKeyId === req.accessKeyId &&
    open(current) === req.secretAccessKey;
  if (same && current.deletes === target.deletes) return current;
  if (same) return { ...current, deletes: target.deletes };
  // A new target (or credentials): a new id, so every object is copied again.
  const id = createHash('sha256')
    .update(JSON.stringify([source, target, req.accessKeyId, now]))
    .digest('hex')
    .slice(0, 12);
  return { id, ...target, accessKeyId: req.accessKeyId, sealedSecret: seal(req.accessKeyId, req.secretAccessKey), createdAt: now };
}

export const replicationStatus = (r: ReplicationRule) => ({
  id: r.id,
  endpoint: r.endpoint,
  bucket: r.bucket,
  region: r.region,
  ...(r.prefix ? { prefix: r.prefix } : {}),
  deletes: r.deletes,
  accessKeyId: r.accessKeyId,
});
