// Conditional writes over HTTP with the AWS SDK v3 against a real `cairn` process: If-Match and
// If-None-Match on PutObject, CopyObject's destination, CompleteMultipartUpload, DeleteObject and per
// object in DeleteObjects — a refused condition changes nothing. (Reads and copy sources:
// api-awssdk.test.ts; concurrent writers through different nodes: versioning-cluster.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { rawRequest } from '../../test/s3-client.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
const B = 'cond';

const body = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: B, Key: key }))).Body!.transformToString();
const exists = async (key: string) => (await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: key })))).code === 'no error';

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'error' } });
  s3 = sdkClient(proc);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('PutObject: If-Match replaces only the named ETag; If-None-Match refuses a match; a missing key is NoSuchKey for If-Match', async () => {
  const etag = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'p', Body: 'v1' }))).ETag!;
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'p', Body: 'v2', IfMatch: '"0123"' }))), {
    code: 'PreconditionFailed',
    status: 412,
  });
  assert.is(await body('p'), 'v1');
  const next = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'p', Body: 'v2', IfMatch: etag }))).ETag!;
  assert.is(await body('p'), 'v2');
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'p', Body: 'v3', IfNoneMatch: next }))), {
    code: 'PreconditionFailed',
    status: 412,
  });
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'p', Body: 'v3', IfNoneMatch: '*' }))), {
    code: 'PreconditionFailed',
    status: 412,
  });
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'p', Body: 'v3', IfNoneMatch: '"other"' }));
  assert.is(await body('p'), 'v3');
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'missing', Body: 'x', IfMatch: etag }))), { code: 'NoSuchKey', status: 404 });
  assert.not.ok(await exists('missing'));
  // S3's delete-only conditions on a PUT are refused, not ignored.
  const creds = { accessKey: proc.accessKey, secretKey: proc.secretKey };
  const sizeOnPut = await rawRequest(proc.endpoint, { method: 'PUT', bucket: B, key: 'p', headers: { 'x-amz-if-match-size': '2' } }, creds, 'v4');
  assert.is(sizeOnPut.status, 501);
  assert.is(await body('p'), 'v3');
});

test('CopyObject destination: If-None-Match: * refuses an existing key', async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src', Body: 'source' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'dst', Body: 'kept' }));
  const refused = rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: B, key: 'dst', headers: { 'x-amz-copy-source': `/${B}/src`, 'if-none-match': '*' } },
    { accessKey: proc.accessKey, secretKey: proc.secretKey },
  );
  assert.is((await refused).status, 412);
  assert.is(await body('dst'), 'kept');
  await s3.send(
    new CopyObjectCommand({ Bucket: B, Key: 'dst-new', CopySource: `${B}/src`, IfNoneMatch: '*' } as ConstructorParameters<typeof CopyObjectCommand>[0]),
  );
  assert.is(await body('dst-new'), 'source');
});

test('CompleteMultipartUpload: If-None-Match: * on an existing key is 412 and the upload can still complete elsewhere; If-Match', async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'mp', Body: 'existing' }));
  const complete = async (key: string, cond: { IfNoneMatch?: string; IfMatch?: string }) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
    const part = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: `multipart-${key}` }));
    return s3.send(
      new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...cond }),
    );
  };
  assert.equal(await failure(complete('mp', { IfNoneMatch: '*' })), { code: 'PreconditionFailed', status: 412 });
  assert.is(await body('mp'), 'existing');
  await complete('mp-new', { IfNoneMatch: '*' });
  assert.is(await body('mp-new'), 'multipart-mp-new');
  assert.equal(await failure(complete('mp', { IfMatch: '"feed"' })), { code: 'PreconditionFailed', status: 412 });
  const etag = (await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'mp' }))).ETag!;
  await complete('mp', { IfMatch: etag });
  assert.is(await body('mp'), 'multipart-mp');
});

test('DeleteObject: a wrong If-Match or size keeps the object (412); the right one deletes; a missing key is a no-op 204', async () => {
  const etag = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'd', Body: 'delete me' }))).ETag!;
  assert.equal(await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'd', IfMatch: '"0000"' }))), { code: 'PreconditionFailed', status: 412 });
  assert.ok(await exists('d'));
  assert.equal(await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'd', IfMatchSize: 1 }))), { code: 'PreconditionFailed', status: 412 });
  assert.ok(await exists('d'));
  const creds = { accessKey: proc.accessKey, secretKey: proc.secretKey };
  const noneMatch = await rawRequest(proc.endpoint, { method: 'DELETE', bucket: B, key: 'd', headers: { 'if-none-match': '*' } }, creds);
  assert.is(noneMatch.status, 501);
  assert.ok(await exists('d'));
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'd', IfMatch: etag, IfMatchSize: 9 }));
  assert.not.ok(await exists('d'));
  assert.is((await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'd', IfMatch: etag }))).$metadata.httpStatusCode, 204);
});

test('DeleteObjects: each object its own ETag / Size condition; a failed one is an Error entry and stays', async () => {
  const e1 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'm1', Body: 'one' }))).ETag!;
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'm2', Body: 'two' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'm3', Body: 'three' }));
  const res = await s3.send(
    new DeleteObjectsCommand({
      Bucket: B,
      Delete: {
        Objects: [
          { Key: 'm1', ETag: e1 },
          { Key: 'm2', ETag: '"bad"' },
          { Key: 'm3', Size: 99 },
        ],
      },
    }),
  );
  assert.equal(
    res.Deleted!.map((d) => d.Key),
    ['m1'],
  );
  assert.equal(res.Errors!.map((e) => [e.Key, e.Code]).sort(), [
    ['m2', 'PreconditionFailed'],
    ['m3', 'PreconditionFailed'],
  ]);
  assert.equal([await exists('m1'), await exists('m2'), await exists('m3')], [false, true, true]);
});

test('versioned bucket: a conditional delete names its version; If-Match on a current delete marker', async () => {
  const V = 'cond-ver';
  await s3.send(new CreateBucketCommand({ Bucket: V }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: V, VersioningConfiguration: { Status: 'Enabled' } }));
  const put = await s3.send(new PutObjectCommand({ Bucket: V, Key: 'k', Body: 'x' }));
  assert.equal(await failure(s3.send(new DeleteObjectCommand({ Bucket: V, Key: 'k', VersionId: put.VersionId, IfMatch: '"nope"' }))), {
    code: 'PreconditionFailed',
    status: 412,
  });
  await s3.send(new DeleteObjectCommand({ Bucket: V, Key: 'k', IfMatch: put.ETag })); // a marker on top
  // If-None-Match: * treats a current delete marker as no object.
  await s3.send(new PutObjectCommand({ Bucket: V, Key: 'k', Body: 'y', IfNoneMatch: '*' }));
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: V }));
  assert.equal([listed.Versions?.length, listed.DeleteMarkers?.length], [2, 1]);
});

test.run();
