// PublicAccessBlock: the document in and out, and the writes it refuses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../util/errors.ts';
import { cannedAcl } from './acl.ts';
import { parsePolicy } from './policy.ts';
import { checkAclAllowed, checkPolicyAllowed, parsePublicAccessBlock, publicAccessBlockXmlBody } from './public-access.ts';

const doc = (inner: string) => `<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</PublicAccessBlockConfiguration>`;

test('parsed with absent fields false; rendered back; nonsense refused', () => {
  const pab = parsePublicAccessBlock(doc('<BlockPublicAcls>true</BlockPublicAcls><BlockPublicPolicy>true</BlockPublicPolicy>'));
  assert.equal(pab, { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false });
  assert.equal(publicAccessBlockXmlBody(pab), {
    BlockPublicAcls: 'true',
    IgnorePublicAcls: 'false',
    BlockPublicPolicy: 'true',
    RestrictPublicBuckets: 'false',
  });
  assert.equal(parsePublicAccessBlock(doc('')), { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false });
  for (const bad of [doc('<BlockPublicAcls>yes</BlockPublicAcls>'), '<Other/>', '<PublicAccessBlockConfiguration>']) {
    try {
      parsePublicAccessBlock(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.ok(isS3Error(e) && e.status === 400, String(e));
    }
  }
});

test('blocked writes are AccessDenied; private ones pass', () => {
  const pab = { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false };
  for (const canned of ['public-read', 'public-read-write', 'authenticated-read']) {
    try {
      checkAclAllowed(pab, cannedAcl(canned, 'alice'));
      assert.unreachable(canned);
    } catch (e) {
      assert.ok(isS3Error(e) && e.code === 'AccessDenied' && e.status === 403);
    }
  }
  checkAclAllowed(pab, cannedAcl('private', 'alice'));
  checkAclAllowed(undefined, cannedAcl('public-read', 'alice'));
  const pub = parsePolicy(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] }), 'b');
  try {
    checkPolicyAllowed(pab, pub);
    assert.unreachable('public policy');
  } catch (e) {
    assert.ok(isS3Error(e) && e.code === 'AccessDenied');
  }
  checkPolicyAllowed(
    pab,
    parsePolicy(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] }), 'b'),
  );
});

test.run();
