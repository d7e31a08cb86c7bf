// Flexible checksums and GetObjectAttributes through the AWS SDK v3 against a real `cairn`
// process: every algorithm sent by the SDK (header or aws-chunked trailer), verified and stored,
// returned with checksum mode (which the SDK verifies again on GET), refused when wrong; multipart
// COMPOSITE and FULL_OBJECT checksums; and the attributes of plain and multipart objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  type ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { rawRequest } from '../../test/s3-client.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
const B = 'sums';
const MiB = 1024 * 1024;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
const crc32b64 = (b: Buffer) => {
  const o = Buffer.alloc(4);
  o.writeUInt32BE(crc32(b));
  return o.toString('base64');
};

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'warn' } });
  s3 = sdkClient(proc);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('every algorithm the SDK sends is verified, stored and returned with checksum mode (the SDK checks the GET against it)', async () => {
  const body = randomBytes(200_000);
  const expected: Record<string, string> = {
    CRC32: crc32b64(body),
    SHA256: sha256(body).toString('base64'),
    SHA1: createHash('sha1').update(body).digest('base64'),
  };
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
    const key = `one/${algorithm}`;
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body, ChecksumAlgorithm: algorithm }));
    const field = `Checksum${algorithm}` as const;
    const sent = put[field];
    assert.ok(sent, `${algorithm}: the PUT answer names the stored checksum`);
    if (expected[algorithm]) assert.is(sent, expected[algorithm], algorithm);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: key, ChecksumMode: 'ENABLED' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    assert.equal([got[field], got.ChecksumType], [sent, 'FULL_OBJECT'], algorithm);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key }));
    assert.is(head[field], undefined, 'only with checksum mode');
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: key, ObjectAttributes: ['Checksum'] }));
    assert.equal(attrs.Checksum, { [field]: sent, ChecksumType: 'FULL_OBJECT' });
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'one/' }));
  assert.equal(
    listed.Contents?.map((c) => [c.Key, c.ChecksumAlgorithm, c.ChecksumType]),
    ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'].map((a) => [`one/${a}`, [a], 'FULL_OBJECT']),
  );
  // A range is not the object: no checksum comes with it.
  const ranged = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'one/SHA256', ChecksumMode: 'ENABLED', Range: 'bytes=0-9' }));
  assert.is(ranged.ChecksumSHA256, undefined);
  await ranged.Body!.transformToByteArray();
});

test('a stream body goes as aws-chunked with the checksum in a trailer: verified and stored, for a PUT and for a part', async () => {
  const seen: Record<string, string>[] = [];
  const spy = sdkClient(proc);
  spy.middlewareStack.add(
    (next) => async (args) => {
      seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'recordHeaders' },
  );
  try {
    const body = randomBytes(300_000);
    const put = await spy.send(
      new PutObjectCommand({ Bucket: B, Key: 'trailer/put', Body: Readable.from([body]), ContentLength: body.length, ChecksumAlgorithm: 'CRC32C' }),
    );
    assert.is(seen.at(-1)?.['x-amz-trailer'], 'x-amz-checksum-crc32c', 'the SDK sent a trailer');
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'trailer/put', ChecksumMode: 'ENABLED' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    assert.equal([got.ChecksumCRC32C, got.ChecksumType], [put.ChecksumCRC32C, 'FULL_OBJECT']);

    const { UploadId } = await spy.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'trailer/mp', ChecksumAlgorithm: 'SHA1' }));
    const part = await spy.send(
      new UploadPartCommand({
        Bucket: B,
        Key: 'trailer/mp',
        UploadId,
        PartNumber: 1,
        Body: Readable.from([body]),
        ContentLength: body.length,
        ChecksumAlgorithm: 'SHA1',
      }),
    );
    assert.is(seen.at(-1)?.['x-amz-trailer'], 'x-amz-checksum-sha1');
    const sha1 = createHash('sha1').update(body).digest();
    assert.is(part.ChecksumSHA1, sha1.toString('base64'));
    const done = await spy.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'trailer/mp',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumSHA1: part.ChecksumSHA1 }] },
      }),
    );
    assert.is(done.ChecksumSHA1, `${createHash('sha1').update(sha1).digest('base64')}-1`);
  } finally {
    spy.destroy();
  }
});

test("a copy keeps its source's checksum (server-side or re-encrypted); asking a copy for another algorithm is NotImplemented", async () => {
  const body = randomBytes(100_000);
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'copy/src', Body: body, ChecksumAlgorithm: 'SHA256' }));
  for (const [key, extra] of [
    ['copy/same', {}],
    ['copy/encrypted', { ServerSideEncryption: 'AES256' as const }],
  ] as const) {
    const copied = await s3.send(new CopyObjectCommand({ Bucket: B, Key: key, CopySource: `${B}/copy/src`, ...extra }));
    assert.is(copied.CopyObjectResult?.ChecksumSHA256, put.ChecksumSHA256, key);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: key, ChecksumMode: 'ENABLED' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    assert.is(got.ChecksumSHA256, put.ChecksumSHA256, key);
  }
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy/asked', CopySource: `${B}/copy/src`, ChecksumAlgorithm: 'SHA256' }));
  assert.equal(await failure(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy/other', CopySource: `${B}/copy/src`, ChecksumAlgorithm: 'CRC32' }))), {
    code: 'NotImplemented',
    status: 501,
  });
  assert.is((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'copy/other' })))).status, 404);
});

test('a wrong checksum, as a header or as an aws-chunked trailer, is BadDigest and stores nothing', async () => {
  const body = Buffer.from('checked bytes');
  assert.equal(
    await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'bad/header', Body: body, ChecksumSHA256: sha256(Buffer.from('other')).toString('base64') }))),
    { code: 'BadDigest', status: 400 },
  );
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'bad/malformed', Body: body, ChecksumSHA256: 'bad' }))), {
    code: 'BadDigest',
    status: 400,
  });
  // STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32C trailer that does not match.
  const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n`;
  const r = await rawRequest(
    proc.endpoint,
    {
      method: 'PUT',
      bucket: B,
      key: 'bad/trailer',
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: {
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(body.length),
        'x-amz-trailer': 'x-amz-checksum-crc32c',
        'content-length': String(Buffer.byteLength(chunked)),
      },
    },
    { accessKey: proc.accessKey, secretKey: proc.secretKey },
    chunked,
  );
  assert.is(r.status, 400, r.body);
  assert.match(r.body, '<Code>BadDigest</Code>');
  // ...or a trailer that was announced and never came.
  const untrailed = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const r2 = await rawRequest(
    proc.endpoint,
    {
      method: 'PUT',
      bucket: B,
      key: 'bad/untrailed',
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: {
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(body.length),
        'x-amz-trailer': 'x-amz-checksum-crc32c',
        'content-length': String(Buffer.byteLength(untrailed)),
      },
    },
    { accessKey: proc.accessKey, secretKey: proc.secretKey },
    untrailed,
  );
  assert.equal([r2.status, /<Code>(\w+)/.exec(r2.body)?.[1]], [400, 'MalformedTrailerError']);
  for (const key of ['bad/header', 'bad/malformed', 'bad/trailer', 'bad/untrailed'])
    assert.is((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: key })))).status, 404);
  // Two algorithms at once, or an unknown one, are refused before the body.
  const two = await rawRequest(
    proc.endpoint,
    {
      method: 'PUT',
      bucket: B,
      key: 'bad/two',
      headers: { 'x-amz-checksum-crc32': crc32b64(body), 'x-amz-checksum-sha1': 'x', 'content-length': String(body.length) },
    },
    { accessKey: proc.accessKey, secretKey: proc.secretKey },
    body,
  );
  assert.equal([two.status, /<Code>(\w+)/.exec(two.body)?.[1]], [400, 'InvalidRequest']);
  const composite = await rawRequest(
    proc.endpoint,
    {
      method: 'PUT',
      bucket: B,
      key: 'bad/composite',
      headers: { 'x-amz-checksum-crc32': crc32b64(body), 'x-amz-checksum-type': 'COMPOSITE', 'content-length': String(body.length) },
    },
    { accessKey: proc.accessKey, secretKey: proc.secretKey },
    body,
  );
  assert.equal([composite.status, /<Code>(\w+)/.exec(composite.body)?.[1]], [400, 'InvalidRequest']);
});

test('documents (DeleteObjects, PutBucketTagging) are checked against their Content-MD5 or checksum header; a mismatch changes nothing', async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'doc/keep', Body: 'x' }));
  const del = '<Delete><Object><Key>doc/keep</Key></Object></Delete>';
  const signed = { accessKey: proc.accessKey, secretKey: proc.secretKey };
  const md5 = (t: string) => createHash('md5').update(t).digest('base64');
  for (const headers of [{ 'content-md5': md5('other') }, { 'x-amz-checksum-crc32': crc32b64(Buffer.from('other')) }] as Record<string, string>[]) {
    const r = await rawRequest(
      proc.endpoint,
      { method: 'POST', bucket: B, query: { delete: '' }, headers: { ...headers, 'content-length': String(del.length) } },
      signed,
      del,
    );
    assert.equal([r.status, /<Code>(\w+)/.exec(r.body)?.[1]], [400, 'BadDigest'], JSON.stringify(headers));
  }
  const malformed = await rawRequest(
    proc.endpoint,
    { method: 'POST', bucket: B, query: { delete: '' }, headers: { 'content-md5': 'nope', 'content-length': String(del.length) } },
    signed,
    del,
  );
  assert.equal([malformed.status, /<Code>(\w+)/.exec(malformed.body)?.[1]], [400, 'InvalidDigest']);
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc/keep' }))).ContentLength, 1);
  // The SDK sends a CRC32 of every document; right ones pass.
  await s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }));
  await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'doc/keep' }] } }));
  assert.is((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc/keep' })))).status, 404);
});

async function multipart(key: string, algorithm: ChecksumAlgorithm, type: 'COMPOSITE' | 'FULL_OBJECT', parts: Buffer[]) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: algorithm, ChecksumType: type }));
  const done = [];
  for (const [i, data] of parts.entries()) {
    const up = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: i + 1, Body: data, ChecksumAlgorithm: algorithm }));
    done.push({ PartNumber: i + 1, ETag: up.ETag, [`Checksum${algorithm}`]: up[`Checksum${algorithm}` as const] });
  }
  return { UploadId: UploadId!, done };
}

test('multipart: COMPOSITE SHA-256 (checksum of the part checksums, -N) and FULL_OBJECT CRC32 (of the whole object), with parts in ListParts and GetObjectAttributes', async () => {
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
  const whole = Buffer.concat(parts);

  const composite = await multipart('mp/composite', 'SHA256', 'COMPOSITE', parts);
  const listed = await s3.send(new ListPartsCommand({ Bucket: B, Key: 'mp/composite', UploadId: composite.UploadId }));
  assert.equal([listed.ChecksumAlgorithm, listed.Parts?.map((p) => p.ChecksumSHA256)], ['SHA256', parts.map((p) => sha256(p).toString('base64'))]);
  const expected = `${sha256(Buffer.concat(parts.map(sha256))).toString('base64')}-3`;
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp/composite', UploadId: composite.UploadId, MultipartUpload: { Parts: composite.done } }),
  );
  assert.equal([completed.ChecksumSHA256, completed.ChecksumType], [expected, 'COMPOSITE']);
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'mp/composite', ChecksumMode: 'ENABLED' }));
  assert.equal([head.ChecksumSHA256, head.ChecksumType], [expected, 'COMPOSITE']);
  const attrs = await s3.send(
    new GetObjectAttributesCommand({ Bucket: B, Key: 'mp/composite', ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] }),
  );
  assert.equal(
    attrs.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256]),
    parts.map((p, i) => [i + 1, p.length, sha256(p).toString('base64')]),
  );
  assert.equal(
    [attrs.ObjectSize, attrs.StorageClass, attrs.Checksum?.ChecksumSHA256, attrs.ObjectParts?.TotalPartsCount],
    [whole.length, 'STANDARD', expected, 3],
  );
  assert.is(`"${attrs.ETag}"`, completed.ETag, "the attributes' ETag is unquoted");

  const full = await multipart('mp/full', 'CRC32', 'FULL_OBJECT', parts);
  const fullDone = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp/full', UploadId: full.UploadId, MultipartUpload: { Parts: full.done } }),
  );
  assert.equal([fullDone.ChecksumCRC32, fullDone.ChecksumType], [crc32b64(whole), 'FULL_OBJECT']);
  // The SDK verifies a FULL_OBJECT CRC on the GET.
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp/full', ChecksumMode: 'ENABLED' }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(whole));
  assert.is(got.ChecksumCRC32, crc32b64(whole));
});

test("multipart: a part checksum that is not the uploaded part's is InvalidPart; a copied part gets its checksum computed; other algorithms are refused", async () => {
  const parts = [randomBytes(5 * MiB), randomBytes(100)];
  const up = await multipart('mp/wrong', 'SHA256', 'COMPOSITE', parts);
  const wrong = up.done.map((p, i) => (i === 1 ? { ...p, ChecksumSHA256: sha256(Buffer.from('not it')).toString('base64') } : p));
  assert.equal(
    await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp/wrong', UploadId: up.UploadId, MultipartUpload: { Parts: wrong } }))),
    { code: 'InvalidPart', status: 400 },
  );
  assert.equal(
    await failure(s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp/wrong', UploadId: up.UploadId, PartNumber: 3, Body: 'x', ChecksumAlgorithm: 'CRC32' }))),
    { code: 'InvalidRequest', status: 400 },
  );
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'mp/source', Body: parts[1] }));
  const copied = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'mp/wrong', UploadId: up.UploadId, PartNumber: 2, CopySource: `${B}/mp/source` }));
  assert.is(copied.CopyPartResult?.ChecksumSHA256, sha256(parts[1]).toString('base64'));
  const ok = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp/wrong', UploadId: up.UploadId, MultipartUpload: { Parts: up.done } }));
  assert.is(ok.ChecksumSHA256, `${sha256(Buffer.concat(parts.map(sha256))).toString('base64')}-2`);
});

test("CompleteMultipartUpload: a checksum type, algorithm or object size other than the upload's is InvalidRequest and completes nothing", async () => {
  const parts = [randomBytes(5 * MiB), randomBytes(10)];
  const up = await multipart('mp/headers', 'SHA256', 'COMPOSITE', parts);
  const complete = (extra: Record<string, unknown>) =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp/headers', UploadId: up.UploadId, MultipartUpload: { Parts: up.done }, ...extra }));
  for (const extra of [{ ChecksumType: 'FULL_OBJECT' }, { ChecksumCRC32: crc32b64(Buffer.concat(parts)) }, { MpuObjectSize: 5 * MiB }]) {
    assert.equal(await failure(complete(extra)), { code: 'InvalidRequest', status: 400 }, JSON.stringify(extra));
  }
  assert.is((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'mp/headers' })))).status, 404);
  const done = await complete({ ChecksumType: 'COMPOSITE', MpuObjectSize: 5 * MiB + 10 });
  assert.ok(done.ChecksumSHA256);
  // An upload made without a checksum cannot be completed with one: its parts' checksums do not combine.
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp/plain' }));
  const p1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp/plain', UploadId, PartNumber: 1, Body: 'one part' }));
  const plain = { Bucket: B, Key: 'mp/plain', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } };
  assert.equal(
    await failure(s3.send(new CompleteMultipartUploadCommand({ ...plain, ChecksumCRC32: crc32b64(Buffer.from('one part')), ChecksumType: 'FULL_OBJECT' }))),
    { code: 'InvalidRequest', status: 400 },
  );
  await s3.send(new CompleteMultipartUploadCommand(plain));
});

test('GetObjectAttributes: a plain object has no parts; a multipart one pages them; asking for nothing is InvalidArgument', async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'attrs/plain', Body: 'foo' }));
  const plain = await s3.send(
    new GetObjectAttributesCommand({ Bucket: B, Key: 'attrs/plain', ObjectAttributes: ['ETag', 'ObjectParts', 'StorageClass', 'ObjectSize'] }),
  );
  assert.equal([plain.ETag, plain.ObjectSize, plain.StorageClass, plain.ObjectParts], [put.ETag!.replaceAll('"', ''), 3, 'STANDARD', undefined]);
  const parts = Array.from({ length: 6 }, () => randomBytes(5 * MiB));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'attrs/mp' }));
  const done = [];
  for (const [i, data] of parts.entries())
    done.push({
      PartNumber: i + 1,
      ETag: (await s3.send(new UploadPartCommand({ Bucket: B, Key: 'attrs/mp', UploadId, PartNumber: i + 1, Body: data }))).ETag,
    });
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'attrs/mp', UploadId, MultipartUpload: { Parts: done } }));
  const page = await s3.send(
    new GetObjectAttributesCommand({ Bucket: B, Key: 'attrs/mp', ObjectAttributes: ['ObjectParts'], MaxParts: 1, PartNumberMarker: '3' }),
  );
  assert.equal(
    [
      page.ObjectParts?.TotalPartsCount,
      page.ObjectParts?.IsTruncated,
      page.ObjectParts?.NextPartNumberMarker,
      page.ObjectParts?.Parts?.map((p) => p.PartNumber),
    ],
    [6, true, '4', [4]],
  );
  const rest = await s3.send(
    new GetObjectAttributesCommand({ Bucket: B, Key: 'attrs/mp', ObjectAttributes: ['ObjectParts'], MaxParts: 10, PartNumberMarker: '4' }),
  );
  assert.equal(
    [rest.ObjectParts?.IsTruncated, rest.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size])],
    [
      false,
      [
        [5, 5 * MiB],
        [6, 5 * MiB],
      ],
    ],
  );
  const none = await rawRequest(
    proc.endpoint,
    { method: 'GET', bucket: B, key: 'attrs/plain', query: { attributes: '' } },
    { accessKey: proc.accessKey, secretKey: proc.secretKey },
  );
  assert.equal([none.status, /<Code>(\w+)/.exec(none.body)?.[1]], [400, 'InvalidArgument']);
  assert.equal(await failure(s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'attrs/none', ObjectAttributes: ['ETag'] }))), {
    code: 'NoSuchKey',
    status: 404,
  });
});

test.run();
