// GET/HEAD with partNumber, with the AWS SDK v3 against a real `cairn` process: each part of a
// multipart object as it was uploaded (206, Content-Range, parts count), a simple object as its
// single part 1, and the refusals (a part past the last, Range with partNumber, a bad number).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { rawRequest } from '../../test/s3-client.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
const B = 'parts';
const MiB = 1024 * 1024;
const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 7), randomBytes(1234)];

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'error' } });
  s3 = sdkClient(proc);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp' }));
  const etags: string[] = [];
  for (let i = 0; i < parts.length; i++)
    etags.push((await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: i + 1, Body: parts[i] }))).ETag!);
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }),
  );
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'simple', Body: 'just one part' }));
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('GET and HEAD of each part: its bytes, 206 with Content-Range, the parts count and the whole object ETag', async () => {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const whole = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'mp' }));
  let start = 0;
  for (let i = 0; i < parts.length; i++) {
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp', PartNumber: i + 1 }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.ok(bytes.equals(parts[i]!), `part ${i + 1}: ${bytes.length} bytes`);
    assert.is(got.$metadata.httpStatusCode, 206);
    assert.is(got.ContentRange, `bytes ${start}-${start + parts[i]!.length - 1}/${total}`);
    assert.is(got.PartsCount, 3);
    assert.is(got.ETag, whole.ETag);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'mp', PartNumber: i + 1 }));
    assert.equal([head.ContentLength, head.PartsCount, head.$metadata.httpStatusCode], [parts[i]!.length, 3, 206]);
    start += parts[i]!.length;
  }
});

test('a simple object is its own part 1; refusals', async () => {
  const one = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'simple', PartNumber: 1 }));
  assert.is(await one.Body!.transformToString(), 'just one part');
  assert.is(one.$metadata.httpStatusCode, 206);
  assert.equal(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'simple', PartNumber: 2 }))), { code: 'InvalidPart', status: 400 });
  assert.equal(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp', PartNumber: 4 }))), { code: 'InvalidPart', status: 400 });
  assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'mp', PartNumber: 4 })))).status, 400);
  assert.equal(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp', PartNumber: 1, Range: 'bytes=0-1' }))), {
    code: 'InvalidRequest',
    status: 400,
  });
  const creds = { accessKey: proc.accessKey, secretKey: proc.secretKey };
  const zero = await rawRequest(proc.endpoint, { method: 'GET', bucket: B, key: 'mp', query: { partNumber: '0' } }, creds);
  assert.is(zero.status, 400);
  assert.match(zero.body, '<Code>InvalidArgument</Code>');
});

test.run();
