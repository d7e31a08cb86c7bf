// POST Object forms and policies, with s3-tests' post_object cases (V2-signed forms as the suite
// sends them) and a V4 form signed as AWS documents it.
import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../../util/errors.ts';
import { checkPostSize, decodePolicy, planPostUpload, postSuccessResponse, verifyPostSignature, type PostUploadPlan } from './post-policy.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'no error';
}

const now = Date.parse('2026-05-01T12:00:00Z');
const bucket = 'photos';
const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const later = '2026-05-01T13:40:00Z';
const b64 = (doc: unknown) => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)).toString('base64');

// The suite's standard policy (test_post_object_authenticated_request).
const standard = (extra: unknown[] = [], expiration: unknown = later) => ({
  expiration,
  conditions: [
    { bucket },
    ['starts-with', '$key', 'foo'],
    { acl: 'private' },
    ['starts-with', '$Content-Type', 'text/plain'],
    ['content-length-range', 0, 1024],
    ...extra,
  ],
});

function v2Form(policyDoc: unknown, fields: Record<string, string> = {}, opts: { sign?: boolean } = {}): Map<string, string> {
  const policy = b64(policyDoc);
  const form = new Map<string, string>([
    ['key', 'foo.txt'],
    ['AWSAccessKeyId', 'AKIAEXAMPLE'],
    ['acl', 'private'],
    ['policy', policy],
    ['Content-Type', 'text/plain'],
  ]);
  if (opts.sign !== false) form.set('signature', createHmac('sha1', secret).update(policy).digest('base64'));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return form;
}

const plan = (form: Map<string, string>, filename?: string, b = bucket) => planPostUpload(form, { bucket: b, filename, now });

test('V2 form (test_post_object_authenticated_request): plan, signature, size range, fields by lower-case name', () => {
  const p = plan(v2Form(standard()));
  assert.is(p.key, 'foo.txt');
  assert.equal(p.size, { min: 0, max: 1024 });
  assert.is(p.auth.kind, 'v2');
  assert.is(p.fields.get('content-type'), 'text/plain');
  assert.is(
    code(() => verifyPostSignature(p.auth, secret)),
    'no error',
  );
  assert.is(
    code(() => verifyPostSignature(p.auth, secret + 'x')),
    '403 SignatureDoesNotMatch',
  );
  const reversed = v2Form(standard());
  reversed.set('signature', [...reversed.get('signature')!].reverse().join(''));
  assert.is(
    code(() => verifyPostSignature(plan(reversed).auth, secret)),
    '403 SignatureDoesNotMatch',
  );
  assert.is(p.auth.kind === 'v2' && p.auth.accessKeyId, 'AKIAEXAMPLE');
});

test("V4 form: hex HMAC-SHA256 of the policy under the day's signing key; algorithm, credential and date are policy-covered fields", () => {
  const credential = 'AKIAEXAMPLE/20260501/us-east-1/s3/aws4_request';
  const doc = standard([{ 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': '20260501T000000Z' }]);
  const policy = b64(doc);
  const kDate = createHmac('sha256', 'AWS4' + secret)
    .update('20260501')
    .digest();
  const kSigning = ['us-east-1', 's3', 'aws4_request'].reduce((k, part) => createHmac('sha256', k).update(part).digest(), kDate);
  const signature = createHmac('sha256', kSigning).update(policy).digest('hex');
  const form = new Map([
    ['key', 'foo/${filename}'],
    ['acl', 'private'],
    ['Content-Type', 'text/plain'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', credential],
    ['X-Amz-Date', '20260501T000000Z'],
    ['Policy', policy],
    ['X-Amz-Signature', signature],
  ]);
  const p = plan(form, 'cat.jpg');
  assert.is(p.key, 'foo/cat.jpg');
  assert.equal(p.auth.kind === 'v4' && [p.auth.accessKeyId, p.auth.region, p.auth.date], ['AKIAEXAMPLE', 'us-east-1', '20260501']);
  assert.is(
    code(() => verifyPostSignature(p.auth, secret)),
    'no error',
  );
  assert.is(
    code(() => verifyPostSignature(p.auth, 'other')),
    '403 SignatureDoesNotMatch',
  );
  form.delete('X-Amz-Credential');
  assert.is(
    code(() => plan(form)),
    '400 InvalidArgument',
  );
  form.set('X-Amz-Credential', 'AKIAEXAMPLE/2026/us-east-1/s3/aws4_request');
  assert.is(
    code(() => plan(form)),
    '400 InvalidArgument',
  );
});

test('anonymous forms (test_post_object_anonymous_request) carry no policy; a signature without a policy is 400', () => {
  const p = plan(
    new Map([
      ['key', 'foo.txt'],
      ['acl', 'public-read'],
      ['Content-Type', 'text/plain'],
    ]),
  );
  assert.equal(p.auth, { kind: 'anonymous' });
  assert.is(p.size, undefined);
  assert.is(
    code(() =>
      plan(
        new Map([
          ['key', 'k'],
          ['signature', 'x'],
        ]),
      ),
    ),
    '400 InvalidArgument',
  );
});

test('field names are case-insensitive, condition operators and names too (test_post_object_case_insensitive_condition_fields)', () => {
  const doc = {
    expiration: later,
    conditions: [
      { bUcKeT: bucket },
      ['StArTs-WiTh', '$KeY', 'foo'],
      { AcL: 'private' },
      ['StArTs-WiTh', '$CoNtEnT-TyPe', 'text/plain'],
      ['content-length-range', 0, 1024],
    ],
  };
  const form = v2Form(doc);
  form.delete('key');
  form.delete('acl');
  form.delete('policy');
  form.set('kEy', 'foo.txt');
  form.set('aCl', 'private');
  form.set('pOLICy', b64(doc));
  assert.is(
    code(() => plan(form)),
    'no error',
  );
});

test('conditions: key from ${filename}, escaped $ kept literally, eq on a meta field, a missing field is the empty value', () => {
  assert.is(plan(v2Form(standard(), { key: '${filename}' }), 'foo.txt').key, 'foo.txt'); // test_post_object_set_key_from_filename
  const escaped = {
    ...standard(),
    conditions: standard().conditions.map((c) => (Array.isArray(c) && c[1] === '$key' ? ['starts-with', '$key', '\\$foo'] : c)),
  };
  assert.is(plan(v2Form(escaped, { key: '\\$foo.txt' })).key, '\\$foo.txt'); // test_post_object_escaped_field_values
  assert.is(
    code(() => plan(v2Form(escaped, { key: 'foo.txt' }))),
    '403 AccessDenied',
  ); // test_post_object_missing_policy_condition
  assert.is(plan(v2Form(standard([['starts-with', '$x-amz-meta-foo', 'bar']]), { 'x-amz-meta-foo': 'barclamp' })).fields.get('x-amz-meta-foo'), 'barclamp');
  assert.is(
    code(() => plan(v2Form(standard([['starts-with', '$x-amz-meta-foo', 'bar']])))),
    '403 AccessDenied',
  ); // ..._missing_policy_specified_field
  assert.is(
    code(() => plan(v2Form(standard([['eq', '$x-amz-meta-foo', '']]), { 'x-amz-meta-foo': 'barclamp' }))),
    '403 AccessDenied',
  ); // ..._invalid_request_field_value
  assert.is(
    code(() => plan(v2Form(standard([['starts-with', '$tagging', '']]), { tagging: '<Tagging/>' }))),
    'no error',
  );
});

test('the bucket condition is checked against the addressed bucket (test_post_object_wrong_bucket)', () => {
  const form = v2Form(standard(), { key: '${filename}', bucket });
  assert.is(
    code(() => plan(form, 'foo.txt', 'other-bucket')),
    '403 AccessDenied',
  );
  assert.is(
    code(() => plan(form, 'foo.txt', bucket)),
    'no error',
  );
});

test("every field needs a condition except the signature's, file, x-ignore-* and checksums (test_post_object_ignored_header)", () => {
  assert.is(
    code(() => plan(v2Form(standard(), { 'x-ignore-foo': 'bar' }))),
    'no error',
  );
  assert.is(
    code(() => plan(v2Form(standard(), { 'x-amz-checksum-sha256': 'aTL9MeXa9HObn6eP93eygxsJlcwdCwCTysgGAZAgE7w=' }))),
    'no error',
  );
  assert.is(
    code(() => plan(v2Form(standard(), { 'x-amz-meta-extra': 'x' }))),
    '403 AccessDenied',
  );
  assert.is(
    code(() => plan(v2Form(standard(), { success_action_status: '201' }))),
    '403 AccessDenied',
  );
});

test('expired policies are 403; malformed documents are 400 (expiration format and case, conditions, ranges)', () => {
  assert.is(
    code(() => plan(v2Form(standard([], '2026-05-01T10:20:00Z')))),
    '403 AccessDenied',
  ); // test_post_object_expired_policy
  assert.is(
    code(() => plan(v2Form(standard([], '2026-05-01 13:40:00.123456+00:00')))),
    '400 InvalidPolicyDocument',
  ); // ..._invalid_date_format
  assert.is(
    code(() => plan(v2Form({ EXPIRATION: later, conditions: standard().conditions }))),
    '400 InvalidPolicyDocument',
  );
  assert.is(
    code(() => plan(v2Form({ expiration: later, CONDITIONS: standard().conditions }))),
    '400 InvalidPolicyDocument',
  );
  assert.is(
    code(() => plan(v2Form({ conditions: standard().conditions }))),
    '400 InvalidPolicyDocument',
  ); // ..._missing_expires_condition
  assert.is(
    code(() => plan(v2Form({ expiration: later }))),
    '400 InvalidPolicyDocument',
  ); // ..._missing_conditions_list
  assert.is(
    code(() => plan(v2Form({ expiration: later, conditions: [{}] }))),
    '400 InvalidPolicyDocument',
  ); // ..._empty_conditions
  assert.is(
    code(() => plan(v2Form({ expiration: later, conditions: [['content-length-range', 0]] }))),
    '400 InvalidPolicyDocument',
  );
  assert.is(
    code(() => plan(v2Form({ expiration: later, conditions: [['content-length-range', -1, 0]] }))),
    '400 InvalidPolicyDocument',
  );
  assert.is(
    code(() => plan(v2Form({ expiration: later, conditions: [['matches', '$key', 'x']] }))),
    '400 InvalidPolicyDocument',
  );
  assert.is(
    code(() => plan(v2Form('not json'))),
    '400 InvalidPolicyDocument',
  );
  assert.is(
    code(() => decodePolicy('%%%')),
    '400 InvalidPolicyDocument',
  );
  assert.equal(decodePolicy(b64({ expiration: '2026-05-01T13:40:00.000Z', conditions: [] })).expiration, Date.parse(later));
});

test('missing key or signature are 400 (test_post_object_no_key_specified, test_post_object_missing_signature)', () => {
  const noKey = v2Form(standard());
  noKey.delete('key');
  assert.is(
    code(() => plan(noKey)),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => plan(v2Form(standard(), {}, { sign: false }))),
    '400 InvalidArgument',
  );
  const noAccessKey = v2Form(standard());
  noAccessKey.delete('AWSAccessKeyId');
  assert.is(
    code(() => plan(noAccessKey)),
    '400 InvalidArgument',
  );
});

test('size range: EntityTooLarge as soon as the maximum is passed, EntityTooSmall at the end; ranges intersect', () => {
  const zero = plan(v2Form(standard([['content-length-range', 0, 0]])));
  assert.is(
    code(() => checkPostSize(zero, 3, false)),
    '400 EntityTooLarge',
  ); // test_post_object_upload_size_limit_exceeded
  const min = { size: { min: 512, max: 1000 } };
  assert.is(
    code(() => checkPostSize(min, 3, false)),
    'no error',
  );
  assert.is(
    code(() => checkPostSize(min, 3, true)),
    '400 EntityTooSmall',
  ); // test_post_object_upload_size_below_minimum
  assert.is(
    code(() => checkPostSize({ size: undefined }, 1e12, true)),
    'no error',
  );
  assert.equal(plan(v2Form(standard([['content-length-range', 10, '2048']]))).size, { min: 10, max: 1024 });
});

const stored = { bucket, etag: 'acbd18db4cc2f85cedef654fccc4a4d8', location: `http://s3.local/${bucket}/foo.txt` };

test('success: status 200/201/204 (anything else 204); 201 has a PostResponse; redirect is a 303 with bucket, key, quoted etag', () => {
  const at = (status?: string, redirect?: string): Pick<PostUploadPlan, 'key' | 'successStatus' | 'successRedirect'> => {
    const form = new Map([['key', 'foo.txt']]);
    if (status) form.set('success_action_status', status);
    if (redirect) form.set('success_action_redirect', redirect);
    return plan(form);
  };
  assert.is(postSuccessResponse(at(), stored).status, 204);
  assert.is(postSuccessResponse(at('200'), stored).status, 200);
  const invalid = postSuccessResponse(at('404'), stored);
  assert.equal([invalid.status, invalid.body], [204, '']);
  const created = postSuccessResponse(at('201'), stored);
  assert.is(created.status, 201);
  assert.match(
    created.body,
    `<PostResponse><Location>${stored.location}</Location><Bucket>${bucket}</Bucket><Key>foo.txt</Key><ETag>&quot;${stored.etag}&quot;</ETag></PostResponse>`,
  );
  const redirect = postSuccessResponse(at(undefined, `http://s3.local/${bucket}`), stored);
  assert.is(redirect.status, 303);
  assert.is(redirect.headers.Location, `http://s3.local/${bucket}?bucket=${bucket}&key=foo.txt&etag=%22${stored.etag}%22`);
  assert.is(
    postSuccessResponse(at(undefined, 'http://a/b?x=1'), stored).headers.Location,
    `http://a/b?x=1&bucket=${bucket}&key=foo.txt&etag=%22${stored.etag}%22`,
  );
  assert.is(postSuccessResponse(at('201', 'javascript:alert(1)'), stored).status, 201);
});

test.run();
