// Two users on one real `cairn` process, driven with the AWS SDK: each owns its buckets and objects,
// and nothing of alice's reaches bob without a grant — for every API family (objects, listing,
// multipart, copy, ACLs, policies, presigned URLs). A disabled key stops working; a bad ACL or
// policy is refused with S3's code and changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createAdminClient } from '../admin/client.ts';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';

const ALICE = { user: 'alice', accessKeyId: 'ALICEKEY', secretAccessKey: 'alice-secret-key-1', email: 'alice@example.com' };
const BOB = { user: 'bob', accessKeyId: 'BOBKEY0001', secretAccessKey: 'bob-secret-key-01', email: 'bob@example.com' };
const SECRET = 'tenancy-cluster-secret';
let proc: CairnProcess;
let keysDir: string;
let alice: S3Client;
let bob: S3Client;

const client = (k: { accessKeyId: string; secretAccessKey: string }) =>
  new S3Client({
    endpoint: proc.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
  });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    // A HEAD answer has no body to name its error: its status says it.
    if (e instanceof S3ServiceException) return e.$metadata.httpStatusCode === 403 && e.name === 'Unknown' ? 'AccessDenied' : e.name;
    throw e;
  }
}
const denied = async (p: Promise<unknown>, what: string) => assert.is(await code(p), 'AccessDenied', what);

test.before(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'cairn-tenancy-'));
  const keysFile = join(keysDir, 'keys.json');
  await writeFile(keysFile, JSON.stringify([ALICE, BOB]));
  proc = await startCairnProcess({ secret: SECRET, extraArgs: ['--keys-file', keysFile] });
  alice = client(ALICE);
  bob = client(BOB);
  await alice.send(new CreateBucketCommand({ Bucket: 'alice-data' }));
  await alice.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'private/diary.txt', Body: 'dear diary' }));
  await alice.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt', Body: 'notes' }));
  await bob.send(new CreateBucketCommand({ Bucket: 'bob-data' }));
});

test.after(async () => {
  alice?.destroy();
  bob?.destroy();
  await proc?.cleanup();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

test('buckets: each lists its own; a taken name is BucketAlreadyExists, your own again is 200 (us-east-1)', async () => {
  assert.equal(
    (await alice.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name),
    ['alice-data'],
  );
  const bobs = await bob.send(new ListBucketsCommand({}));
  assert.equal(
    bobs.Buckets?.map((b) => b.Name),
    ['bob-data'],
  );
  assert.is(bobs.Owner?.ID, 'bob');
  assert.is(await code(bob.send(new CreateBucketCommand({ Bucket: 'alice-data' }))), 'BucketAlreadyExists');
  assert.is(await code(alice.send(new CreateBucketCommand({ Bucket: 'alice-data' }))), 'ok');
});

test("objects, listing, multipart and copy: nothing of alice's without a grant", async () => {
  await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'private/diary.txt' })), 'GET');
  await denied(bob.send(new HeadObjectCommand({ Bucket: 'alice-data', Key: 'private/diary.txt' })), 'HEAD');
  await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'no/such/key' })), 'a missing key tells bob nothing');
  await denied(bob.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'graffiti', Body: 'x' })), 'PUT');
  await denied(bob.send(new DeleteObjectCommand({ Bucket: 'alice-data', Key: 'private/diary.txt' })), 'DELETE');
  await denied(bob.send(new ListObjectsV2Command({ Bucket: 'alice-data' })), 'LIST');
  await denied(bob.send(new CreateMultipartUploadCommand({ Bucket: 'alice-data', Key: 'mp' })), 'CreateMultipartUpload');
  const upload = await alice.send(new CreateMultipartUploadCommand({ Bucket: 'alice-data', Key: 'mp' }));
  await denied(bob.send(new UploadPartCommand({ Bucket: 'alice-data', Key: 'mp', UploadId: upload.UploadId, PartNumber: 1, Body: 'x' })), 'UploadPart');
  await denied(bob.send(new ListMultipartUploadsCommand({ Bucket: 'alice-data' })), 'ListMultipartUploads');
  await denied(bob.send(new CopyObjectCommand({ Bucket: 'bob-data', Key: 'stolen', CopySource: 'alice-data/private/diary.txt' })), 'copy out');
  await bob.send(new PutObjectCommand({ Bucket: 'bob-data', Key: 'mine', Body: 'bob' }));
  await denied(bob.send(new CopyObjectCommand({ Bucket: 'alice-data', Key: 'planted', CopySource: 'bob-data/mine' })), 'copy in');
  assert.is(await code(alice.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'graffiti' }))), 'NoSuchKey', 'nothing was written');
  assert.is(await (await alice.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'private/diary.txt' }))).Body!.transformToString(), 'dear diary');
});

test('ACLs: a grant by e-mail lets bob read one object, a revocation takes it back; bob cannot change ACLs', async () => {
  await denied(bob.send(new GetBucketAclCommand({ Bucket: 'alice-data' })), 'GetBucketAcl');
  await alice.send(new PutObjectAclCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt', GrantRead: 'emailAddress="bob@example.com"' }));
  assert.is(await (await bob.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt' }))).Body!.transformToString(), 'notes');
  const acl = await alice.send(new GetObjectAclCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt' }));
  assert.equal(
    acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]),
    [['bob', 'READ']],
  );
  await denied(bob.send(new PutObjectAclCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt', ACL: 'public-read' })), 'PutObjectAcl by a reader');
  await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'private/diary.txt' })), 'the grant is for one object');
  await alice.send(new PutObjectAclCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt', ACL: 'private' }));
  await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt' })), 'revoked');
  assert.is(await code(alice.send(new PutObjectAclCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt', GrantRead: 'id="nobody"' }))), 'InvalidArgument');
  assert.is(
    await code(alice.send(new PutObjectAclCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt', GrantRead: 'emailAddress="nobody@nowhere.invalid"' }))),
    'UnresolvableGrantByEmailAddress',
  );
});

test('bucket policy: a prefix-limited listing for bob; a malformed policy changes nothing; public access block', async () => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::bob:root' },
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::alice-data',
        Condition: { StringEquals: { 's3:prefix': 'shared/' } },
      },
      { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-data/shared/*' },
    ],
  });
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'alice-data', Policy: policy }));
  assert.is((await alice.send(new GetBucketPolicyCommand({ Bucket: 'alice-data' }))).Policy, policy, 'kept byte for byte');
  assert.equal(
    (await bob.send(new ListObjectsV2Command({ Bucket: 'alice-data', Prefix: 'shared/' }))).Contents?.map((o) => o.Key),
    ['shared/notes.txt'],
  );
  await denied(bob.send(new ListObjectsV2Command({ Bucket: 'alice-data', Prefix: 'private/' })), 'other prefixes');
  assert.is(await (await bob.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt' }))).Body!.transformToString(), 'notes');
  await denied(bob.send(new PutBucketPolicyCommand({ Bucket: 'alice-data', Policy: policy })), 'bob cannot change it');
  assert.is(await code(alice.send(new PutBucketPolicyCommand({ Bucket: 'alice-data', Policy: '{"Statement": [{"Effect": "Maybe"}]}' }))), 'MalformedPolicy');
  assert.is((await alice.send(new GetBucketPolicyCommand({ Bucket: 'alice-data' }))).Policy, policy, 'the old policy still stands');
  assert.is((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'alice-data' }))).PolicyStatus?.IsPublic, false);
  await alice.send(
    new PutPublicAccessBlockCommand({ Bucket: 'alice-data', PublicAccessBlockConfiguration: { BlockPublicPolicy: true, BlockPublicAcls: true } }),
  );
  const open = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-data/*' }] });
  await denied(alice.send(new PutBucketPolicyCommand({ Bucket: 'alice-data', Policy: open })), 'a public policy is blocked');
  await denied(alice.send(new PutObjectAclCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt', ACL: 'public-read' })), 'a public ACL is blocked');
  await alice.send(new DeleteBucketPolicyCommand({ Bucket: 'alice-data' }));
  await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'shared/notes.txt' })), 'the policy is gone');
});

test('a version named by id needs s3:GetObjectVersion: s3:GetObject reads only the current one', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'alice-versions' }));
  await alice.send(new PutBucketVersioningCommand({ Bucket: 'alice-versions', VersioningConfiguration: { Status: 'Enabled' } }));
  const v1 = (await alice.send(new PutObjectCommand({ Bucket: 'alice-versions', Key: 'doc', Body: 'one' }))).VersionId!;
  await alice.send(new PutObjectCommand({ Bucket: 'alice-versions', Key: 'doc', Body: 'two' }));
  const allow = (actions: string[]) =>
    alice.send(
      new PutBucketPolicyCommand({
        Bucket: 'alice-versions',
        Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'bob' }, Action: actions, Resource: 'arn:aws:s3:::alice-versions/*' }] }),
      }),
    );
  await allow(['s3:GetObject']);
  assert.is(await (await bob.send(new GetObjectCommand({ Bucket: 'alice-versions', Key: 'doc' }))).Body!.transformToString(), 'two');
  await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-versions', Key: 'doc', VersionId: v1 })), 'an old version by id');
  await denied(bob.send(new HeadObjectCommand({ Bucket: 'alice-versions', Key: 'doc', VersionId: v1 })), 'HEAD of it too');
  await allow(['s3:GetObject', 's3:GetObjectVersion']);
  assert.is(await (await bob.send(new GetObjectCommand({ Bucket: 'alice-versions', Key: 'doc', VersionId: v1 }))).Body!.transformToString(), 'one');
  await denied(bob.send(new DeleteObjectCommand({ Bucket: 'alice-versions', Key: 'doc', VersionId: v1 })), 'removing a version needs s3:DeleteObjectVersion');
});

test("presigned URLs carry their signer's rights, no more", async () => {
  const ok = await getSignedUrl(alice, new GetObjectCommand({ Bucket: 'alice-data', Key: 'private/diary.txt' }), { expiresIn: 60 });
  assert.is(await (await fetch(ok)).text(), 'dear diary');
  const forged = await getSignedUrl(bob, new GetObjectCommand({ Bucket: 'alice-data', Key: 'private/diary.txt' }), { expiresIn: 60 });
  assert.is((await fetch(forged)).status, 403);
});

test('a disabled key stops working at once; enabled again, it works', async () => {
  const admin = createAdminClient({ url: proc.cluster, secret: SECRET });
  await admin.setKeyDisabled!(BOB.accessKeyId, true);
  await waitFor(async () => (await code(bob.send(new ListBucketsCommand({})))) === 'InvalidAccessKeyId', { what: 'bob refused', timeoutMs: 5_000 });
  await admin.setKeyDisabled!(BOB.accessKeyId, false);
  await waitFor(async () => (await code(bob.send(new ListBucketsCommand({})))) === 'ok', { what: 'bob back', timeoutMs: 5_000 });
  await admin.putUser({ id: 'bob', disabled: true });
  await waitFor(async () => (await code(bob.send(new ListBucketsCommand({})))) === 'InvalidAccessKeyId', {
    what: "a disabled user's keys refused",
    timeoutMs: 5_000,
  });
  await admin.putUser({ id: 'bob', disabled: false });
});

test.run();
