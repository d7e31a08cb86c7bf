// Bucket policy parsing and evaluation: the cases the S3 conformance suite and AWS's documented
// semantics pin down (deny wins, wildcards, principals, condition operators, malformed documents).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../util/errors.ts';
import { evaluatePolicy, parsePolicy, policyIsPublic, principalMatches, type PolicyRequest } from './policy.ts';

const B = 'photos';
const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (extra: object = {}) => ({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*`, ...extra });
const req = (over: Partial<PolicyRequest> = {}): PolicyRequest => ({
  principal: 'alice',
  action: 's3:GetObject',
  resource: `arn:aws:s3:::${B}/cat.jpg`,
  context: {},
  ...over,
});

function malformed(text: string, message: RegExp | string): void {
  try {
    parsePolicy(text, B);
  } catch (e) {
    assert.ok(isS3Error(e), String(e));
    assert.is(e.code, 'MalformedPolicy');
    assert.is(e.status, 400);
    assert.match(e.message, message);
    return;
  }
  assert.unreachable(`accepted: ${text}`);
}

test('the document is kept byte for byte', () => {
  const text = doc([allow()]);
  assert.is(parsePolicy(text, B).text, text);
});

test('allow, explicit deny wins, nothing said', () => {
  const p = parsePolicy(doc([allow(), { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/secret/*` }]), B);
  assert.is(evaluatePolicy(p, req()), 'allow');
  assert.is(evaluatePolicy(p, req({ resource: `arn:aws:s3:::${B}/secret/x` })), 'deny');
  assert.is(evaluatePolicy(p, req({ action: 's3:PutObject' })), 'none');
  assert.is(evaluatePolicy(p, req({ principal: undefined })), 'allow', '"*" includes anonymous callers');
  assert.is(evaluatePolicy(undefined, req()), 'none');
});

test('action and resource wildcards; actions ignore case, resources do not', () => {
  const p = parsePolicy(doc([allow({ Action: ['s3:Get*', 's3:List?ucket'], Resource: [`arn:aws:s3:::${B}`, `arn:aws:s3:::${B}/public/*`] })]), B);
  assert.is(evaluatePolicy(p, req({ action: 's3:getobjectversion', resource: `arn:aws:s3:::${B}/public/a/b` })), 'allow');
  assert.is(evaluatePolicy(p, req({ action: 's3:ListBucket', resource: `arn:aws:s3:::${B}` })), 'allow');
  assert.is(evaluatePolicy(p, req({ resource: `arn:aws:s3:::${B}/Public/a` })), 'none');
  assert.is(evaluatePolicy(p, req({ action: 's3:PutObject', resource: `arn:aws:s3:::${B}/public/a` })), 'none');
});

test('principals: user ids and ARNs, NotPrincipal with Deny', () => {
  assert.ok(principalMatches('arn:aws:iam::alice:root', 'alice'));
  assert.ok(principalMatches('arn:aws:iam:::user/alice', 'alice'));
  assert.ok(principalMatches('alice', 'alice'));
  assert.not.ok(principalMatches('arn:aws:iam::alice:root', 'bob'));
  assert.not.ok(principalMatches('alice', undefined));
  const p = parsePolicy(
    doc([
      allow({ Principal: { AWS: ['arn:aws:iam::alice:root'] } }),
      { Effect: 'Deny', NotPrincipal: { AWS: 'alice' }, Action: 's3:*', Resource: `arn:aws:s3:::${B}/private/*` },
    ]),
    B,
  );
  assert.is(evaluatePolicy(p, req()), 'allow');
  assert.is(evaluatePolicy(p, req({ principal: 'bob' })), 'none');
  assert.is(evaluatePolicy(p, req({ principal: 'bob', resource: `arn:aws:s3:::${B}/private/x` })), 'deny');
  assert.is(evaluatePolicy(p, req({ resource: `arn:aws:s3:::${B}/private/x` })), 'allow');
});

test('conditions: string, like, numeric, IP, bool, null, IfExists, multi-valued', () => {
  const p = (cond: object) => parsePolicy(doc([allow({ Action: 's3:ListBucket', Resource: `arn:aws:s3:::${B}`, Condition: cond })]), B);
  const list = (context: PolicyRequest['context']) => req({ action: 's3:ListBucket', resource: `arn:aws:s3:::${B}`, context });
  assert.is(evaluatePolicy(p({ StringEquals: { 's3:prefix': ['home/', 'pub/'] } }), list({ 's3:prefix': ['pub/'] })), 'allow');
  assert.is(evaluatePolicy(p({ StringEquals: { 's3:prefix': 'home/' } }), list({ 's3:prefix': ['other/'] })), 'none');
  assert.is(evaluatePolicy(p({ StringEquals: { 's3:prefix': 'home/' } }), list({})), 'none', 'absent key: positive operator is false');
  assert.is(evaluatePolicy(p({ StringNotEquals: { 's3:prefix': 'home/' } }), list({})), 'allow', 'absent key: negated operator is true');
  assert.is(evaluatePolicy(p({ StringLike: { 's3:prefix': 'home/*' } }), list({ 's3:prefix': ['home/alice/'] })), 'allow');
  assert.is(evaluatePolicy(p({ NumericLessThanEquals: { 's3:max-keys': '10' } }), list({ 's3:max-keys': ['10'] })), 'allow');
  assert.is(evaluatePolicy(p({ NumericLessThanEquals: { 's3:max-keys': '10' } }), list({ 's3:max-keys': ['11'] })), 'none');
  assert.is(evaluatePolicy(p({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }), list({ 'aws:sourceip': ['10.1.2.3'] })), 'allow');
  assert.is(evaluatePolicy(p({ NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '::1/128'] } }), list({ 'aws:sourceip': ['::1'] })), 'none');
  assert.is(evaluatePolicy(p({ Bool: { 'aws:SecureTransport': false } }), list({ 'aws:securetransport': ['false'] })), 'allow');
  assert.is(evaluatePolicy(p({ Null: { 's3:prefix': 'true' } }), list({})), 'allow');
  assert.is(evaluatePolicy(p({ Null: { 's3:prefix': 'true' } }), list({ 's3:prefix': ['x'] })), 'none');
  assert.is(evaluatePolicy(p({ StringLikeIfExists: { 'aws:Referer': 'http://www.example.com/*' } }), list({})), 'allow');
  assert.is(evaluatePolicy(p({ StringLikeIfExists: { 'aws:Referer': 'http://www.example.com/*' } }), list({ 'aws:referer': ['http://example.com'] })), 'none');
  const tags = p({ 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['a', 'b'] } });
  assert.is(evaluatePolicy(tags, list({ 's3:requestobjecttagkeys': ['a'] })), 'allow');
  assert.is(evaluatePolicy(tags, list({ 's3:requestobjecttagkeys': ['a', 'c'] })), 'none');
  const anyTag = p({ 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['a'] } });
  assert.is(evaluatePolicy(anyTag, list({ 's3:requestobjecttagkeys': ['c', 'a'] })), 'allow');
  assert.is(evaluatePolicy(anyTag, list({})), 'none');
  // Every block must hold.
  const both = p({ StringEquals: { 's3:prefix': 'a/' }, IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } });
  assert.is(evaluatePolicy(both, list({ 's3:prefix': ['a/'], 'aws:sourceip': ['127.0.0.3'] })), 'allow');
  assert.is(evaluatePolicy(both, list({ 's3:prefix': ['a/'], 'aws:sourceip': ['10.0.0.3'] })), 'none');
});

test('malformed documents are refused with the reason, never half-applied', () => {
  malformed('{not json', 'invalid Json');
  malformed(JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement');
  malformed(JSON.stringify({ Version: '2099-01-01', Statement: [allow()] }), 'valid version');
  malformed(doc([allow({ Effect: 'Maybe' })]), 'Invalid effect');
  malformed(doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*` }]), 'Principal');
  malformed(doc([allow({ Principal: { Service: 'logging.s3.amazonaws.com' } })]), 'unsupported principal type');
  malformed(doc([allow({ Action: 'ec2:RunInstances' })]), 'invalid action');
  malformed(doc([allow({ Resource: 'arn:aws:s3:::other-bucket/*' })]), 'invalid resource');
  malformed(doc([allow({ Resource: 'photos/*' })]), 'invalid resource');
  malformed(doc([allow({ Condition: { StringEqualz: { 's3:prefix': 'a' } } })]), 'Invalid Condition type');
  malformed(doc([allow({ Condition: { NumericEquals: { 's3:max-keys': 'ten' } } })]), 'invalid value');
  malformed(doc([allow({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/99' } } })]), 'invalid value');
  malformed(doc([allow({ Condition: { StringEquals: { 'my:key': 'a' } } })]), 'invalid condition key');
  malformed(doc([allow({ Colour: 'blue' })]), 'Unknown field Colour');
  malformed(doc([{ ...allow(), Principal: undefined, NotPrincipal: { AWS: 'alice' } }]), 'NotPrincipal may only be used with Effect Deny');
});

test('policy status: public unless pinned to known callers', () => {
  assert.ok(policyIsPublic(parsePolicy(doc([allow()]), B)));
  assert.not.ok(policyIsPublic(parsePolicy(doc([allow({ Principal: { AWS: 'arn:aws:iam::alice:root' } })]), B)));
  assert.not.ok(policyIsPublic(parsePolicy(doc([allow({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/32' } } })]), B)));
  assert.ok(policyIsPublic(parsePolicy(doc([allow({ Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } })]), B)));
  assert.not.ok(policyIsPublic(parsePolicy(doc([{ ...allow(), Effect: 'Deny' }]), B)));
  assert.not.ok(policyIsPublic(undefined));
});

test.run();
