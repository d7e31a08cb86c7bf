// Bucket lifecycle with the AWS SDK v3 against a real `cairn` process whose lifecycle "day" is one
// second (CAIRN_LIFECYCLE_DAY_MS, as s3-tests runs RGW): the configuration document (put, get,
// delete, errors) and the worker carrying the rules out — expiration by days with prefix, tag and
// size filters, a delete marker in a versioned bucket, noncurrent version expiration, expired
// delete marker removal, abort of incomplete multipart uploads; object lock keeps what it locks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { rawRequest } from '../../test/s3-client.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;

const setRules = (bucket: string, rules: LifecycleRule[]) =>
  s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
const keys = async (bucket: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
const versions = async (bucket: string) => {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return { versions: (r.Versions ?? []).map((v) => `${v.Key}@${v.IsLatest ? 'latest' : 'old'}`), markers: (r.DeleteMarkers ?? []).map((m) => m.Key!) };
};

/** A series of the node's metrics: the sum of the samples of `name` whose labels include `labels`. */
async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${proc.cluster}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\d+)`, 'gm'))) if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  return sum;
}
const passes = () => metric('cairn_lifecycle_passes_total');
const expired = () => metric('cairn_lifecycle_actions_total', 'action="expire-current",result="done"');

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'error', CAIRN_LIFECYCLE_DAY_MS: '1000', CAIRN_LIFECYCLE_INTERVAL_MS: '200' } });
  s3 = sdkClient(proc);
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('configuration: put, get back as given (IDs filled in), delete; errors', async () => {
  const B = 'lc-conf';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  assert.equal(await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }))), { code: 'NoSuchLifecycleConfiguration', status: 404 });
  await setRules(B, [
    { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
    { Status: 'Disabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
  ]);
  const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }));
  assert.is(got.Rules!.length, 2);
  assert.equal([got.Rules![0]!.ID, got.Rules![0]!.Filter?.Prefix, got.Rules![0]!.Expiration?.Days], ['logs', 'logs/', 30]);
  assert.ok(got.Rules![1]!.ID, 'a rule without ID gets one');
  assert.is(got.Rules![1]!.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 2);
  assert.equal(await failure(setRules(B, [{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 0 } }])), {
    code: 'InvalidArgument',
    status: 400,
  });
  assert.equal(await failure(setRules(B, [{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' }, Transitions: [{ Days: 1, StorageClass: 'GLACIER' }] }])), {
    code: 'NotImplemented',
    status: 501,
  });
  assert.equal(
    await failure(
      setRules(B, [
        { ID: 'same', Status: 'Enabled', Filter: { Prefix: 'a' }, Expiration: { Days: 1 } },
        { ID: 'same', Status: 'Enabled', Filter: { Prefix: 'b' }, Expiration: { Days: 1 } },
      ]),
    ),
    { code: 'InvalidArgument', status: 400 },
  );
  const creds = { accessKey: proc.accessKey, secretKey: proc.secretKey };
  const bad = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: B, query: { lifecycle: '' } },
    creds,
    '<LifecycleConfiguration><Rule><Status>Sometimes</Status></Rule></LifecycleConfiguration>',
  );
  assert.is(bad.status, 400);
  assert.match(bad.body, '<Code>MalformedXML</Code>');
  // The refused documents changed nothing.
  assert.is((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }))).Rules!.length, 2);
  assert.is((await s3.send(new DeleteBucketLifecycleCommand({ Bucket: B }))).$metadata.httpStatusCode, 204);
  assert.equal(await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }))), { code: 'NoSuchLifecycleConfiguration', status: 404 });
});

test('expiration by days selects by prefix, tag and size; the rest stays', async () => {
  const B = 'lc-expire';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'tmp/a', Body: 'aaaa' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'keep/b', Body: 'bbbb' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'tagged', Body: 'cccc', Tagging: 'expire=yes' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'tagged-no', Body: 'dddd', Tagging: 'expire=no' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'big/x', Body: 'x'.repeat(100) }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'big/small', Body: 'x' }));
  await setRules(B, [
    { ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } },
    { ID: 'tag', Status: 'Enabled', Filter: { Tag: { Key: 'expire', Value: 'yes' } }, Expiration: { Days: 1 } },
    { ID: 'big', Status: 'Enabled', Filter: { And: { Prefix: 'big/', ObjectSizeGreaterThan: 10 } }, Expiration: { Days: 1 } },
    { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'keep/' }, Expiration: { Days: 1 } },
  ]);
  // x-amz-expiration names the rule and S3's calendar day (midnight UTC after creation + 1 day), never a disabled rule.
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'tmp/late', Body: 'l' }));
  const midnight = (Math.floor(Date.now() / 86_400_000) + 2) * 86_400_000;
  const header = new RegExp(`expiry-date="${new Date(midnight).toUTCString()}", rule-id="tmp"`);
  assert.match(put.Expiration ?? '', header);
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'keep/b' }))).Expiration, undefined);
  await waitFor(async () => (await keys(B)).length === 3, { timeoutMs: 15_000, intervalMs: 100, what: 'three objects expired' });
  assert.equal(await keys(B), ['big/small', 'keep/b', 'tagged-no']);
});

test('versioned: expiration adds one delete marker; noncurrent versions expire; the expired marker is removed', async () => {
  const B = 'lc-ver';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'cur', Body: '1' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'old', Body: '1' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'old', Body: '2' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'marked', Body: '1' }));
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'marked' }));
  const expiredBefore = await expired();
  await setRules(B, [
    { ID: 'cur', Status: 'Enabled', Filter: { Prefix: 'cur' }, Expiration: { Days: 1 } },
    { ID: 'nc', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
    { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'marked' }, Expiration: { ExpiredObjectDeleteMarker: true } },
  ]);
  // cur: a marker on top of its version, which the noncurrent rule then removes, and then the marker
  // left alone (an expired marker, which Expiration Days removes too); old: only its newest version
  // left; marked: its version goes (noncurrent), then the marker left alone is removed.
  await waitFor(async () => JSON.stringify(await versions(B)) === JSON.stringify({ versions: ['old@latest'], markers: [] }), {
    timeoutMs: 20_000,
    intervalMs: 200,
    what: 'versions expired',
  });
  // Exactly once: cur's version was expired (a marker added) once, and two more passes add nothing.
  const from = await passes();
  await waitFor(async () => (await passes()) >= from + 2, { timeoutMs: 10_000, intervalMs: 100, what: 'two more lifecycle passes' });
  assert.is((await expired()) - expiredBefore, 1);
  assert.equal(await versions(B), { versions: ['old@latest'], markers: [] });
});

test('incomplete multipart uploads are aborted after DaysAfterInitiation', async () => {
  const B = 'lc-mpu';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'stale/upload' }));
  await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'other/upload' }));
  await setRules(B, [{ ID: 'abort', Status: 'Enabled', Filter: { Prefix: 'stale/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
  const uploads = async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket: B }))).Uploads ?? []).map((u) => u.Key);
  await waitFor(async () => (await uploads()).length === 1, { timeoutMs: 15_000, intervalMs: 200, what: 'the stale upload aborted' });
  assert.equal(await uploads(), ['other/upload']);
});

test('object lock keeps a locked version whatever the rules say', async () => {
  const B = 'lc-lock';
  await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
  const locked = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: '1', ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: '2' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'free', Body: '1' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'free', Body: '2' }));
  await setRules(B, [{ ID: 'nc', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]);
  await waitFor(async () => (await versions(B)).versions.filter((v) => v === 'free@old').length === 0, {
    timeoutMs: 15_000,
    intervalMs: 200,
    what: 'the free noncurrent version expired',
  });
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: locked }))).ObjectLockLegalHoldStatus, 'ON');
  const metrics = await (await fetch(`${proc.cluster}/metrics`)).text();
  assert.match(metrics, /cairn_lifecycle_actions_total\{[^}]*action="delete-noncurrent"[^}]*result="locked"[^}]*\} [1-9]/);
});

test.run();
