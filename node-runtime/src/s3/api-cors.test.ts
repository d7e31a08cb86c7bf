// Bucket CORS and bucket tagging through the AWS SDK v3 against a real `cairn` process, and the
// preflights and CORS headers as a browser's HTTP sees them (plain fetch with Origin headers).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketTaggingCommand,
  GetBucketCorsCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { failure, sdkClient } from '../../test/sdk.ts';

let proc: CairnProcess;
let s3: S3Client;
const B = 'cors-bucket';

/** A raw request as a browser sends it: status and the CORS headers of the answer. */
async function raw(method: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${proc.endpoint}${path}`, { method, headers, signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  return {
    status: res.status,
    body,
    origin: res.headers.get('access-control-allow-origin'),
    methods: res.headers.get('access-control-allow-methods'),
    allowHeaders: res.headers.get('access-control-allow-headers'),
    expose: res.headers.get('access-control-expose-headers'),
    maxAge: res.headers.get('access-control-max-age'),
  };
}

test.before(async () => {
  proc = await startCairnProcess();
  s3 = sdkClient(proc);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after(async () => {
  s3?.destroy();
  await proc?.cleanup();
});

test('Put/Get/DeleteBucketCors (test_set_cors): 404 NoSuchCORSConfiguration before and after, the rules as put in between', async () => {
  assert.equal(await failure(s3.send(new GetBucketCorsCommand({ Bucket: B }))), { code: 'NoSuchCORSConfiguration', status: 404 });
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: B,
      CORSConfiguration: {
        CORSRules: [
          {
            ID: 'app',
            AllowedMethods: ['GET', 'PUT'],
            AllowedOrigins: ['*.get', 'https://app.example'],
            AllowedHeaders: ['x-amz-*'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 600,
          },
        ],
      },
    }),
  );
  const got = await s3.send(new GetBucketCorsCommand({ Bucket: B }));
  assert.equal(got.CORSRules, [
    {
      ID: 'app',
      AllowedMethods: ['GET', 'PUT'],
      AllowedOrigins: ['*.get', 'https://app.example'],
      AllowedHeaders: ['x-amz-*'],
      ExposeHeaders: ['ETag'],
      MaxAgeSeconds: 600,
    },
  ]);
  await s3.send(new DeleteBucketCorsCommand({ Bucket: B }));
  assert.equal(await failure(s3.send(new GetBucketCorsCommand({ Bucket: B }))), { code: 'NoSuchCORSConfiguration', status: 404 });
  // Refused documents change nothing.
  assert.equal(
    await failure(s3.send(new PutBucketCorsCommand({ Bucket: B, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['PATCH'], AllowedOrigins: ['*'] }] } }))),
    { code: 'InvalidRequest', status: 400 },
  );
  assert.equal(await failure(s3.send(new GetBucketCorsCommand({ Bucket: B }))), { code: 'NoSuchCORSConfiguration', status: 404 });
  assert.equal(await failure(s3.send(new GetBucketCorsCommand({ Bucket: 'no-such-cors-bucket' }))), { code: 'NoSuchBucket', status: 404 });
});

test('preflight: answered from the rules without credentials, on bucket and object paths, presigned URLs included', async () => {
  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: 'up.txt' }), { expiresIn: 600 });
  const presignedPath = url.slice(proc.endpoint.length);
  // No rules yet: not a preflight is 400, a preflight is 403.
  assert.is((await raw('OPTIONS', presignedPath)).status, 400);
  assert.is((await raw('OPTIONS', `/${B}/up.txt`, { Origin: 'https://app.example', 'Access-Control-Request-Method': 'PUT' })).status, 403);
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: B,
      CORSConfiguration: {
        CORSRules: [
          { AllowedMethods: ['GET'], AllowedOrigins: ['*suffix'] },
          {
            AllowedMethods: ['PUT', 'GET'],
            AllowedOrigins: ['https://app.example'],
            AllowedHeaders: ['content-type', 'x-amz-*'],
            ExposeHeaders: ['ETag', 'x-amz-request-id'],
            MaxAgeSeconds: 60,
          },
        ],
      },
    }),
  );
  const ok = await raw('OPTIONS', presignedPath, {
    Origin: 'https://app.example',
    'Access-Control-Request-Method': 'PUT',
    'Access-Control-Request-Headers': 'Content-Type, X-Amz-Meta-Color',
  });
  assert.equal(
    [ok.status, ok.origin, ok.methods, ok.allowHeaders, ok.expose, ok.maxAge],
    [200, 'https://app.example', 'PUT, GET', 'content-type, x-amz-meta-color', 'ETag, x-amz-request-id', '60'],
  );
  const onBucket = await raw('OPTIONS', `/${B}`, { Origin: 'foo.suffix', 'Access-Control-Request-Method': 'GET' });
  assert.equal([onBucket.status, onBucket.origin, onBucket.methods], [200, 'foo.suffix', 'GET']);
  // Not allowed: another origin, a method or a header the rule does not name; no Origin at all.
  assert.is((await raw('OPTIONS', `/${B}/k`, { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' })).status, 403);
  assert.is((await raw('OPTIONS', `/${B}/k`, { Origin: 'foo.suffix', 'Access-Control-Request-Method': 'PUT' })).status, 403);
  assert.is(
    (
      await raw('OPTIONS', `/${B}/k`, {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'authorization',
      })
    ).status,
    403,
  );
  assert.is((await raw('OPTIONS', `/${B}/k`, { 'Access-Control-Request-Method': 'GET' })).status, 400);
  assert.is((await raw('OPTIONS', `/no-such-bucket/k`, { Origin: 'foo.suffix', 'Access-Control-Request-Method': 'GET' })).status, 403);
});

test("actual requests carry the matched rule's headers, errors included; other origins get none (test_cors_origin_response)", async () => {
  await s3.send(new PutBucketAclCommand({ Bucket: B, ACL: 'public-read' }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'seen.txt', Body: 'hello', ACL: 'public-read' }));
  const get = await raw('GET', `/${B}/seen.txt`, { Origin: 'foo.suffix' });
  assert.equal([get.status, get.body, get.origin, get.methods], [200, 'hello', 'foo.suffix', 'GET']);
  const missing = await raw('GET', `/${B}/nothing-here`, { Origin: 'foo.suffix' });
  assert.equal([missing.status, missing.origin], [404, 'foo.suffix']);
  // An anonymous PUT is refused; the answer still carries the headers of the rule it matched.
  const denied = await raw('PUT', `/${B}/x`, { Origin: 'https://app.example', 'Content-Length': '0' });
  assert.equal([denied.status, denied.origin, denied.methods], [403, 'https://app.example', 'PUT, GET']);
  const other = await raw('GET', `/${B}/seen.txt`, { Origin: 'https://evil.example' });
  assert.equal([other.status, other.origin], [200, null]);
  const noOrigin = await raw('GET', `/${B}/seen.txt`);
  assert.equal([noOrigin.status, noOrigin.origin], [200, null]);
});

test("Put/Get/DeleteBucketTagging (test_set_bucket_tagging): NoSuchTagSet before and after; S3's limits", async () => {
  assert.equal(await failure(s3.send(new GetBucketTaggingCommand({ Bucket: B }))), { code: 'NoSuchTagSet', status: 404 });
  await s3.send(
    new PutBucketTaggingCommand({
      Bucket: B,
      Tagging: {
        TagSet: [
          { Key: 'team', Value: 'storage' },
          { Key: 'Hello', Value: 'World' },
        ],
      },
    }),
  );
  const got = await s3.send(new GetBucketTaggingCommand({ Bucket: B }));
  assert.equal(got.TagSet, [
    { Key: 'Hello', Value: 'World' },
    { Key: 'team', Value: 'storage' },
  ]);
  const tooMany = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
  assert.equal(await failure(s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: tooMany } }))), { code: 'InvalidTag', status: 400 });
  assert.equal(await failure(s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: [{ Key: 'aws:x', Value: 'v' }] } }))), {
    code: 'InvalidTag',
    status: 400,
  });
  assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket: B }))).TagSet?.length, 2, 'a refused set changes nothing');
  await s3.send(new DeleteBucketTaggingCommand({ Bucket: B }));
  assert.equal(await failure(s3.send(new GetBucketTaggingCommand({ Bucket: B }))), { code: 'NoSuchTagSet', status: 404 });
  // Another user's bucket configuration is the owner's alone.
  const anonymous = new S3Client({
    endpoint: proc.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'x' },
  });
  assert.equal((await failure(anonymous.send(new GetBucketTaggingCommand({ Bucket: B })))).status, 403);
  anonymous.destroy();
  // The object read through the SDK is unchanged by all of this.
  assert.is(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: 'seen.txt' }))).Body!.transformToString(), 'hello');
});

test.run();
