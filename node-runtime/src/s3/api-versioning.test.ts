// Versioning over HTTP, driven by the unmodified AWS SDK v3 against a real `cairn` process on
// loopback: Put/GetBucketVersioning, version ids, delete markers, GET/HEAD/DELETE and copy sources
// by versionId, ListObjectVersions with key and version-id markers, the null version of a suspended
// bucket, and the x-amz-version-id / x-amz-delete-marker headers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { rawRequest } from '../../test/s3-client.ts';

let proc: CairnProcess;
let s3: S3Client;

/** The S3 error code, status and response headers a failing command produced. */
async function failure(p: Promise<unknown>): Promise<{ code: string; status?: number; headers: Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) {
      const raw = (e.$response as { headers?: Record<string, string> } | undefined)?.headers ?? {};
      return { code: e.name, status: e.$metadata.httpStatusCode, headers: raw };
    }
    throw e;
  }
  return { code: 'no error', headers: {} };
}

const text = async (bucket: string, key: string, versionId?: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Body!.transformToString();
const versioning = (bucket: string, status: 'Enabled' | 'Suspended') =>
  s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }));

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'error' } });
  s3 = new S3Client({
    endpoint: proc.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: proc.accessKey, secretAccessKey: proc.secretKey },
  });
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('bucket versioning: unset, Enabled, Suspended; bad documents and MFA delete refused', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'vconf' }));
  assert.is((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vconf' }))).Status, undefined);
  await versioning('vconf', 'Enabled');
  assert.is((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vconf' }))).Status, 'Enabled');
  await versioning('vconf', 'Suspended');
  assert.is((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vconf' }))).Status, 'Suspended');
  const creds = { accessKey: proc.accessKey, secretKey: proc.secretKey };
  const bad = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: 'vconf', query: { versioning: '' } },
    creds,
    '<VersioningConfiguration><Status>On</Status></VersioningConfiguration>',
  );
  assert.is(bad.status, 400);
  assert.match(bad.body, '<Code>MalformedXML</Code>');
  const mfa = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: 'vconf', query: { versioning: '' } },
    creds,
    '<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>',
  );
  assert.is(mfa.status, 501);
  assert.match(mfa.body, '<Code>NotImplemented</Code>');
  await s3.send(new PutObjectCommand({ Bucket: 'vconf', Key: 'mfa', Body: 'x' }));
  const mfaDelete = await rawRequest(proc.endpoint, { method: 'DELETE', bucket: 'vconf', key: 'mfa', headers: { 'x-amz-mfa': '123456 654321' } }, creds);
  assert.is(mfaDelete.status, 501);
  assert.is(await text('vconf', 'mfa'), 'x');
  assert.equal((await failure(s3.send(new GetBucketVersioningCommand({ Bucket: 'no-such-vbucket' })))).code, 'NoSuchBucket');
});

test('enabled: every put is a version; GET/HEAD by id; a delete adds a marker (404 with its headers); removing it brings the object back', async () => {
  const B = 'ver';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await versioning(B, 'Enabled');
  const v1 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'one' }))).VersionId!;
  const v2 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'two' }))).VersionId!;
  assert.ok(v1 && v2 && v1 !== v2 && v1 !== 'null', `version ids ${v1} ${v2}`);
  assert.is(await text(B, 'k'), 'two');
  assert.is(await text(B, 'k', v1), 'one');
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'k' }));
  assert.is(got.VersionId, v2);
  await got.Body!.transformToString();
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: v1 }))).VersionId, v1);
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: v1 }))).ContentLength, 3);
  const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'k', VersionId: v1, ObjectAttributes: ['ObjectSize', 'ETag'] }));
  assert.equal([attrs.VersionId, attrs.ObjectSize], [v1, 3], 'GetObjectAttributes of a version by id names it');

  const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k' }));
  assert.is(del.DeleteMarker, true);
  const marker = del.VersionId!;
  assert.ok(marker && marker !== v2);
  const gone = await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k' })));
  assert.equal([gone.code, gone.status, gone.headers['x-amz-delete-marker'], gone.headers['x-amz-version-id']], ['NoSuchKey', 404, 'true', marker]);
  const headGone = await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k' })));
  assert.equal([headGone.status, headGone.headers['x-amz-delete-marker']], [404, 'true']);
  // A key that is simply absent says so.
  const never = await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'never-written' })));
  assert.equal([never.status, never.headers['x-amz-delete-marker']], [404, 'false']);
  // The marker named by id: 405, with its headers; older versions still read.
  const named = await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: marker })));
  assert.equal([named.code, named.status, named.headers['x-amz-delete-marker']], ['MethodNotAllowed', 405, 'true']);
  assert.is(await text(B, 'k', v2), 'two');
  assert.is((await s3.send(new ListObjectsV2Command({ Bucket: B }))).KeyCount, 0);

  // Removing the marker (by id) makes v2 current again; removing v2 makes v1 current.
  const unmark = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId: marker }));
  assert.equal([unmark.VersionId, unmark.DeleteMarker], [marker, true]);
  assert.is(await text(B, 'k'), 'two');
  const rm = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId: v2 }));
  assert.equal([rm.VersionId, rm.DeleteMarker], [v2, undefined]);
  assert.is(await text(B, 'k'), 'one');
  assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: v2 })))).code, 'NoSuchVersion');
  // A version id that was never issued, and a malformed one.
  assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: 'nope' })))).status, 404);
  assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: 'nope' })))).code, 'NoSuchVersion');
  // A bucket with versions left is not empty.
  assert.equal((await failure(s3.send(new DeleteBucketCommand({ Bucket: B })))).code, 'BucketNotEmpty');
});

test('copy source by versionId; x-amz-copy-source-version-id; a copy onto the same key from an old version', async () => {
  const B = 'vcopy';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await versioning(B, 'Enabled');
  const v1 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src', Body: 'first' }))).VersionId!;
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src', Body: 'second' }));
  const copy = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'dst', CopySource: `${B}/src?versionId=${v1}` }));
  assert.is(copy.CopySourceVersionId, v1);
  assert.ok(copy.VersionId && copy.VersionId !== v1);
  assert.is(await text(B, 'dst'), 'first');
  // Restoring an old version in place (same key, named version): allowed, and a new version.
  const restore = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'src', CopySource: `${B}/src?versionId=${v1}` }));
  assert.is(await text(B, 'src'), 'first');
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'src' }))).VersionId, restore.VersionId);
  assert.equal((await failure(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'dst', CopySource: `${B}/src?versionId=missing` })))).code, 'NoSuchVersion');
});

test('suspended: writes fill the null version (replacing it), older versions stay; delete adds a null marker', async () => {
  const B = 'vsusp';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  // Written before versioning was ever enabled: the null version, reported as such once it is.
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'pre' }));
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k' }))).VersionId, undefined);
  await versioning(B, 'Enabled');
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'k' }))).VersionId, 'null');
  const v1 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'enabled' }))).VersionId!;
  await versioning(B, 'Suspended');
  // A suspended bucket's write fills the null version and answers no version id (as S3 and the suite).
  const s1 = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'suspended-1' }));
  assert.is(s1.VersionId, undefined);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'suspended-2' }));
  assert.is(await text(B, 'k'), 'suspended-2');
  assert.is(await text(B, 'k', 'null'), 'suspended-2');
  assert.is(await text(B, 'k', v1), 'enabled');
  const ids = (r: ListObjectVersionsCommandOutput) => [
    ...(r.Versions ?? []).map((v) => `${v.VersionId}:${v.IsLatest}`),
    ...(r.DeleteMarkers ?? []).map((m) => `marker ${m.VersionId}:${m.IsLatest}`),
  ];
  // 'pre' was the null version and was replaced by the suspended writes: two versions remain.
  assert.equal(ids(await s3.send(new ListObjectVersionsCommand({ Bucket: B }))), ['null:true', `${v1}:false`]);
  const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'k' }));
  assert.equal([del.DeleteMarker, del.VersionId], [true, 'null']);
  assert.equal(ids(await s3.send(new ListObjectVersionsCommand({ Bucket: B }))), [`${v1}:false`, 'marker null:true']);
  assert.is(await text(B, 'k', v1), 'enabled');
});

test('ListObjectVersions: order, IsLatest, delete markers, prefixes, key and version-id markers page through every version once', async () => {
  const B = 'vlist';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await versioning(B, 'Enabled');
  const written: string[] = [];
  for (const key of ['a', 'b', 'dir/c']) {
    for (let i = 0; i < 3; i++) written.push(`${key}@${(await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: `v${i}` }))).VersionId}`);
  }
  const marker = (await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'b' }))).VersionId!;
  const all = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
  assert.equal(
    all.Versions!.map((v) => v.Key),
    ['a', 'a', 'a', 'b', 'b', 'b', 'dir/c', 'dir/c', 'dir/c'],
  );
  // Newest first within a key: the last written of a is latest; b's latest is its marker.
  assert.equal(
    all.Versions!.filter((v) => v.Key === 'a').map((v) => `a@${v.VersionId}`),
    written.slice(0, 3).reverse(),
  );
  assert.equal(
    all.Versions!.filter((v) => v.IsLatest).map((v) => v.Key),
    ['a', 'dir/c'],
  );
  assert.equal(
    all.DeleteMarkers!.map((m) => [m.Key, m.VersionId, m.IsLatest]),
    [['b', marker, true]],
  );
  assert.ok(
    all.Versions!.every((v) => v.ETag && v.Size === 2 && v.LastModified instanceof Date),
    JSON.stringify(all.Versions),
  );

  const delimited = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Delimiter: '/' }));
  assert.equal(
    delimited.CommonPrefixes?.map((p) => p.Prefix),
    ['dir/'],
  );
  assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'dir/' }))).Versions!.length, 3);

  // Pages of 2: every version and marker exactly once, in the same order, through both markers.
  const seen: string[] = [];
  let keyMarker: string | undefined, versionIdMarker: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: B, MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    const entries = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
    assert.ok(entries.length <= 2, JSON.stringify(page));
    seen.push(...entries.map((e) => `${e.Key}@${e.VersionId}`));
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  assert.equal(seen.sort(), [...written, `b@${marker}`].sort());
  // A key marker alone starts after that key.
  assert.equal(
    (await s3.send(new ListObjectVersionsCommand({ Bucket: B, KeyMarker: 'b' }))).Versions!.map((v) => v.Key),
    ['dir/c', 'dir/c', 'dir/c'],
  );
  assert.equal((await failure(s3.send(new ListObjectVersionsCommand({ Bucket: B, VersionIdMarker: 'x' })))).code, 'InvalidArgument');
});

test('DeleteObjects with version ids: versions removed, a marker removed, markers made; per-object errors', async () => {
  const B = 'vmulti';
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await versioning(B, 'Enabled');
  const v1 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'x', Body: '1' }))).VersionId!;
  const v2 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'x', Body: '2' }))).VersionId!;
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'y', Body: 'y' }));
  const res = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'x', VersionId: v2 }, { Key: 'y' }] } }));
  const byKey = new Map(res.Deleted!.map((d) => [d.Key, d]));
  assert.is(byKey.get('x')!.VersionId, v2);
  assert.is(byKey.get('y')!.DeleteMarker, true);
  const yMarker = byKey.get('y')!.DeleteMarkerVersionId!;
  assert.ok(yMarker);
  assert.is(await text(B, 'x'), '1');
  const again = await s3.send(
    new DeleteObjectsCommand({
      Bucket: B,
      Delete: {
        Objects: [
          { Key: 'y', VersionId: yMarker },
          { Key: 'x', VersionId: v1 },
        ],
      },
    }),
  );
  assert.equal(again.Deleted!.find((d) => d.Key === 'y')!.DeleteMarker, true);
  assert.is(await text(B, 'y'), 'y');
  assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'x' })))).code, 'NoSuchKey');
});

test.run();
