// May this caller do this? (pure) S3's evaluation order for one bucket, with each user its own
// account:
//   1. the cluster's admin key is a superuser;
//   2. the bucket policy: an explicit Deny ends it (the bucket owner still manages the policy
//      itself, as an account root can, so a policy can never lock its owner out), an Allow grants;
//   3. ownership: the bucket owner may do anything to the bucket and write or remove objects in it;
//      an object's owner may do anything to that object (objects belong to their writer, S3's
//      ObjectWriter ownership);
//   4. a share of the bucket with the caller (read, or read-write) grants its data operations;
//   5. the ACL of the bucket (or the object) grants the operation's permission;
//   6. otherwise AccessDenied, anonymous callers included.
// PublicAccessBlock narrows 2 and 4: IgnorePublicAcls drops grants to everyone, RestrictPublicBuckets
// lets a public policy grant only to the owner. A read of a key that does not exist is allowed (to
// answer NoSuchKey) only to whoever may list the bucket; anyone else learns nothing (AccessDenied).
import { ALL_USERS, AUTHENTICATED_USERS, aclAllows, type Acl } from './acl.ts';
import { actionOf, resourceArn } from './actions.ts';
import { evaluatePolicy, policyIsPublic, type BucketPolicy } from './policy.ts';

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export interface BucketAccess {
  name: string;
  owner: string;
  acl: Acl;
  policy?: BucketPolicy;
  publicAccessBlock?: PublicAccessBlock;
  /** Users the owner shares every object with (Kubernetes Buckets sharing data): read, or read and
   *  write; user '*' is everyone, anonymous callers included (a bucket the operator made public). */
  shares?: { user: string; access: 'read' | 'read-write' }[];
}

// What a share lets its user do, by policy action.
const SHARE_READ = new Set([
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:ListBucketMultipartUploads',
  's3:GetObject',
  's3:GetObjectVersion',
  's3:ListMultipartUploadParts',
  's3:GetBucketLocation',
]);
const SHARE_WRITE = new Set([...SHARE_READ, 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload']);

export interface ObjectAccess {
  owner: string;
  acl: Acl;
}

export interface AccessRequest {
  caller: { user?: string; superuser?: boolean };
  /** The S3 operation name (actions.ts). */
  operation: string;
  /** The bucket, when it exists (a missing bucket is the handler's NoSuchBucket). */
  bucket?: BucketAccess;
  key?: string;
  /** The object, when the operation reads or changes an existing one. */
  object?: ObjectAccess;
  /** Policy condition keys of the request (lower case). */
  context?: Record<string, string[] | undefined>;
}

export interface AccessDecision {
  allowed: boolean;
  reason: string;
}

const POLICY_ADMIN = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']);

const withoutPublicGrants = (acl: Acl): Acl => ({
  owner: acl.owner,
  grants: acl.grants.filter((g) => !(g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS))),
});

export function authorize(req: AccessRequest): AccessDecision {
  const { caller, bucket } = req;
  if (caller.superuser) return { allowed: true, reason: 'superuser' };
  const spec = actionOf(req.operation);
  if (spec.level === 'service' || req.operation === 'CreateBucket') {
    return caller.user ? { allowed: true, reason: 'authenticated' } : { allowed: false, reason: 'anonymous' };
  }
  if (!bucket) return { allowed: true, reason: 'no such bucket (the handler says so)' };
  const isBucketOwner = caller.user !== undefined && caller.user === bucket.owner;
  const pab = bucket.publicAccessBlock;

  // A read of a missing object is judged as a listing of the bucket.
  const missingRead = spec.level === 'object' && !spec.aclOnBucket && !req.object;
  const action = missingRead ? 's3:ListBucket' : spec.action;
  const resource = missingRead ? resourceArn(bucket.name) : resourceArn(bucket.name, spec.level === 'object' ? req.key : undefined);

  // A missing key is looked at as a listing of exactly that name (what s3:prefix conditions see).
  const context = missingRead && req.key !== undefined ? { ...req.context, 's3:prefix': [req.key] } : (req.context ?? {});
  let policy = evaluatePolicy(bucket.policy, { principal: caller.user, action, resource, context });
  if (policy === 'allow' && pab?.restrictPublicBuckets && policyIsPublic(bucket.policy) && !isBucketOwner) policy = 'none';
  if (policy === 'deny' && !(isBucketOwner && POLICY_ADMIN.has(action))) return { allowed: false, reason: 'denied by the bucket policy' };
  if (policy === 'allow') return { allowed: true, reason: 'allowed by the bucket policy' };
  const publicShares = !(pab?.ignorePublicAcls || pab?.restrictPublicBuckets);
  const share = bucket.shares?.find((s) => (caller.user !== undefined && s.user === caller.user) || (s.user === '*' && publicShares));
  if (share && (share.access === 'read-write' ? SHARE_WRITE : SHARE_READ).has(action)) return { allowed: true, reason: `shared ${share.access} by the owner` };

  if (spec.level === 'bucket' || missingRead) {
    if (isBucketOwner) return { allowed: true, reason: 'bucket owner' };
  } else if (spec.aclOnBucket) {
    // Writing or removing an object is a change to the bucket: owning the object is not enough.
    if (isBucketOwner) return { allowed: true, reason: 'bucket owner' };
  } else if (req.object && caller.user !== undefined && req.object.owner === caller.user) {
    return { allowed: true, reason: 'object owner' };
  }

  const permission = missingRead ? 'READ' : spec.acl;
  if (permission) {
    const onBucket = spec.level === 'bucket' || spec.aclOnBucket || missingRead;
    const raw = onBucket ? bucket.acl : req.object?.acl;
    const acl = raw && pab?.ignorePublicAcls ? withoutPublicGrants(raw) : raw;
    if (aclAllows(acl, caller, permission)) return { allowed: true, reason: `${permission} granted by the ${onBucket ? 'bucket' : 'object'} ACL` };
  }
  return { allowed: false, reason: caller.user ? 'no grant' : 'anonymous caller without a grant' };
}
