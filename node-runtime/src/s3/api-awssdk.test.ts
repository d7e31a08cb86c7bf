// The file API driven by the unmodified AWS SDK v3 against a real `cairn` process on loopback:
// buckets, objects (metadata, ranges, conditionals, overrides, copies), listings, multipart and
// presigned URLs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectsV2CommandOutput,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
const B = 'sdk-bucket';
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

/** The S3 error code (and status) a failing command produced. */

test.before(async () => {
  proc = await startCairnProcess();
  s3 = sdkClient(proc);
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('buckets: create, head, list, location, versioning, duplicates and bad names', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new HeadBucketCommand({ Bucket: B }));
  const list = await s3.send(new ListBucketsCommand({}));
  assert.ok(list.Buckets?.some((b) => b.Name === B && b.CreationDate instanceof Date));
  const loc = await s3.send(new GetBucketLocationCommand({ Bucket: B }));
  assert.ok(['', 'us-east-1', undefined].includes(loc.LocationConstraint as string | undefined));
  const ver = await s3.send(new GetBucketVersioningCommand({ Bucket: B }));
  assert.is(ver.Status, undefined);
  // us-east-1: a repeat of your own create is 200 and changes nothing; one that changes the ACL is refused.
  assert.equal(await failure(s3.send(new CreateBucketCommand({ Bucket: B }))), { code: 'no error' });
  assert.equal(await failure(s3.send(new CreateBucketCommand({ Bucket: B, ACL: 'public-read' }))), { code: 'BucketAlreadyExists', status: 409 });
  assert.equal(await failure(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))), { code: 'InvalidBucketName', status: 400 });
  assert.equal(await failure(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' }))), { code: 'NotFound', status: 404 });
  assert.equal((await failure(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })))).code, 'NoSuchBucket');
});

test('put/get/head with metadata, content type and stored headers; ETag is the MD5', async () => {
  const body = 'hello cairn';
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: B,
      Key: 'docs/hello.txt',
      Body: body,
      ContentType: 'text/plain',
      Metadata: { color: 'blue', 'two-words': 'a b' },
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment; filename="h.txt"',
    }),
  );
  assert.is(put.ETag, `"${md5(body)}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'docs/hello.txt' }));
  assert.is(await got.Body!.transformToString(), body);
  assert.is(got.ContentType, 'text/plain');
  assert.is(got.ContentLength, body.length);
  assert.is(got.ETag, `"${md5(body)}"`);
  assert.equal(got.Metadata, { color: 'blue', 'two-words': 'a b' });
  assert.is(got.CacheControl, 'max-age=60');
  assert.is(got.ContentDisposition, 'attachment; filename="h.txt"');
  assert.ok(got.LastModified instanceof Date && Math.abs(got.LastModified.getTime() - Date.now()) < 60_000);
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'docs/hello.txt' }));
  assert.is(head.ContentLength, body.length);
  assert.is(head.ETag, `"${md5(body)}"`);
  assert.is(head.Metadata?.color, 'blue');
  assert.equal(await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'nope' }))), { code: 'NotFound', status: 404 });
  assert.equal(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'nope' }))), { code: 'NoSuchKey', status: 404 });
});

test('streamed upload (aws-chunked with a checksum trailer) and Content-MD5', async () => {
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
  await s3.send(
    new PutObjectCommand({
      Bucket: B,
      Key: 'big/streamed.bin',
      Body: Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]),
      ContentLength: data.length,
    }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big/streamed.bin' }));
  const back = Buffer.from(await got.Body!.transformToByteArray());
  assert.is(back.length, data.length);
  assert.ok(back.equals(data));
  const goodMd5 = createHash('md5').update('abc').digest('base64');
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'md5-ok', Body: 'abc', ContentMD5: goodMd5 }));
  const badMd5 = createHash('md5').update('xyz').digest('base64');
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'md5-bad', Body: 'abc', ContentMD5: badMd5 }))), {
    code: 'BadDigest',
    status: 400,
  });
  assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'md5-bad' })))).code, 'NotFound');
});

test('ranges: closed, open, suffix → 206 with Content-Range; unsatisfiable → InvalidRange 416', async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'range.txt', Body: '0123456789' }));
  const get = async (Range: string) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'range.txt', Range }));
    return [await r.Body!.transformToString(), r.ContentRange, r.$metadata.httpStatusCode];
  };
  assert.equal(await get('bytes=2-5'), ['2345', 'bytes 2-5/10', 206]);
  assert.equal(await get('bytes=7-'), ['789', 'bytes 7-9/10', 206]);
  assert.equal(await get('bytes=-3'), ['789', 'bytes 7-9/10', 206]);
  assert.equal(await get('bytes=8-100'), ['89', 'bytes 8-9/10', 206]);
  assert.equal(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'range.txt', Range: 'bytes=10-' }))), { code: 'InvalidRange', status: 416 });
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'range.txt', Range: 'bytes=0-0' }));
  assert.is(head.ContentLength, 1);
});

test('conditional GET/HEAD and PUT If-None-Match: *; response-* overrides', async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond.txt', Body: 'x' }));
  const etag = put.ETag!;
  const later = new Date(Date.now() + 3600_000);
  const earlier = new Date(Date.now() - 3600_000);
  assert.is((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfMatch: etag }))).$metadata.httpStatusCode, 200);
  assert.equal(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfMatch: '"0000"' }))), { code: 'PreconditionFailed', status: 412 });
  assert.is((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfNoneMatch: etag })))).status, 304);
  // Not modified since its own Last-Modified (a date in the future is invalid and ignored, RFC 7232 §3.3).
  const stored = (await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cond.txt' }))).LastModified!;
  assert.is((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfModifiedSince: stored })))).status, 304);
  assert.is((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfModifiedSince: later }))).$metadata.httpStatusCode, 200);
  assert.is((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfModifiedSince: earlier }))).$metadata.httpStatusCode, 200);
  assert.equal(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond.txt', IfUnmodifiedSince: earlier }))), {
    code: 'PreconditionFailed',
    status: 412,
  });
  assert.is((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cond.txt', IfNoneMatch: etag })))).status, 304);
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond.txt', Body: 'y', IfNoneMatch: '*' }))), {
    code: 'PreconditionFailed',
    status: 412,
  });
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond-new.txt', Body: 'y', IfNoneMatch: '*' }));
  const over = await s3.send(
    new GetObjectCommand({
      Bucket: B,
      Key: 'cond.txt',
      ResponseContentType: 'application/json',
      ResponseContentDisposition: 'inline',
      ResponseCacheControl: 'no-store',
    }),
  );
  assert.is(over.ContentType, 'application/json');
  assert.is(over.ContentDisposition, 'inline');
  assert.is(over.CacheControl, 'no-store');
});

test('copy: COPY keeps metadata, REPLACE replaces it, awkward source keys, missing source', async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src dir/ü+%.txt', Body: 'copy me', ContentType: 'text/x-src', Metadata: { origin: 'src' } }));
  const source = `${B}/${encodeURIComponent('src dir/ü+%.txt')}`;
  const c1 = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copied/one', CopySource: source }));
  assert.is(c1.CopyObjectResult?.ETag, `"${md5('copy me')}"`);
  assert.ok(c1.CopyObjectResult?.LastModified instanceof Date);
  const h1 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'copied/one' }));
  assert.is(h1.ContentType, 'text/x-src');
  assert.equal(h1.Metadata, { origin: 'src' });
  await s3.send(
    new CopyObjectCommand({
      Bucket: B,
      Key: 'copied/two',
      CopySource: source,
      MetadataDirective: 'REPLACE',
      ContentType: 'text/x-new',
      Metadata: { fresh: '1' },
    }),
  );
  const h2 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'copied/two' }));
  assert.is(h2.ContentType, 'text/x-new');
  assert.equal(h2.Metadata, { fresh: '1' });
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'copied/two' }));
  assert.is(await got.Body!.transformToString(), 'copy me');
  assert.equal((await failure(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copied/three', CopySource: `${B}/missing` })))).code, 'NoSuchKey');
  assert.equal((await failure(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copied/one', CopySource: `${B}/copied/one` })))).code, 'InvalidRequest');
  // Copying onto itself with REPLACE is how clients change metadata in place.
  await s3.send(
    new CopyObjectCommand({ Bucket: B, Key: 'copied/one', CopySource: `${B}/copied/one`, MetadataDirective: 'REPLACE', Metadata: { edited: 'yes' } }),
  );
  const h3 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'copied/one' }));
  assert.equal(h3.Metadata, { edited: 'yes' });
  assert.is(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 'copied/one' }))).Body!.transformToString(), 'copy me');
  assert.equal(
    (await failure(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copied/four', CopySource: source, CopySourceIfMatch: '"nope"' })))).code,
    'PreconditionFailed',
  );
});

test('ListObjectsV2: prefix, delimiter, paging with continuation tokens, start-after, KeyCount', async () => {
  const LB = 'sdk-list';
  await s3.send(new CreateBucketCommand({ Bucket: LB }));
  const keys = ['a/1', 'a/2', 'a/sub/3', 'b/1', 'c', 'd', 'e/x/y'];
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: LB, Key, Body: Key }));
  const all = await s3.send(new ListObjectsV2Command({ Bucket: LB }));
  assert.equal(
    all.Contents?.map((o) => o.Key),
    keys,
  );
  assert.is(all.KeyCount, keys.length);
  assert.is(all.Contents?.[0].Size, 3);
  assert.is(all.Contents?.[0].ETag, `"${md5('a/1')}"`);
  const delim = await s3.send(new ListObjectsV2Command({ Bucket: LB, Delimiter: '/' }));
  assert.equal(
    delim.Contents?.map((o) => o.Key),
    ['c', 'd'],
  );
  assert.equal(
    delim.CommonPrefixes?.map((p) => p.Prefix),
    ['a/', 'b/', 'e/'],
  );
  assert.is(delim.KeyCount, 5);
  const sub = await s3.send(new ListObjectsV2Command({ Bucket: LB, Prefix: 'a/', Delimiter: '/' }));
  assert.equal(
    sub.Contents?.map((o) => o.Key),
    ['a/1', 'a/2'],
  );
  assert.equal(
    sub.CommonPrefixes?.map((p) => p.Prefix),
    ['a/sub/'],
  );
  // Page through two at a time; the tokens are opaque and every key appears exactly once.
  const seen: string[] = [];
  let token: string | undefined;
  for (let i = 0; i < 10; i++) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: LB, MaxKeys: 2, ContinuationToken: token }));
    seen.push(...(page.Contents ?? []).map((o) => o.Key!));
    assert.ok((page.KeyCount ?? 0) <= 2);
    if (!page.IsTruncated) break;
    token = page.NextContinuationToken;
    assert.ok(token);
  }
  assert.equal(seen, keys);
  // Paging with a delimiter: prefixes are not repeated across pages.
  const seenDelim: string[] = [];
  token = undefined;
  for (let i = 0; i < 10; i++) {
    const page: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket: LB, Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
    seenDelim.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!), ...(page.Contents ?? []).map((o) => o.Key!));
    if (!page.IsTruncated) break;
    token = page.NextContinuationToken;
  }
  assert.equal(seenDelim.sort(), ['a/', 'b/', 'c', 'd', 'e/']);
  const after = await s3.send(new ListObjectsV2Command({ Bucket: LB, StartAfter: 'b/1' }));
  assert.equal(
    after.Contents?.map((o) => o.Key),
    ['c', 'd', 'e/x/y'],
  );
  const owner = await s3.send(new ListObjectsV2Command({ Bucket: LB, MaxKeys: 1, FetchOwner: true }));
  assert.ok(owner.Contents?.[0].Owner?.ID);
  const zero = await s3.send(new ListObjectsV2Command({ Bucket: LB, MaxKeys: 0 }));
  assert.is(zero.KeyCount, 0);
  assert.equal((await failure(s3.send(new ListObjectsV2Command({ Bucket: LB, ContinuationToken: '!!bad!!' })))).code, 'InvalidArgument');

  const v1 = await s3.send(new ListObjectsCommand({ Bucket: LB, MaxKeys: 3 }));
  assert.equal(
    v1.Contents?.map((o) => o.Key),
    ['a/1', 'a/2', 'a/sub/3'],
  );
  assert.ok(v1.IsTruncated);
  const v1next = await s3.send(new ListObjectsCommand({ Bucket: LB, Marker: 'a/sub/3' }));
  assert.equal(
    v1next.Contents?.map((o) => o.Key),
    ['b/1', 'c', 'd', 'e/x/y'],
  );
  const v1delim = await s3.send(new ListObjectsCommand({ Bucket: LB, Delimiter: '/', MaxKeys: 2 }));
  assert.ok(v1delim.IsTruncated);
  assert.ok(v1delim.NextMarker);

  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: LB, Prefix: 'a/' }));
  assert.equal(
    versions.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]),
    [
      ['a/1', 'null', true],
      ['a/2', 'null', true],
      ['a/sub/3', 'null', true],
    ],
  );

  const del = await s3.send(
    new DeleteObjectsCommand({
      Bucket: LB,
      Delete: {
        Objects: keys
          .slice(0, 3)
          .map((Key) => ({ Key }))
          .concat([{ Key: 'never-existed' }]),
      },
    }),
  );
  assert.equal(del.Deleted?.map((d) => d.Key).sort(), ['a/1', 'a/2', 'a/sub/3', 'never-existed']);
  const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: LB, Delete: { Quiet: true, Objects: keys.slice(3).map((Key) => ({ Key })) } }));
  assert.is(quiet.Deleted?.length ?? 0, 0);
  assert.is((await s3.send(new ListObjectsV2Command({ Bucket: LB }))).KeyCount, 0);
  await s3.send(new DeleteBucketCommand({ Bucket: LB }));
  assert.equal((await failure(s3.send(new HeadBucketCommand({ Bucket: LB })))).status, 404);
});

test('multipart: create, upload parts, copy a part, list, complete (md5-of-md5s-N), abort', async () => {
  const key = 'multi/part.bin';
  const p1 = Buffer.alloc(5 * 1024 * 1024, 1);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ContentType: 'application/x-test', Metadata: { mp: 'yes' } }));
  assert.ok(UploadId);
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
  assert.ok(uploads.Uploads?.some((u) => u.UploadId === UploadId && u.Key === key));
  const r1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: p1 }));
  assert.is(r1.ETag, `"${md5(p1)}"`);
  // The last part may be small: copy 4 bytes of another object into it.
  const r2 = await s3.send(
    new UploadPartCopyCommand({ Bucket: B, Key: key, UploadId, PartNumber: 2, CopySource: `${B}/range.txt`, CopySourceRange: 'bytes=0-3' }),
  );
  assert.is(r2.CopyPartResult?.ETag, `"${md5('0123')}"`);
  const parts = await s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId }));
  assert.equal(
    parts.Parts?.map((p) => [p.PartNumber, p.Size]),
    [
      [1, p1.length],
      [2, 4],
    ],
  );
  const wrongOrder = s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: B,
      Key: key,
      UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 2, ETag: r2.CopyPartResult?.ETag },
          { PartNumber: 1, ETag: r1.ETag },
        ],
      },
    }),
  );
  assert.equal((await failure(wrongOrder)).code, 'InvalidPartOrder');
  const wrongEtag = s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: B,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] },
    }),
  );
  assert.equal((await failure(wrongEtag)).code, 'InvalidPart');
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: B,
      Key: key,
      UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: r1.ETag },
          { PartNumber: 2, ETag: r2.CopyPartResult?.ETag },
        ],
      },
    }),
  );
  const expected = md5(Buffer.concat([p1, Buffer.from('0123')].map((p) => createHash('md5').update(p).digest()))) + '-2';
  assert.is(done.ETag, `"${expected}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  assert.is(got.ContentType, 'application/x-test');
  assert.is(got.Metadata?.mp, 'yes');
  const back = Buffer.from(await got.Body!.transformToByteArray());
  assert.ok(back.equals(Buffer.concat([p1, Buffer.from('0123')])));
  assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: B }))).Uploads ?? [], []);

  const { UploadId: abortId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'multi/aborted' }));
  await s3.send(new UploadPartCommand({ Bucket: B, Key: 'multi/aborted', UploadId: abortId, PartNumber: 1, Body: 'x' }));
  await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: 'multi/aborted', UploadId: abortId }));
  assert.equal((await failure(s3.send(new ListPartsCommand({ Bucket: B, Key: 'multi/aborted', UploadId: abortId })))).code, 'NoSuchUpload');
  assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'multi/aborted' })))).code, 'NotFound');
  assert.equal(
    (await failure(s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: 'no-such-upload', PartNumber: 1, Body: 'x' })))).code,
    'NoSuchUpload',
  );
  assert.equal(
    (await failure(s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: abortId, PartNumber: 10001, Body: 'x' })))).code,
    'InvalidArgument',
  );
});

test('presigned GET and PUT URLs work with plain fetch', async () => {
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: 'presigned/ü file.txt' }), { expiresIn: 60 });
  const put = await fetch(putUrl, { method: 'PUT', body: 'via presigned put' });
  assert.is(put.status, 200);
  const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'presigned/ü file.txt', ResponseContentType: 'text/x-presigned' }), {
    expiresIn: 60,
  });
  const get = await fetch(getUrl);
  assert.is(get.status, 200);
  assert.is(get.headers.get('content-type'), 'text/x-presigned');
  assert.is(await get.text(), 'via presigned put');
  assert.ok(get.headers.get('x-amz-request-id'));
});

test('delete object (204 even when absent), non-empty bucket delete refused', async () => {
  const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'docs/hello.txt' }));
  assert.is(del.$metadata.httpStatusCode, 204);
  assert.is((await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'docs/hello.txt' }))).$metadata.httpStatusCode, 204);
  assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'docs/hello.txt' })))).code, 'NoSuchKey');
  assert.equal(await failure(s3.send(new DeleteBucketCommand({ Bucket: B }))), { code: 'BucketNotEmpty', status: 409 });
});

test.run();
