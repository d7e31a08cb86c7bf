// Browser form uploads (POST Object) against a real `cairn` process: a V4 form made by the minio
// client's presignedPostPolicy, V2 forms signed as s3-tests signs them, anonymous forms, success
// answers (204, 201 with a document, 303 to a redirect), the policy's conditions and size range,
// and fields that act as a PutObject's headers (metadata, ACL, encryption, tags, checksums).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';

let proc: CairnProcess;
let s3: S3Client;
const B = 'forms';
const OPEN = 'forms-open'; // public-read-write: anonymous forms may write

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'warn' } });
  s3 = new S3Client({
    endpoint: proc.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: proc.accessKey, secretAccessKey: proc.secretKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new CreateBucketCommand({ Bucket: OPEN, ACL: 'public-read-write' }));
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

/** POST a form (fields in order, the file last) as a browser does; no redirects followed. */
async function post(bucket: string, fields: [string, string][], file: Buffer | string, filename = 'upload.bin') {
  const form = new FormData();
  for (const [k, v] of fields) form.append(k, v);
  form.append('file', new Blob([file]), filename);
  const res = await fetch(`${proc.endpoint}/${bucket}`, { method: 'POST', body: form, redirect: 'manual', signal: AbortSignal.timeout(30_000) }).catch((e) => {
    throw new Error(`POST failed: ${String(e.cause ?? e)}`);
  });
  const body = await res.text();
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
  return { status: res.status, body, code, location: res.headers.get('location'), etag: res.headers.get('etag') };
}

async function read(bucket: string, key: string) {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return {
    body: Buffer.from(await got.Body!.transformToByteArray()),
    type: got.ContentType,
    meta: got.Metadata,
    sse: got.ServerSideEncryption,
    etag: got.ETag,
  };
}

const missing = (bucket: string, key: string) =>
  s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => false,
    (e) => e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404,
  );

/** A V2 form as s3-tests builds it: base64 policy, base64 HMAC-SHA1 of it under the secret. */
function v2(conditions: unknown[], expiresInMs = 600_000, secret = proc.secretKey): [string, string][] {
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + expiresInMs).toISOString().replace(/\.\d+Z$/, 'Z'), conditions })).toString(
    'base64',
  );
  return [
    ['AWSAccessKeyId', proc.accessKey],
    ['policy', policy],
    ['signature', createHmac('sha1', secret).update(policy).digest('base64')],
  ];
}

test("a V4 form from minio's presignedPostPolicy stores the file with its content type and metadata", async () => {
  const minio = s3Client(proc);
  const policy = minio.newPostPolicy();
  policy.setBucket(B);
  policy.setKey('v4/report.csv');
  policy.setExpires(new Date(Date.now() + 10 * 60_000));
  policy.setContentType('text/csv');
  policy.setContentLengthRange(1, 10 * 1024 * 1024);
  policy.setUserMetaData({ origin: 'form' });
  const { formData } = await minio.presignedPostPolicy(policy);
  const data = randomBytes(6 * 1024 * 1024 + 123); // more than one 4 MiB chunk, streamed
  const r = await post(B, Object.entries(formData), data, 'report.csv');
  assert.is(r.status, 204, r.body);
  const got = await read(B, 'v4/report.csv');
  assert.ok(got.body.equals(data));
  assert.is(got.type, 'text/csv');
  assert.equal(got.meta, { origin: 'form' });
  assert.is(r.etag, `"${createHash('md5').update(data).digest('hex')}"`);
  // The same form with a file over its range is refused and writes nothing.
  const tooSmall = await post(
    B,
    Object.entries(formData).map(([k, v]) => [k, k === 'key' ? 'v4/empty.csv' : v]),
    '',
  );
  assert.is(tooSmall.status, 403, 'the key is part of the signed policy');
  const empty = await post(B, Object.entries(formData), '');
  assert.equal([empty.status, empty.code], [400, 'EntityTooSmall']);
});

test('V2 forms as s3-tests sends them: ${filename}, success_action_status 201 and redirects, conditions, signature and expiry', async () => {
  const base = [
    { bucket: B },
    ['starts-with', '$key', 'foo'],
    { acl: 'private' },
    ['starts-with', '$Content-Type', 'text/plain'],
    ['content-length-range', 0, 1024],
  ];
  const ok = await post(B, [['key', '${filename}'], ...v2(base), ['acl', 'private'], ['Content-Type', 'text/plain']], 'bar', 'foo.txt');
  assert.is(ok.status, 204, ok.body);
  assert.is((await read(B, 'foo.txt')).body.toString(), 'bar');

  const created = await post(
    B,
    [
      ['key', 'foo-201.txt'],
      ...v2([...base, { success_action_status: '201' }]),
      ['acl', 'private'],
      ['Content-Type', 'text/plain'],
      ['success_action_status', '201'],
    ],
    'x',
  );
  assert.is(created.status, 201);
  assert.match(
    created.body,
    /<PostResponse><Location>[^<]+\/forms\/foo-201\.txt<\/Location><Bucket>forms<\/Bucket><Key>foo-201\.txt<\/Key><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><\/PostResponse>/,
  );

  const back = 'http://app.example/done';
  const redirected = await post(
    B,
    [
      ['key', 'foo-r.txt'],
      ...v2([...base, ['eq', '$success_action_redirect', back]]),
      ['acl', 'private'],
      ['Content-Type', 'text/plain'],
      ['success_action_redirect', back],
    ],
    'y',
  );
  const { etag } = await read(B, 'foo-r.txt');
  assert.equal([redirected.status, redirected.location], [303, `${back}?bucket=forms&key=foo-r.txt&etag=${encodeURIComponent(etag!)}`]);

  const fields = (policy: [string, string][], key = 'foo-no.txt', more: [string, string][] = []): [string, string][] => [
    ['key', key],
    ...policy,
    ['acl', 'private'],
    ['Content-Type', 'text/plain'],
    ...more,
  ];
  assert.equal((await post(B, fields(v2(base, 600_000, 'wrong-secret')), 'z')).code, 'SignatureDoesNotMatch');
  assert.equal((await post(B, fields(v2(base, -60_000)), 'z')).status, 403, 'expired');
  assert.equal((await post(B, fields(v2(base), 'nope.txt'), 'z')).status, 403, 'key condition');
  assert.equal((await post(B, fields(v2(base), 'foo-no.txt', [['x-amz-meta-extra', '1']]), 'z')).status, 403, 'a field without a condition');
  assert.equal((await post(B, fields(v2(base)), 'z'.repeat(1025))).code, 'EntityTooLarge');
  assert.equal((await post(B, fields(v2([{ bucket: 'elsewhere' }, ...base.slice(1)])), 'z')).status, 403, "another bucket's policy");
  assert.ok(await missing(B, 'foo-no.txt'), 'no refused form wrote anything');

  // A checksum field is checked against the file and kept; a wrong one is BadDigest and stores nothing.
  const sha256 = (d: string) => createHash('sha256').update(d).digest('base64');
  const summed = await post(B, fields(v2(base), 'foo-sum.txt', [['x-amz-checksum-sha256', sha256('summed')]]), 'summed');
  assert.is(summed.status, 204, summed.body);
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'foo-sum.txt', ChecksumMode: 'ENABLED' }));
  assert.is(head.ChecksumSHA256, sha256('summed'));
  assert.equal((await post(B, fields(v2(base), 'foo-badsum.txt', [['x-amz-checksum-sha256', sha256('other')]]), 'summed')).code, 'BadDigest');
  assert.ok(await missing(B, 'foo-badsum.txt'));
});

test('anonymous forms write only where anonymous PutObject may (a public-read-write bucket); ACL, encryption and tags fields apply', async () => {
  const denied = await post(B, [['key', 'anon.txt']], 'x');
  assert.equal([denied.status, denied.code], [403, 'AccessDenied']);
  const tags = '<Tagging><TagSet><Tag><Key>0</Key><Value>0</Value></Tag><Tag><Key>1</Key><Value>1</Value></Tag></TagSet></Tagging>';
  const r = await post(
    OPEN,
    [
      ['key', 'anon.txt'],
      ['acl', 'public-read'],
      ['Content-Type', 'text/plain'],
      ['x-amz-server-side-encryption', 'AES256'],
      ['tagging', tags],
    ],
    'from nobody',
  );
  assert.is(r.status, 204, r.body);
  const got = await read(OPEN, 'anon.txt');
  assert.equal([got.body.toString(), got.type, got.sse], ['from nobody', 'text/plain', 'AES256']);
  // public-read from the form: anyone may read it back.
  const anonymous = await fetch(`${proc.endpoint}/${OPEN}/anon.txt`);
  assert.equal([anonymous.status, await anonymous.text()], [200, 'from nobody']);
  const badTags = await post(
    OPEN,
    [
      ['key', 'anon2.txt'],
      ['tagging', '<Tagging><TagSet><Tag><Key>aws:x</Key><Value>1</Value></Tag></TagSet></Tagging>'],
    ],
    'x',
  );
  assert.equal([badTags.status, badTags.code], [400, 'InvalidTag']);
  const noFile = await fetch(`${proc.endpoint}/${OPEN}`, {
    method: 'POST',
    body: (() => {
      const f = new FormData();
      f.append('key', 'k');
      return f;
    })(),
  });
  assert.equal([noFile.status, /<Code>([^<]+)</.exec(await noFile.text())?.[1]], [400, 'InvalidArgument']);
  const notAForm = await fetch(`${proc.endpoint}/${OPEN}`, { method: 'POST', body: 'key=k', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.is(notAForm.status, 412);
  await notAForm.body?.cancel();
});

test.run();
