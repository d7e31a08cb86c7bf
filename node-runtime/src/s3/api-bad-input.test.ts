// Bad input against a real `cairn` process: wrong or unknown keys, skewed clocks, expired and
// tampered presigned URLs, broken bodies (disconnects, short bodies, bad hashes and chunk
// signatures), oversized keys and bodies, malformed XML, anonymous and restricted access.
// Every case must give the right S3 error (or a closed connection) and never a visible object.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { errorCode, rawRequest, signedChunkedBody, signedChunkedLength, signHeaders, type RawCreds } from '../../test/s3-client.ts';
import { failure } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
let creds: RawCreds;
let keysDir: string;
const B = 'bad-input';
const PUBLIC = 'public-stuff';
const OTHER = 'restricted-other';
const LIMITED = { user: 'limited', accessKeyId: 'LIMITEDKEY', secretAccessKey: 'limited-secret-key-123' };

const client = (accessKeyId: string, secretAccessKey: string, extra: Record<string, unknown> = {}) =>
  new S3Client({
    endpoint: proc.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey },
    ...extra,
  });

async function exists(key: string, bucket = B): Promise<boolean> {
  const r = await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  if (r.code === 'no error') return true;
  if (r.status === 404) return false;
  throw new Error(`HEAD ${key}: ${r.code}`);
}

/** Files in every `tmp` directory under the data dir (in-flight chunk writes). */
async function tempFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (relative(proc.dataDir, dir).split('/').includes('tmp')) out.push(path);
    }
  };
  await walk(proc.dataDir);
  return out;
}

test.before(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'cairn-s3-keys-'));
  const keysFile = join(keysDir, 'keys.json');
  await writeFile(keysFile, JSON.stringify([LIMITED]));
  proc = await startCairnProcess({ extraArgs: ['--keys-file', keysFile] });
  creds = { accessKey: proc.accessKey, secretKey: proc.secretKey };
  s3 = client(proc.accessKey, proc.secretKey);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new CreateBucketCommand({ Bucket: OTHER }));
  // Public as S3 makes things public: the bucket lists for anyone, the object reads for anyone.
  await s3.send(new CreateBucketCommand({ Bucket: PUBLIC, ACL: 'public-read' }));
  await s3.send(new PutObjectCommand({ Bucket: PUBLIC, Key: 'hello.txt', Body: 'public hello', ACL: 'public-read' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'private.txt', Body: 'private hello' }));
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

test('wrong secret → SignatureDoesNotMatch, unknown key → InvalidAccessKeyId, skewed clock → RequestTimeTooSkewed', async () => {
  const wrong = client(proc.accessKey, 'not-the-secret');
  assert.equal(await failure(wrong.send(new ListBucketsCommand({}))), { code: 'SignatureDoesNotMatch', status: 403 });
  assert.equal(await failure(wrong.send(new PutObjectCommand({ Bucket: B, Key: 'by-wrong-secret', Body: 'x' }))), {
    code: 'SignatureDoesNotMatch',
    status: 403,
  });
  assert.not.ok(await exists('by-wrong-secret'));
  const unknown = client('NOSUCHKEY', 'whatever');
  assert.equal(await failure(unknown.send(new ListBucketsCommand({}))), { code: 'InvalidAccessKeyId', status: 403 });
  const skewed = client(proc.accessKey, proc.secretKey, { systemClockOffset: -20 * 60_000 });
  assert.equal(await failure(skewed.send(new ListBucketsCommand({}))), { code: 'RequestTimeTooSkewed', status: 403 });
  const malformed = await rawRequest(
    proc.endpoint,
    { method: 'GET', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=garbage', 'x-amz-date': '20260101T000000Z' } },
    undefined,
  );
  assert.is(malformed.status, 400);
  assert.is(errorCode(malformed.body), 'AuthorizationHeaderMalformed');
});

test('presigned URLs: expired or out of range → AccessDenied; tampered → SignatureDoesNotMatch', async () => {
  const expired = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'private.txt' }), {
    expiresIn: 60,
    signingDate: new Date(Date.now() - 120_000),
  });
  const r1 = await fetch(expired);
  assert.is(r1.status, 403);
  const body1 = await r1.text();
  assert.is(errorCode(body1), 'AccessDenied');
  assert.match(body1, 'Request has expired');
  const good = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'private.txt' }), { expiresIn: 60 });
  assert.is(await (await fetch(good)).text(), 'private hello');
  for (const tampered of [
    good.replace('private.txt', 'private.tx2'),
    good.replace('X-Amz-Expires=60', 'X-Amz-Expires=600'),
    good + '&response-content-type=text%2Fhtml',
  ]) {
    const r = await fetch(tampered);
    assert.is(r.status, 403, tampered);
    assert.is(errorCode(await r.text()), 'SignatureDoesNotMatch');
  }
  // Lifetimes out of range (more than a week, or negative) are refused as expired ones are (s3-tests test_object_raw_get_x_amz_expires_out_*).
  for (const [expires, message] of [
    ['609901', 'less than a week'],
    ['-7', 'Request has expired'],
  ]) {
    const r = await fetch(good.replace('X-Amz-Expires=60', `X-Amz-Expires=${expires}`));
    const text = await r.text();
    assert.equal([r.status, errorCode(text)], [403, 'AccessDenied'], expires);
    assert.match(text, message);
  }
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: 'presigned-put' }), { expiresIn: 60 });
  const r2 = await fetch(putUrl.replace('presigned-put', 'other-key'), { method: 'PUT', body: 'x' });
  assert.is(r2.status, 403);
  assert.not.ok(await exists('other-key'));
});

test('a client that disconnects mid-upload leaves no object and no temp files', async () => {
  const { path, headers } = await signHeaders(
    proc.endpoint,
    { method: 'PUT', bucket: B, key: 'disconnected.bin', headers: { 'content-length': String(8 * 1024 * 1024) } },
    creds,
  );
  const url = new URL(proc.endpoint);
  await new Promise<void>((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method: 'PUT', path, headers, agent: false });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    // Half the declared body (more than one chunk), then vanish.
    req.write(Buffer.alloc(5 * 1024 * 1024, 1), () => req.destroy());
  });
  await waitFor(async () => (await tempFiles()).length === 0, { timeoutMs: 10_000, what: 'temp files removed' });
  assert.not.ok(await exists('disconnected.bin'));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'disconnected' }));
  assert.is(listed.KeyCount, 0);
});

test('Content-Length larger than the body, client half-closes → IncompleteBody, no object', async () => {
  const { path, headers } = await signHeaders(proc.endpoint, { method: 'PUT', bucket: B, key: 'short-body', headers: { 'content-length': '1000' } }, creds);
  const url = new URL(proc.endpoint);
  const outcome = await new Promise<string>((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method: 'PUT', path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(`${res.statusCode} ${errorCode(body)}`));
      res.on('error', () => resolve('closed'));
    });
    req.on('error', () => resolve('closed'));
    // Send half, then close our sending side: the server can never get the other 500 bytes.
    req.write(Buffer.alloc(500, 2), () => req.socket?.end());
  });
  assert.is(outcome, '400 IncompleteBody');
  await waitFor(async () => (await tempFiles()).length === 0, { timeoutMs: 10_000, what: 'temp files removed' });
  assert.not.ok(await exists('short-body'));
});

test('signed payload hash and signed aws-chunked bodies are verified while streaming', async () => {
  const body = Buffer.from('the real body');
  const lie = createHash('sha256').update('some other body').digest('hex');
  const r1 = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: B, key: 'hash-mismatch', payloadHash: lie, headers: { 'content-length': String(body.length) } },
    creds,
    body,
  );
  assert.is(r1.status, 400);
  assert.is(errorCode(r1.body), 'XAmzContentSHA256Mismatch');
  assert.not.ok(await exists('hash-mismatch'));
  const truth = createHash('sha256').update(body).digest('hex');
  const r2 = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: B, key: 'hash-ok', payloadHash: truth, headers: { 'content-length': String(body.length) } },
    creds,
    body,
  );
  assert.is(r2.status, 200);

  const data = Buffer.alloc(200_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 256;
  const streamed = async (key: string, corrupt: boolean) => {
    const req = {
      method: 'PUT',
      bucket: B,
      key,
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      headers: {
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'content-length': String(signedChunkedLength(data.length)),
      },
    };
    // The chunk signatures chain from the request's own signature: build the body from the
    // headers actually sent.
    return rawRequest(proc.endpoint, req, creds, undefined, (r) => {
      r.end(signedChunkedBody(r.getHeaders() as Record<string, string>, creds, data, 64 * 1024, corrupt));
    });
  };
  const ok = await streamed('chunked-ok', false);
  assert.is(ok.status, 200, ok.body);
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'chunked-ok' }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
  const bad = await streamed('chunked-bad', true);
  assert.is(bad.status, 403);
  assert.is(errorCode(bad.body), 'SignatureDoesNotMatch');
  assert.not.ok(await exists('chunked-bad'));
});

test('missing Content-Length, a chunked PUT, oversized PUT, bad Content-MD5, 1025-byte keys', async () => {
  // Neither Content-Length nor Transfer-Encoding: the body's length is unknowable.
  const r1 = await rawRequest(proc.endpoint, { method: 'PUT', bucket: B, key: 'no-length' }, creds, undefined, (r) => {
    (r as unknown as { useChunkedEncodingByDefault: boolean }).useChunkedEncodingByDefault = false;
    r.end();
  });
  assert.is(r1.status, 411);
  assert.is(errorCode(r1.body), 'MissingContentLength');
  assert.not.ok(await exists('no-length'));
  // Transfer-Encoding: chunked is a length too: the object is what arrives (s3-tests test_object_write_with_chunked_transfer_encoding).
  const chunked = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: B, key: 'chunked-te', headers: { 'transfer-encoding': 'chunked' } },
    creds,
    undefined,
    (r) => {
      r.write('ab');
      r.end('c');
    },
  );
  assert.is(chunked.status, 200, chunked.body);
  const back = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'chunked-te' }));
  assert.is(await back.Body!.transformToString(), 'abc');
  const huge = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: B, key: 'huge', headers: { 'content-length': String(6 * 1024 ** 3) } },
    creds,
    undefined,
    (r) => r.flushHeaders(),
  );
  assert.is(huge.status, 400);
  assert.is(errorCode(huge.body), 'EntityTooLarge');
  const md5 = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: B, key: 'bad-md5', headers: { 'content-length': '3', 'content-md5': 'not-base64-md5' } },
    creds,
    'abc',
  );
  assert.is(errorCode(md5.body), 'InvalidDigest');
  assert.not.ok(await exists('bad-md5'));

  const key1024 = 'k/' + 'x'.repeat(1022);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: key1024, Body: 'max' }));
  assert.ok(await exists(key1024));
  const key1025 = key1024 + 'y';
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: key1025, Body: 'too long' }))), { code: 'KeyTooLongError', status: 400 });
  assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: key1025 })))).code, 'KeyTooLongError');
  // Multi-byte characters count in bytes: 513 × 'é' is 1026 bytes.
  assert.equal((await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'é'.repeat(513), Body: 'x' })))).code, 'KeyTooLongError');
});

test('Cairn placement headers: valid ones are accepted, bad ones are InvalidArgument', async () => {
  const put = (key: string, headers: Record<string, string>) =>
    rawRequest(proc.endpoint, { method: 'PUT', bucket: B, key, headers: { 'content-length': '4', ...headers } }, creds, 'data');
  const ok = await put('placed', { 'x-cairn-replicas': '1', 'x-cairn-pin': proc.name });
  assert.is(ok.status, 200, ok.body);
  assert.ok(await exists('placed'));
  for (const headers of [{ 'x-cairn-replicas': 'two' }, { 'x-cairn-replicas': '0' }, { 'x-cairn-pin': ' , ' }] as Record<string, string>[]) {
    const r = await put('misplaced', headers);
    assert.is(r.status, 400, JSON.stringify(headers));
    assert.is(errorCode(r.body), 'InvalidArgument');
  }
  assert.not.ok(await exists('misplaced'));
  const bucket = await rawRequest(
    proc.endpoint,
    { method: 'PUT', bucket: 'bad-replicas', headers: { 'x-cairn-replicas': '-1', 'content-length': '0' } },
    creds,
    '',
  );
  assert.is(errorCode(bucket.body), 'InvalidArgument');
});

test('malformed XML on CompleteMultipartUpload → MalformedXML, and the upload survives', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp-xml' }));
  await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp-xml', UploadId, PartNumber: 1, Body: 'part' }));
  for (const doc of ['<CompleteMultipartUpload><Part><PartNumber>1</Part>', 'not xml', '', '<CompleteMultipartUpload></CompleteMultipartUpload>']) {
    const r = await rawRequest(
      proc.endpoint,
      { method: 'POST', bucket: B, key: 'mp-xml', query: { uploadId: UploadId! }, headers: { 'content-length': String(Buffer.byteLength(doc)) } },
      creds,
      doc,
    );
    assert.is(r.status, 400, doc);
    assert.is(errorCode(r.body), 'MalformedXML');
  }
  const parts = await s3.send(new ListPartsCommand({ Bucket: B, Key: 'mp-xml', UploadId }));
  assert.is(parts.Parts?.length, 1);
  assert.not.ok(await exists('mp-xml'));
});

test('anonymous: public-read buckets allow GET/HEAD/list only; private buckets deny', async () => {
  const anon = (method: string, bucket?: string, key?: string, body?: string) =>
    rawRequest(proc.endpoint, { method, bucket, key, headers: body !== undefined ? { 'content-length': String(body.length) } : {} }, undefined, body);
  const get = await anon('GET', PUBLIC, 'hello.txt');
  assert.is(get.status, 200);
  assert.is(get.body, 'public hello');
  assert.is((await anon('HEAD', PUBLIC, 'hello.txt')).status, 200);
  assert.is((await anon('GET', PUBLIC)).status, 200);
  const put = await anon('PUT', PUBLIC, 'anon.txt', 'x');
  assert.is(put.status, 403);
  assert.is(errorCode(put.body), 'AccessDenied');
  assert.not.ok(await exists('anon.txt', PUBLIC));
  assert.is(errorCode((await anon('DELETE', PUBLIC, 'hello.txt')).body), 'AccessDenied');
  assert.ok(await exists('hello.txt', PUBLIC));
  const priv = await anon('GET', B, 'private.txt');
  assert.is(priv.status, 403);
  assert.is(errorCode(priv.body), 'AccessDenied');
  assert.is((await anon('HEAD', B, 'private.txt')).status, 403);
  assert.is(errorCode((await anon('GET')).body), 'AccessDenied');
});

test('another user is denied what it does not own and lists only its own buckets', async () => {
  const limited = client(LIMITED.accessKeyId, LIMITED.secretAccessKey);
  const mine = 'limited-own';
  await limited.send(new CreateBucketCommand({ Bucket: mine }));
  const list = await limited.send(new ListBucketsCommand({}));
  assert.equal(
    list.Buckets?.map((b) => b.Name),
    [mine],
  );
  await limited.send(new PutObjectCommand({ Bucket: mine, Key: 'by-limited', Body: 'ok' }));
  assert.equal(await failure(limited.send(new PutObjectCommand({ Bucket: OTHER, Key: 'x', Body: 'no' }))), { code: 'AccessDenied', status: 403 });
  assert.equal((await failure(limited.send(new GetObjectCommand({ Bucket: B, Key: 'private.txt' })))).code, 'AccessDenied');
  assert.is(
    await (await limited.send(new GetObjectCommand({ Bucket: PUBLIC, Key: 'hello.txt' }))).Body!.transformToString(),
    'public hello',
    'a public-read object reads for everyone',
  );
  await s3.send(new PutObjectCommand({ Bucket: OTHER, Key: 'secret', Body: 'other' }));
  assert.equal((await failure(limited.send(new CopyObjectCommand({ Bucket: mine, Key: 'stolen', CopySource: `${OTHER}/secret` })))).code, 'AccessDenied');
  assert.not.ok(await exists('stolen', mine));
  limited.destroy();
});

test('unsupported operations and write headers → NotImplemented 501; errors carry Resource and the request id', async () => {
  for (const [method, query] of [
    ['GET', { accelerate: '' }],
    ['PUT', { website: '' }],
    ['GET', { logging: '' }],
  ] as const) {
    const r = await rawRequest(
      proc.endpoint,
      { method, bucket: B, query: { ...query }, headers: method === 'PUT' ? { 'content-length': '0' } : {} },
      creds,
      '',
    );
    assert.is(r.status, 501, `${method} ${Object.keys(query)}`);
    assert.is(errorCode(r.body), 'NotImplemented');
  }
  // Headers asking a write for what Cairn does not do are refused, and nothing is written.
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'glacier', Body: 'x', StorageClass: 'GLACIER' }))), {
    code: 'NotImplemented',
    status: 501,
  });
  assert.equal(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'redirect', Body: 'x', WebsiteRedirectLocation: '/elsewhere' }))), {
    code: 'NotImplemented',
    status: 501,
  });
  assert.not.ok(await exists('glacier'));
  assert.not.ok(await exists('redirect'));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'standard', Body: 'x', StorageClass: 'STANDARD' }));
  // OPTIONS is a CORS preflight (api-cors.test.ts); without Origin it is not one.
  const opt = await rawRequest(proc.endpoint, { method: 'OPTIONS', bucket: B, key: 'x' }, creds);
  assert.is(opt.status, 400);
  const missing = await rawRequest(proc.endpoint, { method: 'GET', bucket: B, key: 'no/such key' }, creds);
  assert.is(missing.status, 404);
  assert.is(errorCode(missing.body), 'NoSuchKey');
  assert.match(missing.body, `<Resource>/${B}/no/such%20key</Resource>`);
  const id = missing.headers['x-amz-request-id'];
  assert.ok(id);
  assert.match(missing.body, `<RequestId>${id}</RequestId>`);
  const head = await rawRequest(proc.endpoint, { method: 'HEAD', bucket: B, key: 'no/such key' }, creds);
  assert.is(head.status, 404);
  assert.is(head.body, '');
});

test.run();
