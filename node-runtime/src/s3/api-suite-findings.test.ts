// Corners the public conformance suite (../shared/s3-tests) found, each against a real `cairn`
// process with the AWS SDK v3 (or a hand-made request where no SDK sends it): multipart retries,
// repeated part numbers, copy ranges past the source's end, listing parameters, metadata and
// bucket-name limits, GetBucketLocation, Expect: 100-continue.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import {
  type BucketLocationConstraint,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { errorCode, rawRequest, signHeaders } from '../../test/s3-client.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
const B = 'findings';
const MiB = 1024 * 1024;
const creds = () => ({ accessKey: proc.accessKey, secretKey: proc.secretKey });

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'warn' } });
  s3 = sdkClient(proc);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('multipart: a part uploaded twice and listed twice counts once, as its last upload; completing again answers as the first completion', async () => {
  const key = 'mp/resent';
  const first = randomBytes(5 * MiB);
  const again = randomBytes(5 * MiB);
  const tail = Buffer.from('tail');
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
  const p1a = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: first }));
  const p1b = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: again }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 2, Body: tail }));
  // s3-tests test_multipart_resend_first_finishes_last: the document names part 1 twice.
  const parts = [
    { PartNumber: 1, ETag: p1a.ETag },
    { PartNumber: 1, ETag: p1b.ETag },
    { PartNumber: 2, ETag: p2.ETag },
  ];
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([again, tail])));
  // A retry whose first answer was lost gets the same answer, not NoSuchUpload.
  const retry = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  assert.is(retry.ETag, done.ETag);
  // ...but once the key holds something else, the upload is gone.
  await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'replaced' }));
  assert.equal(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: parts } }))), {
    code: 'NoSuchUpload',
    status: 404,
  });
  assert.is(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: key }))).Body!.transformToString(), 'replaced');
  // Parts that go down are still refused.
  const { UploadId: other } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp/order' }));
  const o1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp/order', UploadId: other, PartNumber: 1, Body: first }));
  const o2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp/order', UploadId: other, PartNumber: 2, Body: tail }));
  assert.equal(
    await failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: B,
          Key: 'mp/order',
          UploadId: other,
          MultipartUpload: {
            Parts: [
              { PartNumber: 2, ETag: o2.ETag },
              { PartNumber: 1, ETag: o1.ETag },
            ],
          },
        }),
      ),
    ),
    { code: 'InvalidPartOrder', status: 400 },
  );
});

test("UploadPartCopy: a range past the source's end is InvalidRange and makes no part", async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'copy/source', Body: Buffer.alloc(100, 7) }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'copy/target' }));
  assert.equal(
    await failure(
      s3.send(
        new UploadPartCopyCommand({ Bucket: B, Key: 'copy/target', UploadId, PartNumber: 1, CopySource: `${B}/copy/source`, CopySourceRange: 'bytes=50-100' }),
      ),
    ),
    { code: 'InvalidRange', status: 416 },
  );
  const ok = await s3.send(
    new UploadPartCopyCommand({ Bucket: B, Key: 'copy/target', UploadId, PartNumber: 1, CopySource: `${B}/copy/source`, CopySourceRange: 'bytes=50-99' }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: B,
      Key: 'copy/target',
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: ok.CopyPartResult?.ETag }] },
    }),
  );
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'copy/target' }))).ContentLength, 50);
});

test('ListObjectsV2 with an empty continuation token lists from the start and echoes it', async () => {
  for (const key of ['list/a', 'list/b']) await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: key }));
  const r = await rawRequest(proc.endpoint, { method: 'GET', bucket: B, query: { 'list-type': '2', 'continuation-token': '', prefix: 'list/' } }, creds());
  assert.is(r.status, 200, r.body);
  assert.match(r.body, '<ContinuationToken></ContinuationToken>');
  assert.equal(
    [...r.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]),
    ['list/a', 'list/b'],
  );
  const bad = await rawRequest(proc.endpoint, { method: 'GET', bucket: B, query: { 'list-type': '2', 'continuation-token': 'not a token!' } }, creds());
  assert.equal([bad.status, errorCode(bad.body)], [400, 'InvalidArgument']);
});

test('user metadata over 2 KB is MetadataTooLarge and stores nothing; Content-Encoding lists keep their spelling', async () => {
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'meta/big', Body: 'x', Metadata: { a: 'v'.repeat(1500), b: 'v'.repeat(600) } }))), {
    code: 'MetadataTooLarge',
    status: 400,
  });
  assert.is((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'meta/big' })))).status, 404);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'meta/enc', Body: 'x', ContentEncoding: 'deflate, gzip' }));
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'meta/enc' }))).ContentEncoding, 'deflate, gzip');
});

test('listings: a V1 Prefix comes back as sent; keys with control characters are escaped, or URL-encoded when asked', async () => {
  const key = 'ctl/a\x01b\rc';
  await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'x' }));
  const raw = await rawRequest(proc.endpoint, { method: 'GET', bucket: B, query: { 'list-type': '2', prefix: 'ctl/' } }, creds());
  assert.match(raw.body, '<Key>ctl/a&#x1;b&#xD;c</Key>');
  assert.not.match(raw.body, /[\x00-\x08\x0B-\x1F]/);
  const encoded = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'ctl/', EncodingType: 'url' }));
  assert.equal(
    encoded.Contents?.map((c) => decodeURIComponent(c.Key!)),
    [key],
  );
  // What botocore does for every ListObjects: encoding-type=url, then it decodes all but the Prefix.
  const v1 = await rawRequest(proc.endpoint, { method: 'GET', bucket: B, query: { prefix: '\n', 'encoding-type': 'url' } }, creds());
  assert.match(v1.body, '<Prefix>\n</Prefix>');
  const v2 = await rawRequest(proc.endpoint, { method: 'GET', bucket: B, query: { 'list-type': '2', prefix: '\n', 'encoding-type': 'url' } }, creds());
  assert.match(v2.body, '<Prefix>%0A</Prefix>');
});

test('ListBuckets pages with max-buckets and a continuation token', async () => {
  for (const b of ['page-b', 'page-a']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  const first = await s3.send(new ListBucketsCommand({ MaxBuckets: 1, Prefix: 'page-' }));
  assert.equal(
    first.Buckets?.map((b) => b.Name),
    ['page-a'],
  );
  assert.ok(first.ContinuationToken);
  const second = await s3.send(new ListBucketsCommand({ MaxBuckets: 1, Prefix: 'page-', ContinuationToken: first.ContinuationToken }));
  assert.equal([second.Buckets?.map((b) => b.Name), second.ContinuationToken], [['page-b'], undefined]);
});

test('GetBucketLocation answers the LocationConstraint the bucket was created with, else the region', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'located', CreateBucketConfiguration: { LocationConstraint: 'default' as BucketLocationConstraint } }));
  assert.is((await s3.send(new GetBucketLocationCommand({ Bucket: 'located' }))).LocationConstraint, 'default');
  assert.is((await s3.send(new GetBucketLocationCommand({ Bucket: B }))).LocationConstraint, undefined);
});

test('bucket names S3 reserves are InvalidBucketName', async () => {
  // (--x-s3 is refused too, but the SDK signs such a name as a directory bucket's: data/paths.test.ts checks it.)
  for (const name of ['xn--abc', 'sthree-abc', 'amzn-s3-demo-abc', 'abc-s3alias', 'abc--ol-s3', 'abc.mrap', 'abc--table-s3']) {
    assert.equal(await failure(s3.send(new CreateBucketCommand({ Bucket: name }))), { code: 'InvalidBucketName', status: 400 }, name);
  }
});

/** A PUT that waits for 100 Continue before its body, as boto3 and the aws CLI send large ones. */
async function putWithContinue(key: string, body: string, secretKey: string): Promise<{ continued: boolean; status: number; code: string }> {
  const { path, headers } = await signHeaders(
    proc.endpoint,
    { method: 'PUT', bucket: B, key, headers: { 'content-length': String(body.length), expect: '100-continue' } },
    { accessKey: proc.accessKey, secretKey },
  );
  const url = new URL(proc.endpoint);
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request({ host: url.hostname, port: url.port, method: 'PUT', path, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, code: errorCode(text) }));
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('error', (e) => {
      if (!continued) reject(e);
    });
    req.flushHeaders();
  });
}

test('Expect: 100-continue is answered only once the request is authenticated: a refused one gets its error and sends no body', async () => {
  const refused = await putWithContinue('continue/refused', 'body', 'wrong-secret');
  assert.equal(refused, { continued: false, status: 403, code: 'SignatureDoesNotMatch' });
  assert.is((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'continue/refused' })))).status, 404);
  const ok = await putWithContinue('continue/ok', 'body', proc.secretKey);
  assert.equal(ok, { continued: true, status: 200, code: '' });
  assert.is(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 'continue/ok' }))).Body!.transformToString(), 'body');
});

test.run();
