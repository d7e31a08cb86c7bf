// The console's file API against a real `cairn server`, as a browser app would drive it: folders,
// uploads through presigned URLs passed through /s3/ (one PUT, and multipart with part URLs),
// listing with folders, paging and prefix search, previews with a sandbox CSP, share links that
// work with plain HTTP, rename/move of files and folders, delete; S3's errors reach the user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { startCairnProcess, readSha256, s3Client, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { startConsoleOn, type ConsoleOnCairn } from '../../../hack/testing/console.ts';
import type { ObjectPage, UploadPlan } from './api.ts';
import { ConsoleClient, jsonOf } from '../../test/console-testing.ts';

let proc: CairnProcess;
let c: ConsoleOnCairn;
let u: ConsoleClient;
const B = '/api/buckets/photos';

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'warn' } });
  c = await startConsoleOn(proc);
  u = new ConsoleClient(c.console.url);
  await u.signIn(proc.accessKey, proc.secretKey);
  assert.is((await u.raw('POST', '/api/buckets', { name: 'photos' })).status, 201);
});

test.after(async () => {
  await c?.console.close();
  await proc?.cleanup();
});

async function putVia(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return u.raw('PUT', url, undefined, { rawBody: body, headers });
}

const keys = (p: ObjectPage) => p.entries.map((e) => e.key);

test('folders, a one-PUT upload through the passthrough, listing, preview with a sandbox', async () => {
  assert.is((await u.raw('POST', `${B}/folders`, { key: '2024/' })).status, 201);
  const plan = await u.json<UploadPlan>('POST', `${B}/uploads`, { key: '2024/hello.txt', size: 5, contentType: 'text/plain' });
  assert.is(plan.kind, 'single');
  const url = (plan as { url: string }).url;
  assert.match(url, /^\/s3\/photos\/2024\/hello\.txt\?.*X-Amz-Signature=/);
  assert.is((await putVia(url, Buffer.from('hello'), { 'x-csrf-token': 'nope' })).status, 403, 'the passthrough wants the CSRF token too');
  const put = await putVia(url, Buffer.from('hello'), { 'content-type': 'text/plain' });
  assert.is(put.status, 200, await put.clone().text());
  assert.ok(put.headers.get('etag'));

  assert.equal(keys(await u.json('GET', `${B}/objects?prefix=`)), ['2024/']);
  const inside = await u.json<ObjectPage>('GET', `${B}/objects?prefix=2024/`);
  assert.equal(keys(inside), ['2024/hello.txt'], 'the folder marker is not an entry of its own folder');
  assert.is(inside.entries[0].size, 5);

  const redirect = await u.raw('GET', `${B}/content?key=${encodeURIComponent('2024/hello.txt')}`);
  assert.is(redirect.status, 302);
  const content = await u.raw('GET', redirect.headers.get('location')!);
  assert.is(content.status, 200);
  assert.is(await content.text(), 'hello');
  assert.match(content.headers.get('content-security-policy')!, /^sandbox;/);
  assert.is(content.headers.get('x-content-type-options'), 'nosniff');
  assert.match(content.headers.get('content-disposition')!, /^inline; filename="hello.txt"/);
  const ranged = await u.raw('GET', redirect.headers.get('location')!, undefined, { headers: { range: 'bytes=1-2' } });
  assert.is(ranged.status, 206);
  assert.is(await ranged.text(), 'el');
});

test("the passthrough takes only presigned requests of the session's own key", async () => {
  const plan = await u.json<{ url: string }>('POST', `${B}/uploads`, { key: 'x.txt', size: 1 });
  const foreign = plan.url.replace(/X-Amz-Credential=[^%&]+/, 'X-Amz-Credential=OTHERKEY');
  assert.is((await putVia(foreign, Buffer.from('x'))).status, 403);
  assert.is((await u.raw('GET', '/s3/photos/x.txt', undefined, { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=x' } })).status, 403);
  assert.is((await u.raw('DELETE', plan.url)).status, 405);
});

test('a multipart upload: part URLs, parts, completion; the object reads back whole', async () => {
  const size = 20 * 1024 * 1024 + 123;
  const data = randomBytes(size);
  const plan = await u.json<Extract<UploadPlan, { kind: 'multipart' }>>('POST', `${B}/uploads`, { key: 'big/video.bin', size, contentType: 'video/mp4' });
  assert.is(plan.kind, 'multipart');
  assert.is(plan.partSize, 8 * 1024 * 1024);
  assert.is(plan.partCount, 3);
  const { urls } = await u.json<{ urls: string[] }>('POST', `${B}/uploads/parts`, { key: 'big/video.bin', uploadId: plan.uploadId, partNumbers: [1, 2, 3] });
  const parts = [];
  for (let i = 0; i < 3; i++) {
    const res = await putVia(urls[i], data.subarray(i * plan.partSize, Math.min(size, (i + 1) * plan.partSize)));
    assert.is(res.status, 200);
    parts.push({ partNumber: i + 1, etag: res.headers.get('etag')! });
  }
  await u.json('POST', `${B}/uploads/complete`, { key: 'big/video.bin', uploadId: plan.uploadId, parts });
  const page = await u.json<ObjectPage>('GET', `${B}/objects?prefix=big/`);
  assert.is(page.entries[0].size, size);
  assert.is(await readSha256(s3Client(proc), 'photos', 'big/video.bin'), createHash('sha256').update(data).digest('hex'));

  const aborted = await u.json<{ uploadId: string }>('POST', `${B}/uploads`, { key: 'big/gone.bin', size });
  assert.is((await u.raw('POST', `${B}/uploads/abort`, { key: 'big/gone.bin', uploadId: aborted.uploadId })).status, 204);
  const late = await u.raw('POST', `${B}/uploads/complete`, { key: 'big/gone.bin', uploadId: aborted.uploadId, parts: [{ partNumber: 1, etag: '"x"' }] });
  assert.is(late.status, 404);
  assert.is((await jsonOf(late)).error.code, 'NoSuchUpload');
});

test('a share link is a presigned GET on the S3 endpoint that plain HTTP can fetch until it expires', async () => {
  const before = Date.now();
  const link = await u.json<{ url: string; expiresAt: string }>('POST', `${B}/share`, { key: '2024/hello.txt', expiresInSeconds: 3600 });
  assert.ok(link.url.startsWith(`${proc.endpoint}/photos/2024/hello.txt?`), link.url);
  assert.match(link.url, /X-Amz-Expires=3600/);
  const at = Date.parse(link.expiresAt);
  assert.ok(at >= before + 3599_000 && at <= Date.now() + 3601_000);
  const res = await fetch(link.url);
  assert.is(res.status, 200);
  assert.is(await res.text(), 'hello');
  assert.is((await u.raw('POST', `${B}/share`, { key: '2024/hello.txt', expiresInSeconds: 30 * 86400 })).status, 400);
  const missing = await u.raw('POST', `${B}/share`, { key: 'nope.txt', expiresInSeconds: 3600 });
  assert.is(missing.status, 404, 'no link to a file that is not there');
});

test('listing pages with continuation tokens; search by prefix lists keys across folders', async () => {
  const s3 = s3Client(proc);
  for (const k of ['docs/a.md', 'docs/b.md', 'docs/c/d.md', 'docs/c/e.md', 'docs/f.md']) await s3.putObject('photos', k, Buffer.from(k));
  let token: string | undefined;
  const seen: string[] = [];
  do {
    const page: ObjectPage = await u.json('GET', `${B}/objects?prefix=docs/&max=2${token ? `&token=${encodeURIComponent(token)}` : ''}`);
    assert.ok(page.entries.length <= 2);
    seen.push(...keys(page));
    token = page.nextToken;
  } while (token);
  assert.equal(seen, ['docs/a.md', 'docs/b.md', 'docs/c/', 'docs/f.md']);
  const search = await u.json<ObjectPage>('GET', `${B}/objects?prefix=docs/c&delimiter=0`);
  assert.equal(keys(search), ['docs/c/d.md', 'docs/c/e.md']);
});

test('rename and move: files and whole folders (copy, then delete); no silent overwrite', async () => {
  assert.equal(await u.json('POST', `${B}/move`, { from: 'docs/a.md', to: 'docs/renamed.md' }), { moved: 1 });
  const clash = await u.raw('POST', `${B}/move`, { from: 'docs/b.md', to: 'docs/renamed.md' });
  assert.is(clash.status, 409);
  assert.is((await jsonOf(clash)).error.code, 'TargetExists');
  assert.equal(await u.json('POST', `${B}/move`, { from: 'docs/c/', to: 'archive/c/' }), { moved: 2 });
  assert.equal(keys(await u.json('GET', `${B}/objects?prefix=archive/c/`)), ['archive/c/d.md', 'archive/c/e.md']);
  assert.not.ok(keys(await u.json('GET', `${B}/objects?prefix=docs/`)).includes('docs/c/'));
  assert.is((await u.raw('POST', `${B}/move`, { from: 'archive/', to: 'archive/inner/' })).status, 400);
});

test('delete files and folders with everything in them', async () => {
  const res = await u.json('POST', `${B}/delete`, { keys: ['docs/', '2024/hello.txt'] });
  assert.equal(res, { deleted: 4, errors: [] }); // docs/b.md, renamed.md, f.md and hello.txt
  assert.equal(keys(await u.json('GET', `${B}/objects?prefix=docs/`)), []);
  assert.equal(keys(await u.json('GET', `${B}/objects?prefix=2024/`)), []);
});

test('S3 errors reach the user with their code', async () => {
  const res = await u.raw('GET', '/api/buckets/no-such-bucket/objects?prefix=');
  assert.is(res.status, 404);
  assert.is((await jsonOf(res)).error.code, 'NoSuchBucket');
  // (A name another user owns is BucketAlreadyExists: two-users.test.ts.)
  assert.is((await u.raw('POST', '/api/buckets', { name: 'Bad_Name' })).status, 400);
});

test.run();
