// The file API driven by the unmodified `minio` client against a real `cairn` process: buckets,
// objects, ranges, copies, listings, multipart, presigned URLs, and keys that look like paths
// (`../x`, `a//b`, `%2e%2e/y`, unicode) stored and listed verbatim without leaving the data dir.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as Minio from 'minio';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { rawRequest } from '../../test/s3-client.ts';

let proc: CairnProcess;
let mc: Minio.Client;
let parentDir: string;
const B = 'minio-bucket';
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function collect<T>(s: NodeJS.ReadableStream): Promise<T[]> {
  const out: T[] = [];
  for await (const item of s as AsyncIterable<T>) out.push(item);
  return out;
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return 'no error';
}

test.before(async () => {
  // Our own parent directory: anything a key could write outside the data dir would land here.
  parentDir = await mkdtemp(join(tmpdir(), 'cairn-s3-minio-'));
  proc = await startCairnProcess({ dataDir: join(parentDir, 'data') });
  const url = new URL(proc.endpoint);
  mc = new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    region: 'us-east-1',
    accessKey: proc.accessKey,
    secretKey: proc.secretKey,
    partSize: 5 * 1024 * 1024,
  });
});

test.after(async () => {
  await proc?.cleanup();
  if (parentDir) await rm(parentDir, { recursive: true, force: true });
});

test('buckets: make, exists, list, versioning', async () => {
  await mc.makeBucket(B);
  assert.ok(await mc.bucketExists(B));
  assert.not.ok(await mc.bucketExists('not-there'));
  const buckets = await mc.listBuckets();
  assert.ok(buckets.some((b) => b.name === B));
  const versioning = await mc.getBucketVersioning(B);
  assert.not.ok((versioning as { Status?: string } | undefined)?.Status);
  await mc.makeBucket(B); // us-east-1: a repeat of your own create is 200 and changes nothing
});

test('objects: put buffer and stream with metadata, stat, get, partial get', async () => {
  const body = Buffer.from('the quick brown fox');
  const info = await mc.putObject(B, 'fox.txt', body, body.length, { 'Content-Type': 'text/plain', 'X-Amz-Meta-Animal': 'fox' });
  assert.is(info.etag, md5(body));
  const stat = await mc.statObject(B, 'fox.txt');
  assert.is(stat.size, body.length);
  assert.is(stat.etag, md5(body));
  assert.is(stat.metaData['content-type'], 'text/plain');
  assert.is(stat.metaData['animal'], 'fox');
  assert.ok((await readAll(await mc.getObject(B, 'fox.txt'))).equals(body));
  assert.is((await readAll(await mc.getPartialObject(B, 'fox.txt', 4, 5))).toString(), 'quick');
  assert.is((await readAll(await mc.getPartialObject(B, 'fox.txt', 16))).toString(), 'fox');

  const streamed = Buffer.alloc(200_000, 'z');
  await mc.putObject(B, 'stream.bin', Readable.from([streamed.subarray(0, 50_000), streamed.subarray(50_000)]));
  assert.ok((await readAll(await mc.getObject(B, 'stream.bin'))).equals(streamed));
  assert.is(await errorCode(mc.statObject(B, 'missing')), 'NotFound');
  assert.is(await errorCode(mc.getObject(B, 'missing')), 'NoSuchKey');
});

test('copy with conditions, remove one and many', async () => {
  const conds = new Minio.CopyConditions();
  conds.setMatchETag(md5('the quick brown fox'));
  const copied = await mc.copyObject(B, 'fox-copy.txt', `/${B}/fox.txt`, conds);
  assert.is((copied as { etag?: string }).etag, md5('the quick brown fox'));
  assert.is((await mc.statObject(B, 'fox-copy.txt')).metaData['animal'], 'fox');
  const bad = new Minio.CopyConditions();
  bad.setMatchETag('0000');
  assert.is(await errorCode(mc.copyObject(B, 'fox-copy2.txt', `/${B}/fox.txt`, bad)), 'PreconditionFailed');
  await mc.removeObject(B, 'fox-copy.txt');
  assert.is(await errorCode(mc.statObject(B, 'fox-copy.txt')), 'NotFound');
  await mc.putObject(B, 'rm/1', 'a');
  await mc.putObject(B, 'rm/2', 'b');
  const errors = await mc.removeObjects(B, ['rm/1', 'rm/2', 'rm/never']);
  assert.equal(
    errors.filter((e) => (e as { Error?: unknown }).Error),
    [],
  );
  assert.equal(await collect(mc.listObjectsV2(B, 'rm/', true)), []);
});

test('listings: V1 and V2, recursive and by folder, with paging under the hood', async () => {
  for (let i = 0; i < 25; i++) await mc.putObject(B, `many/${String(i).padStart(2, '0')}`, `v${i}`);
  await mc.putObject(B, 'many/sub/deep', 'd');
  const v2 = await collect<Minio.BucketItem>(mc.listObjectsV2(B, 'many/', true));
  assert.is(v2.length, 26);
  assert.is(v2[0].name, 'many/00');
  assert.is(v2[0].etag, md5('v0'));
  const folder = await collect<Minio.BucketItem>(mc.listObjectsV2(B, 'many/', false));
  assert.is(
    folder
      .filter((i) => i.prefix)
      .map((i) => i.prefix)
      .join(),
    'many/sub/',
  );
  assert.is(folder.filter((i) => i.name).length, 25);
  const v1 = await collect<Minio.BucketItem>(mc.listObjects(B, 'many/', true));
  assert.equal(
    v1.map((i) => i.name),
    v2.map((i) => i.name),
  );
  // The paged path: the extension API asks for small pages with continuation tokens.
  const paged = await collect<Minio.BucketItem>(mc.extensions.listObjectsV2WithMetadata(B, 'many/', true, ''));
  assert.is(paged.length, 26);
});

test('multipart: a large put is split into parts; incomplete uploads are listed and removed', async () => {
  const big = Buffer.alloc(11 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 1024) big[i] = (i / 1024) % 256;
  const pieces = Array.from({ length: 11 }, (_, i) => big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
  const info = await mc.putObject(B, 'big/eleven.bin', Readable.from(pieces), big.length);
  // minio's block stream folds the 1 MiB tail into the last block: parts of 5 MiB and 6 MiB.
  const partMd5 = (b: Buffer) => createHash('md5').update(b).digest();
  assert.is(info.etag, md5(Buffer.concat([partMd5(big.subarray(0, 5 * 1024 * 1024)), partMd5(big.subarray(5 * 1024 * 1024))])) + '-2');
  const back = await readAll(await mc.getObject(B, 'big/eleven.bin'));
  assert.ok(back.equals(big));

  const uploadId = await mc.initiateNewMultipartUpload(B, 'big/incomplete', {});
  const pending = await collect<{ key: string; uploadId: string }>(mc.listIncompleteUploads(B, 'big/', true));
  assert.ok(pending.some((u) => u.key === 'big/incomplete' && u.uploadId === uploadId));
  await mc.removeIncompleteUpload(B, 'big/incomplete');
  assert.equal(await collect(mc.listIncompleteUploads(B, 'big/', true)), []);
});

test('presigned GET and PUT', async () => {
  const putUrl = await mc.presignedPutObject(B, 'presigned.txt', 60);
  assert.is((await fetch(putUrl, { method: 'PUT', body: 'presigned body' })).status, 200);
  const getUrl = await mc.presignedGetObject(B, 'presigned.txt', 60);
  const res = await fetch(getUrl);
  assert.is(res.status, 200);
  assert.is(await res.text(), 'presigned body');
});

const awkward = ['../x', 'a//b', '%2e%2e/y', '..%2fz', 'ünïcödé/文件 名.txt', 'sp ace+plus&amp;=?', 'dir/./dot', 'trailing/'];

test('path-like keys are stored, read and listed verbatim, and never escape the data dir', async () => {
  for (const key of awkward) await mc.putObject(B, key, Buffer.from(`body of ${key}`));
  for (const key of awkward) {
    assert.is((await readAll(await mc.getObject(B, key))).toString(), `body of ${key}`, key);
    assert.is((await mc.statObject(B, key)).size, Buffer.byteLength(`body of ${key}`), key);
  }
  const listed = (await collect<Minio.BucketItem>(mc.listObjectsV2(B, '', true))).map((i) => i.name);
  for (const key of awkward) assert.ok(listed.includes(key), `listed ${key}`);
  // What minio decoded above: with encoding-type=url keys travel percent-encoded ('/' kept).
  const raw = await rawRequest(
    proc.endpoint,
    { method: 'GET', bucket: B, query: { 'list-type': '2', 'encoding-type': 'url', prefix: '%2e' } },
    { accessKey: proc.accessKey, secretKey: proc.secretKey },
  );
  assert.is(raw.status, 200);
  assert.match(raw.body, '<Key>%252e%252e/y</Key>');
  assert.match(raw.body, '<Prefix>%252e</Prefix>');
  assert.match(raw.body, '<EncodingType>url</EncodingType>');
  assert.is(await errorCode(mc.statObject(B, 'x')), 'NotFound');
  assert.is(await errorCode(mc.statObject(B, 'a/b')), 'NotFound');
  assert.is(await errorCode(mc.statObject(B, '../y')), 'NotFound');
  // Nothing appeared next to the data directory.
  assert.equal(await readdir(parentDir), ['data']);
  await mc.removeObjects(B, awkward);
  const left = (await collect<Minio.BucketItem>(mc.listObjectsV2(B, '', true))).map((i) => i.name);
  for (const key of awkward) assert.not.ok(left.includes(key), `deleted ${key}`);
});

test('remove bucket: refused while non-empty, then gone', async () => {
  assert.is(await errorCode(mc.removeBucket(B)), 'BucketNotEmpty');
  const names = (await collect<Minio.BucketItem>(mc.listObjectsV2(B, '', true))).map((i) => i.name!);
  await mc.removeObjects(B, names);
  await mc.removeBucket(B);
  assert.not.ok(await mc.bucketExists(B));
});

test.run();
