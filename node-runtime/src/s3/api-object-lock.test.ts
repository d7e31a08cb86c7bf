// Object lock (WORM) over HTTP with the AWS SDK v3 against a real `cairn` process: a bucket created
// with lock, its default retention, per-version retention (GOVERNANCE, COMPLIANCE) and legal hold,
// x-amz-bypass-governance-retention — a locked version cannot be removed until it expires.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
const L = 'locked';
const DAY = 86_400_000;

const put = async (key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  (await s3.send(new PutObjectCommand({ Bucket: L, Key: key, Body: key, ...extra }))).VersionId!;
const remove = (key: string, versionId: string, bypass = false) =>
  failure(s3.send(new DeleteObjectCommand({ Bucket: L, Key: key, VersionId: versionId, ...(bypass ? { BypassGovernanceRetention: true } : {}) })));

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'error' } });
  s3 = sdkClient(proc);
  await s3.send(new CreateBucketCommand({ Bucket: L, ObjectLockEnabledForBucket: true }));
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('a bucket created with lock: versioning on for good; configuration and default retention', async () => {
  assert.is((await s3.send(new GetBucketVersioningCommand({ Bucket: L }))).Status, 'Enabled');
  assert.equal(await failure(s3.send(new PutBucketVersioningCommand({ Bucket: L, VersioningConfiguration: { Status: 'Suspended' } }))), {
    code: 'InvalidBucketState',
    status: 409,
  });
  assert.equal((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: L }))).ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
  await s3.send(new CreateBucketCommand({ Bucket: 'unlocked' }));
  assert.equal(await failure(s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'unlocked' }))), {
    code: 'ObjectLockConfigurationNotFoundError',
    status: 404,
  });
  assert.equal(
    await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'unlocked', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }))),
    { code: 'InvalidBucketState', status: 409 },
  );
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'unlocked', VersioningConfiguration: { Status: 'Suspended' } }));
  assert.equal(
    await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'unlocked', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }))),
    { code: 'InvalidBucketState', status: 409 },
  );
  // A bucket whose versioning is Enabled may turn lock on later; then versioning stays on.
  await s3.send(new CreateBucketCommand({ Bucket: 'locked-later' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'locked-later', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'locked-later', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
  assert.equal(await failure(s3.send(new PutBucketVersioningCommand({ Bucket: 'locked-later', VersioningConfiguration: { Status: 'Suspended' } }))), {
    code: 'InvalidBucketState',
    status: 409,
  });
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: 'unlocked', Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }))), {
    code: 'InvalidRequest',
    status: 400,
  });
  assert.equal(
    await failure(
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: L,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 0 } } },
        }),
      ),
    ),
    { code: 'InvalidRetentionPeriod', status: 400 },
  );
  assert.equal(
    await failure(
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: L,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } } },
        }),
      ),
    ),
    { code: 'MalformedXML', status: 400 },
  );

  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: L,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
    }),
  );
  assert.equal((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: L }))).ObjectLockConfiguration?.Rule, {
    DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 },
  });
  // A new version gets the default: GOVERNANCE for a day, removable only with the bypass.
  const v = await put('by-default');
  const head = await s3.send(new HeadObjectCommand({ Bucket: L, Key: 'by-default' }));
  assert.is(head.ObjectLockMode, 'GOVERNANCE');
  assert.ok(Math.abs(head.ObjectLockRetainUntilDate!.getTime() - (Date.now() + DAY)) < 60_000);
  assert.is(head.ObjectLockLegalHoldStatus, 'OFF');
  assert.equal(await remove('by-default', v), { code: 'AccessDenied', status: 403 });
  assert.equal(await remove('by-default', v, true), { code: 'no error' });
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: L, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
  assert.equal(await failure(s3.send(new HeadObjectCommand({ Bucket: L, Key: 'by-default' }))), { code: 'NotFound', status: 404 });
  // Without a default, a new version is not locked.
  assert.equal(await remove('plain', await put('plain')), { code: 'no error' });
});

test('COMPLIANCE: nobody removes the version or shortens its retention; a delete without id only adds a marker', async () => {
  const until = new Date(Date.now() + DAY);
  const v = await put('compliant', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until });
  const r = await s3.send(new GetObjectRetentionCommand({ Bucket: L, Key: 'compliant', VersionId: v }));
  assert.is(r.Retention?.Mode, 'COMPLIANCE');
  assert.ok(Math.abs(r.Retention!.RetainUntilDate!.getTime() - until.getTime()) < 1000);
  assert.equal(await remove('compliant', v), { code: 'AccessDenied', status: 403 });
  assert.equal(await remove('compliant', v, true), { code: 'AccessDenied', status: 403 });
  const shorter = new Date(Date.now() + DAY / 2);
  assert.equal(
    await failure(
      s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: 'compliant', VersionId: v, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: shorter } })),
    ),
    { code: 'AccessDenied', status: 403 },
  );
  assert.equal(
    await failure(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket: L,
          Key: 'compliant',
          VersionId: v,
          BypassGovernanceRetention: true,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until },
        }),
      ),
    ),
    { code: 'AccessDenied', status: 403 },
  );
  // Lengthening is always allowed.
  await s3.send(
    new PutObjectRetentionCommand({
      Bucket: L,
      Key: 'compliant',
      VersionId: v,
      Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 2 * DAY) },
    }),
  );
  // DeleteObjects by version id: a per-object AccessDenied, the version stays.
  const multi = await s3.send(
    new DeleteObjectsCommand({ Bucket: L, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'compliant', VersionId: v }] } }),
  );
  assert.equal(
    multi.Errors?.map((e) => e.Code),
    ['AccessDenied'],
  );
  // Without a version id the key gets a delete marker; the locked version is still there.
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'compliant' }));
  assert.is(marker.DeleteMarker, true);
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: L, Key: 'compliant', VersionId: v }))).ObjectLockMode, 'COMPLIANCE');
});

test('GOVERNANCE: bypass removes or shortens; a past retain-until date and half a header pair are refused', async () => {
  const until = new Date(Date.now() + DAY);
  const v = await put('governed', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
  assert.equal(
    await failure(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket: L,
          Key: 'governed',
          VersionId: v,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 60_000) },
        }),
      ),
    ),
    { code: 'AccessDenied', status: 403 },
  );
  // Even to COMPLIANCE: a governed version's mode changes only with the bypass.
  assert.equal(
    await failure(
      s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: 'governed', VersionId: v, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: until } })),
    ),
    { code: 'AccessDenied', status: 403 },
  );
  await s3.send(
    new PutObjectRetentionCommand({
      Bucket: L,
      Key: 'governed',
      VersionId: v,
      Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(until.getTime() + DAY) },
    }),
  );
  await s3.send(
    new PutObjectRetentionCommand({
      Bucket: L,
      Key: 'governed',
      VersionId: v,
      BypassGovernanceRetention: true,
      Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 60_000) },
    }),
  );
  assert.equal(await remove('governed', v), { code: 'AccessDenied', status: 403 });
  assert.equal(await remove('governed', v, true), { code: 'no error' });
  assert.equal(
    await failure(
      s3.send(
        new PutObjectCommand({ Bucket: L, Key: 'past', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 1000) }),
      ),
    ),
    { code: 'InvalidArgument', status: 400 },
  );
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: L, Key: 'half', Body: 'x', ObjectLockMode: 'GOVERNANCE' }))), {
    code: 'InvalidArgument',
    status: 400,
  });
  assert.equal(await failure(s3.send(new GetObjectRetentionCommand({ Bucket: L, Key: 'governed' }))), { code: 'NoSuchKey', status: 404 });
});

test('a retention that expires frees the version', async () => {
  const v = await put('short', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() + 1500) });
  assert.equal(await remove('short', v), { code: 'AccessDenied', status: 403 });
  await waitFor(async () => (await remove('short', v)).code === 'no error', { timeoutMs: 10_000, intervalMs: 200, what: 'the retention to expire' });
});

test('legal hold: blocks removal whatever the retention, until it is taken off; multipart uploads carry it', async () => {
  const v = await put('held', { ObjectLockLegalHoldStatus: 'ON' });
  assert.is((await s3.send(new GetObjectLegalHoldCommand({ Bucket: L, Key: 'held', VersionId: v }))).LegalHold?.Status, 'ON');
  assert.equal(await remove('held', v, true), { code: 'AccessDenied', status: 403 });
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: L, Key: 'held', VersionId: v, LegalHold: { Status: 'OFF' } }));
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: L, Key: 'held', VersionId: v }))).ObjectLockLegalHoldStatus, 'OFF');
  assert.equal(await remove('held', v), { code: 'no error' });
  const w = await put('held-later');
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: L, Key: 'held-later', LegalHold: { Status: 'ON' } }));
  assert.equal(await remove('held-later', w), { code: 'AccessDenied', status: 403 });
  assert.equal(await failure(s3.send(new PutObjectLegalHoldCommand({ Bucket: 'unlocked', Key: 'k', LegalHold: { Status: 'ON' } }))), {
    code: 'InvalidRequest',
    status: 400,
  });
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: L, Key: 'mp', ObjectLockLegalHoldStatus: 'ON' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: L, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'part' }));
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: L, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
  );
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: L, Key: 'mp' }))).ObjectLockLegalHoldStatus, 'ON');
  assert.equal(await remove('mp', done.VersionId!, true), { code: 'AccessDenied', status: 403 });
});

test.run();
