// What each S3 operation asks for (pure): the policy action it is evaluated as, whether it acts on
// the bucket or an object, and the ACL permission that grants it. Operations with no ACL
// permission are the owner's alone (or a policy's to grant), as in S3: an ACL can let others read
// and write data, never change a bucket's configuration.
import type { Permission } from './acl.ts';

export interface ActionSpec {
  action: string; // the policy language's name, e.g. s3:GetObject
  level: 'service' | 'bucket' | 'object';
  /** The ACL permission that allows it, checked on the bucket (level bucket) or the object. */
  acl?: Permission;
  /** Object operations whose ACL permission is checked on the bucket (writes create or remove the object). */
  aclOnBucket?: boolean;
}

const spec = (action: string, level: ActionSpec['level'], acl?: Permission, aclOnBucket = false): ActionSpec => ({ action, level, acl, aclOnBucket });

export const OPERATIONS: Record<string, ActionSpec> = {
  ListBuckets: spec('s3:ListAllMyBuckets', 'service'),
  CreateBucket: spec('s3:CreateBucket', 'bucket'),
  DeleteBucket: spec('s3:DeleteBucket', 'bucket'),
  HeadBucket: spec('s3:ListBucket', 'bucket', 'READ'),
  GetBucketLocation: spec('s3:GetBucketLocation', 'bucket'),
  ListObjects: spec('s3:ListBucket', 'bucket', 'READ'),
  ListObjectsV2: spec('s3:ListBucket', 'bucket', 'READ'),
  ListObjectVersions: spec('s3:ListBucketVersions', 'bucket', 'READ'),
  ListMultipartUploads: spec('s3:ListBucketMultipartUploads', 'bucket', 'READ'),
  GetBucketAcl: spec('s3:GetBucketAcl', 'bucket', 'READ_ACP'),
  PutBucketAcl: spec('s3:PutBucketAcl', 'bucket', 'WRITE_ACP'),
  GetBucketPolicy: spec('s3:GetBucketPolicy', 'bucket'),
  PutBucketPolicy: spec('s3:PutBucketPolicy', 'bucket'),
  DeleteBucketPolicy: spec('s3:DeleteBucketPolicy', 'bucket'),
  GetBucketPolicyStatus: spec('s3:GetBucketPolicyStatus', 'bucket'),
  GetPublicAccessBlock: spec('s3:GetBucketPublicAccessBlock', 'bucket'),
  PutPublicAccessBlock: spec('s3:PutBucketPublicAccessBlock', 'bucket'),
  DeletePublicAccessBlock: spec('s3:PutBucketPublicAccessBlock', 'bucket'),
  GetBucketOwnershipControls: spec('s3:GetBucketOwnershipControls', 'bucket'),
  PutBucketOwnershipControls: spec('s3:PutBucketOwnershipControls', 'bucket'),
  DeleteBucketOwnershipControls: spec('s3:PutBucketOwnershipControls', 'bucket'),
  GetBucketEncryption: spec('s3:GetEncryptionConfiguration', 'bucket'),
  PutBucketEncryption: spec('s3:PutEncryptionConfiguration', 'bucket'),
  DeleteBucketEncryption: spec('s3:PutEncryptionConfiguration', 'bucket'),
  GetBucketNotificationConfiguration: spec('s3:GetBucketNotification', 'bucket'),
  // The change feed names every key written or deleted: whoever may list the bucket may follow it.
  GetBucketChanges: spec('s3:ListBucket', 'bucket', 'READ'),
  PutBucketNotificationConfiguration: spec('s3:PutBucketNotification', 'bucket'),
  GetBucketVersioning: spec('s3:GetBucketVersioning', 'bucket'),
  PutBucketVersioning: spec('s3:PutBucketVersioning', 'bucket'),
  GetBucketCors: spec('s3:GetBucketCORS', 'bucket'),
  PutBucketCors: spec('s3:PutBucketCORS', 'bucket'),
  DeleteBucketCors: spec('s3:PutBucketCORS', 'bucket'),
  GetBucketTagging: spec('s3:GetBucketTagging', 'bucket'),
  PutBucketTagging: spec('s3:PutBucketTagging', 'bucket'),
  DeleteBucketTagging: spec('s3:PutBucketTagging', 'bucket'),
  DeleteObjects: spec('s3:DeleteObject', 'bucket', 'WRITE'),
  GetObject: spec('s3:GetObject', 'object', 'READ'),
  HeadObject: spec('s3:GetObject', 'object', 'READ'),
  // One version named by id is its own action in the policy language (s3/authz.ts picks it).
  GetObjectVersion: spec('s3:GetObjectVersion', 'object', 'READ'),
  GetObjectVersionAttributes: spec('s3:GetObjectVersionAttributes', 'object', 'READ'),
  DeleteObjectVersion: spec('s3:DeleteObjectVersion', 'object', 'WRITE', true),
  GetObjectAttributes: spec('s3:GetObjectAttributes', 'object', 'READ'),
  PutObject: spec('s3:PutObject', 'object', 'WRITE', true),
  CopyObject: spec('s3:PutObject', 'object', 'WRITE', true),
  PostObject: spec('s3:PutObject', 'object', 'WRITE', true),
  DeleteObject: spec('s3:DeleteObject', 'object', 'WRITE', true),
  GetObjectAcl: spec('s3:GetObjectAcl', 'object', 'READ_ACP'),
  PutObjectAcl: spec('s3:PutObjectAcl', 'object', 'WRITE_ACP'),
  CreateMultipartUpload: spec('s3:PutObject', 'object', 'WRITE', true),
  UploadPart: spec('s3:PutObject', 'object', 'WRITE', true),
  UploadPartCopy: spec('s3:PutObject', 'object', 'WRITE', true),
  CompleteMultipartUpload: spec('s3:PutObject', 'object', 'WRITE', true),
  AbortMultipartUpload: spec('s3:AbortMultipartUpload', 'object', 'WRITE', true),
  ListParts: spec('s3:ListMultipartUploadParts', 'object', 'READ', true),
  // Versions' metadata: the object owner's (or a policy's to grant), never an ACL's.
  GetObjectTagging: spec('s3:GetObjectTagging', 'object'),
  PutObjectTagging: spec('s3:PutObjectTagging', 'object'),
  DeleteObjectTagging: spec('s3:DeleteObjectTagging', 'object'),
  GetObjectRetention: spec('s3:GetObjectRetention', 'object'),
  PutObjectRetention: spec('s3:PutObjectRetention', 'object'),
  GetObjectLegalHold: spec('s3:GetObjectLegalHold', 'object'),
  PutObjectLegalHold: spec('s3:PutObjectLegalHold', 'object'),
  /** Not an operation of its own: asked of a request that sends x-amz-bypass-governance-retention.
   *  Judged as a change to the bucket (its owner, or a policy), never as a read of a missing key. */
  BypassGovernanceRetention: spec('s3:BypassGovernanceRetention', 'object', undefined, true),
  GetObjectLockConfiguration: spec('s3:GetBucketObjectLockConfiguration', 'bucket'),
  PutObjectLockConfiguration: spec('s3:PutBucketObjectLockConfiguration', 'bucket'),
  GetBucketLifecycleConfiguration: spec('s3:GetLifecycleConfiguration', 'bucket'),
  PutBucketLifecycleConfiguration: spec('s3:PutLifecycleConfiguration', 'bucket'),
  DeleteBucketLifecycle: spec('s3:PutLifecycleConfiguration', 'bucket'),
};

/** The spec of an operation; an operation missing here is a programming error, not a request error. */
export function actionOf(operation: string): ActionSpec {
  const s = OPERATIONS[operation];
  if (!s) throw new Error(`no access rule for S3 operation ${operation}`);
  return s;
}

/** The resource ARN a policy sees for a request. */
export function resourceArn(bucket: string | undefined, key?: string): string {
  if (bucket === undefined) return 'arn:aws:s3:::*';
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}
