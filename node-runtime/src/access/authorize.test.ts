// The access decision: superuser, policy deny/allow, ownership, ACL grants, PublicAccessBlock,
// and what a caller learns about keys that do not exist.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cannedAcl } from './acl.ts';
import { authorize, type AccessRequest, type BucketAccess } from './authorize.ts';
import { parsePolicy } from './policy.ts';

const bucket = (over: Partial<BucketAccess> = {}): BucketAccess => ({ name: 'b', owner: 'alice', acl: cannedAcl('private', 'alice'), ...over });
const allowed = (r: AccessRequest) => authorize(r).allowed;
const obj = (owner = 'alice', acl = 'private') => ({ owner, acl: cannedAcl(acl, owner, 'alice') });
const policy = (st: object) => parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [st] }), 'b');

test('the owner and the superuser; strangers and anonymous callers are denied', () => {
  for (const operation of ['ListObjects', 'PutObject', 'DeleteBucket', 'GetBucketAcl', 'PutBucketPolicy']) {
    assert.ok(allowed({ caller: { user: 'alice' }, operation, bucket: bucket(), key: 'k' }), `owner: ${operation}`);
    assert.not.ok(allowed({ caller: { user: 'bob' }, operation, bucket: bucket(), key: 'k' }), `stranger: ${operation}`);
    assert.not.ok(allowed({ caller: {}, operation, bucket: bucket(), key: 'k' }), `anonymous: ${operation}`);
    assert.ok(allowed({ caller: { superuser: true }, operation, bucket: bucket(), key: 'k' }), `superuser: ${operation}`);
  }
  assert.ok(allowed({ caller: { user: 'bob' }, operation: 'ListBuckets' }));
  assert.not.ok(allowed({ caller: {}, operation: 'ListBuckets' }));
  assert.not.ok(allowed({ caller: {}, operation: 'CreateBucket' }));
});

test('objects belong to their writer: the bucket owner may delete, not read, what others wrote', () => {
  const shared = bucket({ acl: cannedAcl('public-read-write', 'alice') });
  assert.ok(allowed({ caller: { user: 'bob' }, operation: 'PutObject', bucket: shared, key: 'k' }), 'bucket WRITE lets bob write');
  assert.ok(allowed({ caller: { user: 'bob' }, operation: 'GetObject', bucket: shared, key: 'k', object: obj('bob') }), 'bob reads his object');
  assert.not.ok(allowed({ caller: { user: 'alice' }, operation: 'GetObject', bucket: shared, key: 'k', object: obj('bob') }), 'alice has no grant on it');
  assert.ok(allowed({ caller: { user: 'alice' }, operation: 'GetObject', bucket: shared, key: 'k', object: obj('bob', 'bucket-owner-read') }));
  assert.ok(allowed({ caller: { user: 'alice' }, operation: 'DeleteObject', bucket: shared, key: 'k', object: obj('bob') }));
  assert.ok(allowed({ caller: { user: 'bob' }, operation: 'PutObjectAcl', bucket: shared, key: 'k', object: obj('bob') }));
  assert.not.ok(allowed({ caller: { user: 'carol' }, operation: 'GetObjectAcl', bucket: shared, key: 'k', object: obj('bob') }));
});

test('ACL grants: bucket READ lists, object READ reads; ACP permissions are separate', () => {
  const readable = bucket({ acl: cannedAcl('public-read', 'alice') });
  assert.ok(allowed({ caller: {}, operation: 'ListObjectsV2', bucket: readable }));
  assert.not.ok(allowed({ caller: {}, operation: 'PutObject', bucket: readable, key: 'k' }));
  assert.not.ok(allowed({ caller: {}, operation: 'GetObject', bucket: readable, key: 'k', object: obj() }), 'a public bucket does not make its objects public');
  assert.ok(allowed({ caller: {}, operation: 'GetObject', bucket: bucket(), key: 'k', object: obj('alice', 'public-read') }));
  assert.not.ok(allowed({ caller: {}, operation: 'GetObjectAcl', bucket: bucket(), key: 'k', object: obj('alice', 'public-read') }));
  assert.ok(
    allowed({
      caller: { user: 'bob' },
      operation: 'GetBucketAcl',
      bucket: bucket({ acl: { owner: 'alice', grants: [{ grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'READ_ACP' }] } }),
    }),
  );
  assert.not.ok(
    allowed({ caller: { user: 'bob' }, operation: 'PutBucketPolicy', bucket: bucket({ acl: cannedAcl('public-read-write', 'alice') }) }),
    'an ACL never grants configuration',
  );
});

test('a missing key: NoSuchKey for whoever may list, AccessDenied for the rest', () => {
  assert.ok(allowed({ caller: { user: 'alice' }, operation: 'GetObject', bucket: bucket(), key: 'gone' }));
  assert.not.ok(allowed({ caller: { user: 'bob' }, operation: 'GetObject', bucket: bucket(), key: 'gone' }));
  assert.ok(allowed({ caller: {}, operation: 'HeadObject', bucket: bucket({ acl: cannedAcl('public-read', 'alice') }), key: 'gone' }));
});

test('bucket policy: allow grants, deny beats ownership and ACLs, but never locks the owner out of the policy', () => {
  const open = bucket({ policy: policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/pub/*' }) });
  assert.ok(allowed({ caller: {}, operation: 'GetObject', bucket: open, key: 'pub/x', object: obj() }));
  assert.not.ok(allowed({ caller: {}, operation: 'GetObject', bucket: open, key: 'priv/x', object: obj() }));
  const closed = bucket({
    acl: cannedAcl('public-read-write', 'alice'),
    policy: policy({ Effect: 'Deny', Principal: '*', Action: ['s3:*'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] }),
  });
  assert.not.ok(allowed({ caller: { user: 'alice' }, operation: 'PutObject', bucket: closed, key: 'k' }), 'deny wins over ownership');
  assert.not.ok(allowed({ caller: { user: 'bob' }, operation: 'ListObjects', bucket: closed }), 'deny wins over the ACL');
  assert.ok(allowed({ caller: { user: 'alice' }, operation: 'DeleteBucketPolicy', bucket: closed }), 'the owner can always remove the policy');
  assert.not.ok(allowed({ caller: { user: 'bob' }, operation: 'DeleteBucketPolicy', bucket: closed }));
  const prefixOnly = bucket({
    policy: policy({
      Effect: 'Allow',
      Principal: { AWS: 'bob' },
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::b',
      Condition: { StringEquals: { 's3:prefix': 'bob/' } },
    }),
  });
  assert.ok(allowed({ caller: { user: 'bob' }, operation: 'ListObjects', bucket: prefixOnly, context: { 's3:prefix': ['bob/'] } }));
  assert.not.ok(allowed({ caller: { user: 'bob' }, operation: 'ListObjects', bucket: prefixOnly, context: { 's3:prefix': ['alice/'] } }));
});

test('PublicAccessBlock: public ACL grants ignored, a public policy only serves the owner', () => {
  const pab = { blockPublicAcls: false, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: true };
  const b = bucket({
    acl: cannedAcl('public-read', 'alice'),
    publicAccessBlock: pab,
    policy: policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }),
  });
  assert.not.ok(allowed({ caller: {}, operation: 'ListObjects', bucket: b }));
  assert.not.ok(allowed({ caller: { user: 'bob' }, operation: 'GetObject', bucket: b, key: 'k', object: obj('alice', 'public-read') }));
  assert.ok(
    allowed({
      caller: { user: 'bob' },
      operation: 'GetObject',
      bucket: { ...b, acl: { owner: 'alice', grants: [{ grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'READ' }] } },
      key: 'k',
      object: { owner: 'alice', acl: { owner: 'alice', grants: [{ grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'READ' }] } },
    }),
    'grants to named users still count',
  );
});

test('shares: a reader reads and lists every object, a writer also writes; neither configures', () => {
  const b = bucket({
    shares: [
      { user: 'bob', access: 'read' },
      { user: 'carol', access: 'read-write' },
    ],
  });
  assert.ok(allowed({ caller: { user: 'bob' }, operation: 'GetObject', bucket: b, key: 'k', object: obj('alice') }));
  assert.ok(allowed({ caller: { user: 'bob' }, operation: 'ListObjectsV2', bucket: b }));
  assert.not.ok(allowed({ caller: { user: 'bob' }, operation: 'PutObject', bucket: b, key: 'k' }));
  assert.ok(allowed({ caller: { user: 'carol' }, operation: 'PutObject', bucket: b, key: 'k' }));
  assert.ok(allowed({ caller: { user: 'carol' }, operation: 'DeleteObject', bucket: b, key: 'k', object: obj('alice') }));
  assert.not.ok(allowed({ caller: { user: 'carol' }, operation: 'PutBucketPolicy', bucket: b }));
  assert.not.ok(allowed({ caller: { user: 'carol' }, operation: 'PutObjectAcl', bucket: b, key: 'k', object: obj('alice') }));
  assert.not.ok(allowed({ caller: { user: 'dave' }, operation: 'GetObject', bucket: b, key: 'k', object: obj('alice') }));
  // '*': everyone reads (a public bucket made by the operator), unless the public access block says no.
  const pub = bucket({ shares: [{ user: '*', access: 'read' }] });
  assert.ok(allowed({ caller: {}, operation: 'GetObject', bucket: pub, key: 'k', object: obj('alice') }));
  assert.not.ok(allowed({ caller: {}, operation: 'PutObject', bucket: pub, key: 'k' }));
  const blocked = { ...pub, publicAccessBlock: { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: true } };
  assert.not.ok(allowed({ caller: {}, operation: 'GetObject', bucket: blocked, key: 'k', object: obj('alice') }));
});

test.run();
