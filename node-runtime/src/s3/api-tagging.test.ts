// Object tagging over HTTP with the AWS SDK v3 against a real `cairn` process: Put/Get/DeleteObjectTagging
// (of the current version and by versionId), x-amz-tagging on PutObject, CopyObject (tagging directive)
// and multipart uploads, x-amz-tagging-count on GET/HEAD, and S3's limits and error codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
  PutBucketPolicyCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { rawRequest } from '../../test/s3-client.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
let bob: S3Client;
let keysDir: string;
const BOB = { user: 'bob', accessKeyId: 'BOBKEY0001', secretAccessKey: 'bob-secret-key-01' };
const B = 'tags';

const tagsOfIn = async (bucket: string, key: string) =>
  (await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet!.map((t) => `${t.Key}=${t.Value}`);
const tagsOf = async (key: string, versionId?: string) =>
  (await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: key, VersionId: versionId }))).TagSet!.map((t) => `${t.Key}=${t.Value}`);

test.before(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'cairn-tagging-'));
  await writeFile(join(keysDir, 'keys.json'), JSON.stringify([BOB]));
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'error' }, extraArgs: ['--keys-file', join(keysDir, 'keys.json')] });
  s3 = sdkClient(proc);
  bob = new S3Client({
    endpoint: proc.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: BOB.accessKeyId, secretAccessKey: BOB.secretAccessKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after(async () => {
  s3?.destroy();
  bob?.destroy();
  await proc?.cleanup();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

test('x-amz-tagging on PutObject; tags answered in key order; x-amz-tagging-count on GET and HEAD', async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'x', Tagging: 'foo=bar&bar&sp%20ace=a%2Bb' }));
  assert.equal(await tagsOf('k'), ['bar=', 'foo=bar', 'sp ace=a+b']);
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k' }))).TagCount, 3);
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'k' }));
  await got.Body!.transformToString();
  assert.is(got.TagCount, 3);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'untagged', Body: 'x' }));
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'untagged' }))).TagCount, undefined);
  assert.equal(await tagsOf('untagged'), []);
});

test('PutObjectTagging replaces the set, DeleteObjectTagging clears it; limits and errors', async () => {
  await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'k', Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }));
  assert.equal(await tagsOf('k'), ['only=one']);
  assert.is((await s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 'k' }))).$metadata.httpStatusCode, 204);
  assert.equal(await tagsOf('k'), []);
  const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
  assert.equal(await failure(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'k', Tagging: { TagSet: eleven } }))), { code: 'InvalidTag', status: 400 });
  assert.equal(await failure(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'k', Tagging: { TagSet: [{ Key: 'x'.repeat(129), Value: 'v' }] } }))), {
    code: 'InvalidTag',
    status: 400,
  });
  assert.equal(await failure(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'k', Tagging: { TagSet: [{ Key: 'a', Value: 'v'.repeat(257) }] } }))), {
    code: 'InvalidTag',
    status: 400,
  });
  assert.equal(
    await failure(
      s3.send(
        new PutObjectTaggingCommand({
          Bucket: B,
          Key: 'k',
          Tagging: {
            TagSet: [
              { Key: 'a', Value: '1' },
              { Key: 'a', Value: '2' },
            ],
          },
        }),
      ),
    ),
    { code: 'InvalidTag', status: 400 },
  );
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'dup', Body: 'x', Tagging: 'a=1&a=2' }))), {
    code: 'InvalidArgument',
    status: 400,
  });
  assert.equal(await failure(s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'missing' }))), { code: 'NoSuchKey', status: 404 });
  const creds = { accessKey: proc.accessKey, secretKey: proc.secretKey };
  const malformed = await rawRequest(proc.endpoint, { method: 'PUT', bucket: B, key: 'k', query: { tagging: '' } }, creds, '<Tagging><Oops/></Tagging>');
  assert.is(malformed.status, 400);
  assert.match(malformed.body, '<Code>MalformedXML</Code>');
  assert.equal(await tagsOf('k'), []);
});

test('CopyObject keeps the source tags (COPY) or takes x-amz-tagging (REPLACE); multipart uploads carry theirs', async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src', Body: 'x', Tagging: 'from=source' }));
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-keep', CopySource: `${B}/src` }));
  assert.equal(await tagsOf('copy-keep'), ['from=source']);
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-new', CopySource: `${B}/src`, TaggingDirective: 'REPLACE', Tagging: 'from=request' }));
  assert.equal(await tagsOf('copy-new'), ['from=request']);
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-none', CopySource: `${B}/src`, TaggingDirective: 'REPLACE' }));
  assert.equal(await tagsOf('copy-none'), []);
  assert.equal(await failure(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-bad', CopySource: `${B}/src`, TaggingDirective: 'MOVE' as 'COPY' }))), {
    code: 'InvalidArgument',
    status: 400,
  });

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp', Tagging: 'part=of-upload' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 1, Body: 'data' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  assert.equal(await tagsOf('mp'), ['part=of-upload']);
});

test('versioned: tags belong to a version; by versionId; x-amz-version-id answered', async () => {
  const V = 'tags-ver';
  await s3.send(new CreateBucketCommand({ Bucket: V }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: V, VersioningConfiguration: { Status: 'Enabled' } }));
  const v1 = (await s3.send(new PutObjectCommand({ Bucket: V, Key: 'k', Body: '1', Tagging: 'v=1' }))).VersionId!;
  const v2 = (await s3.send(new PutObjectCommand({ Bucket: V, Key: 'k', Body: '2', Tagging: 'v=2' }))).VersionId!;
  const put = await s3.send(new PutObjectTaggingCommand({ Bucket: V, Key: 'k', VersionId: v1, Tagging: { TagSet: [{ Key: 'v', Value: 'one' }] } }));
  assert.is(put.VersionId, v1);
  const of = async (versionId?: string) =>
    (await s3.send(new GetObjectTaggingCommand({ Bucket: V, Key: 'k', VersionId: versionId }))).TagSet!.map((t) => t.Value);
  assert.equal([await of(v1), await of(v2), await of()], [['one'], ['2'], ['2']]);
  // A tag change is not a new version: the current one stays v2.
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: V, Key: 'k' }))).VersionId, v2);
  assert.equal(await failure(s3.send(new GetObjectTaggingCommand({ Bucket: V, Key: 'k', VersionId: 'unknown' }))), { code: 'NoSuchVersion', status: 404 });
});

test("who may: a version's tags, retention and hold are its owner's (or a policy's), not every lister's", async () => {
  const P = 'tags-public';
  await s3.send(new CreateBucketCommand({ Bucket: P, ACL: 'public-read-write', ObjectLockEnabledForBucket: true }));
  const v = (
    await s3.send(
      new PutObjectCommand({
        Bucket: P,
        Key: 'o',
        Body: 'x',
        Tagging: 'owner=admin',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
      }),
    )
  ).VersionId!;
  // Bob may list and write the bucket (its ACL), but not read or change this version's metadata.
  assert.equal(await failure(bob.send(new GetObjectTaggingCommand({ Bucket: P, Key: 'o' }))), { code: 'AccessDenied', status: 403 });
  assert.equal(await failure(bob.send(new PutObjectTaggingCommand({ Bucket: P, Key: 'o', Tagging: { TagSet: [{ Key: 'owner', Value: 'bob' }] } }))), {
    code: 'AccessDenied',
    status: 403,
  });
  assert.equal(await failure(bob.send(new PutObjectLegalHoldCommand({ Bucket: P, Key: 'o', LegalHold: { Status: 'ON' } }))), {
    code: 'AccessDenied',
    status: 403,
  });
  assert.equal(
    await failure(
      bob.send(
        new PutObjectRetentionCommand({
          Bucket: P,
          Key: 'o',
          BypassGovernanceRetention: true,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 1000) },
        }),
      ),
    ),
    { code: 'AccessDenied', status: 403 },
  );
  // Nor bypass governance to remove it.
  assert.equal(await failure(bob.send(new DeleteObjectCommand({ Bucket: P, Key: 'o', VersionId: v, BypassGovernanceRetention: true }))), {
    code: 'AccessDenied',
    status: 403,
  });
  assert.equal(await tagsOfIn(P, 'o'), ['owner=admin']);
  // A bucket policy can grant reading tags.
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: P,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObjectTagging', Resource: `arn:aws:s3:::${P}/o` }],
      }),
    }),
  );
  assert.equal(
    (await bob.send(new GetObjectTaggingCommand({ Bucket: P, Key: 'o' }))).TagSet!.map((t) => t.Value),
    ['admin'],
  );
  // s3:ExistingObjectTag: a policy may grant reads of the objects a tag marks, and only those.
  await s3.send(new PutObjectCommand({ Bucket: P, Key: 'other', Body: 'y', Tagging: 'owner=someone' }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: P,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${P}/*`,
            Condition: { StringEquals: { 's3:ExistingObjectTag/owner': 'admin' } },
          },
        ],
      }),
    }),
  );
  assert.is(await (await bob.send(new GetObjectCommand({ Bucket: P, Key: 'o' }))).Body!.transformToString(), 'x');
  assert.equal(await failure(bob.send(new GetObjectCommand({ Bucket: P, Key: 'other' }))), { code: 'AccessDenied', status: 403 });
});

test.run();
