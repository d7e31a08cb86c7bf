// Encryption at rest through the AWS SDK on a real node: SSE-S3 (per request and as the bucket's
// default) and SSE-C, single and multipart, whole and ranged reads, copies between them; no
// plaintext on disk, no shared chunks between two objects with the same plaintext, and every
// missing or wrong key refused with the suite's codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startNode, type RunningNode } from '../node/start.ts';
import { loopbackAddress } from '../../../hack/testing/net.ts';

let dir: string;
let node: RunningNode;
let s3: S3Client;
const B = 'vault';
const KEY = randomBytes(32);
const OTHER = randomBytes(32);
const ssec = (k: Buffer) => ({
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: k.toString('base64'),
  SSECustomerKeyMD5: createHash('md5').update(k).digest('base64'),
});
const marker = (n: number) => Buffer.from('PLAINTEXT-MARKER-'.repeat(Math.ceil(n / 17)).slice(0, n));

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof S3ServiceException) return `${e.$metadata.httpStatusCode}`;
    throw e;
  }
}
const read = async (cmd: GetObjectCommand) => Buffer.from(await (await s3.send(cmd)).Body!.transformToByteArray());

/** Every file under the node's data dir that holds `needle`. */
async function filesWith(needle: Buffer): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if ((await readFile(p)).includes(needle)) out.push(p);
    }
  };
  await walk(node.dataDir);
  return out;
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-sse-'));
  const host = loopbackAddress();
  node = await startNode({ dataDir: join(dir, 'data'), api: `${host}:0`, cluster: `${host}:0`, chunkSize: 64 * 1024, console: 'off' });
  s3 = new S3Client({
    endpoint: node.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: node.accessKey, secretAccessKey: node.secretKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after(async () => {
  s3?.destroy();
  await node?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('SSE-S3: small and multi-chunk bodies round-trip, ranges across chunks, no plaintext on disk', async () => {
  for (const size of [1, 1000, 300 * 1024]) {
    const body = marker(size);
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: `s3-${size}`, Body: body, ServerSideEncryption: 'AES256' }));
    assert.is(put.ServerSideEncryption, 'AES256');
    assert.is(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`, "the ETag is the plaintext's MD5");
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: `s3-${size}` }));
    assert.is(got.ServerSideEncryption, 'AES256');
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), `${size} bytes back`);
  }
  const body = marker(300 * 1024);
  const part = await read(new GetObjectCommand({ Bucket: B, Key: 's3-307200', Range: 'bytes=65000-200000' }));
  assert.ok(part.equals(body.subarray(65000, 200001)), 'a range across chunk boundaries');
  assert.equal(await filesWith(Buffer.from('PLAINTEXT-MARKER-PLAINTEXT')), [], 'no plaintext reached the disk');
});

test('the same plaintext twice: unencrypted chunks are shared, encrypted ones are not', async () => {
  const body = randomBytes(200 * 1024);
  for (const k of ['plain-a', 'plain-b']) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: body }));
  for (const k of ['enc-a', 'enc-b']) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: body, ServerSideEncryption: 'AES256' }));
  const ids = async (k: string) => (await node.objects.headObject(B, k)).chunks.map((c) => c.id);
  assert.equal(await ids('plain-a'), await ids('plain-b'), 'deduplicated');
  const [a, b] = [await ids('enc-a'), await ids('enc-b')];
  assert.ok(
    a.every((id) => !b.includes(id)),
    'nothing in common: deduplication cannot tell anyone two plaintexts match',
  );
});

test('SSE-C: the key is needed for GET and HEAD; a wrong or missing key is refused; the key is never stored', async () => {
  const body = marker(150 * 1024);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'c', Body: body, ...ssec(KEY) }));
  assert.is(await code(s3.send(new GetObjectCommand({ Bucket: B, Key: 'c' }))), '400');
  assert.is(await code(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'c' }))), '400');
  assert.is(await code(s3.send(new GetObjectCommand({ Bucket: B, Key: 'c', ...ssec(OTHER) }))), '400');
  assert.ok((await read(new GetObjectCommand({ Bucket: B, Key: 'c', ...ssec(KEY) }))).equals(body));
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'c', ...ssec(KEY) }))).SSECustomerKeyMD5, ssec(KEY).SSECustomerKeyMD5);
  assert.equal(await filesWith(KEY), [], 'the customer key is on no disk');
  // (A wrong key MD5 cannot be sent through the SDK, which computes it: sse.test.ts covers it.)
  assert.is(
    await code(s3.send(new PutObjectCommand({ Bucket: B, Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms' }))),
    '501',
    'SSE-KMS without a KMS is refused, never ignored',
  );
  assert.is(
    await code(s3.send(new PutObjectCommand({ Bucket: B, Key: 'kms', Body: 'x', ServerSideEncryption: 'AES256', SSEKMSKeyId: 'some-key' }))),
    '400',
    'a KMS key without aws:kms is a contradiction (InvalidArgument)',
  );
});

test('SSE-C multipart: every part brings the key; ranged reads across parts', async () => {
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp', ...ssec(KEY) }));
  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(100 * 1024)];
  const etags: string[] = [];
  assert.is(
    await code(s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: parts[0] }))),
    '400',
    'a part without the key',
  );
  for (const [i, p] of parts.entries())
    etags.push((await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId: up.UploadId, PartNumber: i + 1, Body: p, ...ssec(KEY) }))).ETag!);
  const complete = (extra: object) =>
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        ...extra,
      }),
    );
  assert.is(await code(complete({})), '400', 'completing without the key');
  assert.is(await code(complete(ssec(randomBytes(32)))), '400', 'completing with another key');
  await complete(ssec(KEY));
  const all = Buffer.concat(parts);
  assert.ok((await read(new GetObjectCommand({ Bucket: B, Key: 'mp', ...ssec(KEY) }))).equals(all));
  const r = await read(new GetObjectCommand({ Bucket: B, Key: 'mp', Range: `bytes=${5 * 1024 * 1024 - 10}-${5 * 1024 * 1024 + 10}`, ...ssec(KEY) }));
  assert.ok(r.equals(all.subarray(5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 11)));
});

test('bucket default encryption and copies between plain, SSE-S3 and SSE-C', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'sealed' }));
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: 'sealed',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    }),
  );
  assert.is(
    (await s3.send(new GetBucketEncryptionCommand({ Bucket: 'sealed' }))).ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault
      ?.SSEAlgorithm,
    'AES256',
  );
  const body = marker(100 * 1024);
  assert.is((await s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'd', Body: body }))).ServerSideEncryption, 'AES256', 'the default applies');
  // SSE-C → SSE-S3 (the bucket's default): the key opens the source, the copy is the bucket's.
  const toDefault = await s3.send(
    new CopyObjectCommand({
      Bucket: 'sealed',
      Key: 'from-c',
      CopySource: `${B}/c`,
      CopySourceSSECustomerAlgorithm: 'AES256',
      CopySourceSSECustomerKey: KEY.toString('base64'),
      CopySourceSSECustomerKeyMD5: ssec(KEY).SSECustomerKeyMD5,
    }),
  );
  assert.is(toDefault.ServerSideEncryption, 'AES256');
  assert.ok((await read(new GetObjectCommand({ Bucket: 'sealed', Key: 'from-c' }))).equals(marker(150 * 1024)));
  assert.is(await code(s3.send(new CopyObjectCommand({ Bucket: 'sealed', Key: 'no-key', CopySource: `${B}/c` }))), '400', 'an SSE-C source needs its key');
  // SSE-S3 → plain (a bucket without a default): decrypted into a new write.
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'plain-copy', CopySource: 'sealed/d' }));
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'plain-copy' }))).ServerSideEncryption, undefined);
  assert.ok((await read(new GetObjectCommand({ Bucket: B, Key: 'plain-copy' }))).equals(body));
  assert.equal(
    await filesWith(Buffer.from('PLAINTEXT-MARKER-PLAINTEXT')).then((f) => f.length > 0),
    true,
    'the plain copy is plain on disk (the check can see plaintext)',
  );
});

test.run();
