// A real browser (Debian's Chromium) on one loopback origin using Cairn on another: a page's
// fetch() PUTs and GETs through presigned URLs (the browser sends the preflight itself and
// enforces the answer), which works only on a bucket whose CORS rules allow the page's origin;
// and an HTML form posts a file straight into a bucket (a browser form upload with a V4 policy)
// and lands on its success_action_redirect.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../../../hack/testing/browser.ts';
import { s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { freePort, loopbackAddress } from '../../../hack/testing/net.ts';

let proc: CairnProcess;
let s3: S3Client;
let site: Server;
let origin: string;
let browser: TestBrowser;
let page: Page;
const pages = new Map<string, string>(); // path → HTML the page origin serves

test.before(async () => {
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'warn' } });
  s3 = new S3Client({
    endpoint: proc.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: proc.accessKey, secretAccessKey: proc.secretKey },
  });
  const host = loopbackAddress();
  const port = await freePort(host);
  origin = `http://${host}:${port}`;
  site = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const html = pages.get(path) ?? '<!doctype html><title>app</title><p>app page</p>';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((r) => site.listen(port, host, r));
  browser = await launchBrowser();
  browser.context.setDefaultTimeout(20_000);
  page = await browser.context.newPage();
  await page.goto(`${origin}/`);
});

test.after(async () => {
  await browser?.close();
  await new Promise((r) => (site ? site.close(r) : r(undefined)));
  s3?.destroy();
  await proc?.cleanup();
});

/** Run fetch() in the page (origin A) against Cairn (origin B): what the page's script can see. */
function pageFetch(
  url: string,
  init: { method: string; body?: string },
): Promise<{ ok: true; status: number; etag: string | null; text: string } | { ok: false; error: string }> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const res = await fetch(url, { method: init.method, body: init.body, headers: init.body ? { 'Content-Type': 'text/plain' } : {} });
        return { ok: true as const, status: res.status, etag: res.headers.get('ETag'), text: await res.text() };
      } catch (e) {
        return { ok: false as const, error: String(e) };
      }
    },
    { url, init },
  );
}

const exists = (bucket: string, key: string) =>
  s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (e) => {
      if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404) return false;
      throw e;
    },
  );

test("a page on another origin PUTs and GETs through presigned URLs when the bucket's CORS rules allow its origin, and cannot otherwise", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'browser-open' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'browser-closed' }));
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: 'browser-open',
      CORSConfiguration: {
        CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 5 }],
      },
    }),
  );
  const presign = (cmd: PutObjectCommand | GetObjectCommand) => getSignedUrl(s3, cmd, { expiresIn: 300 });

  const put = await pageFetch(await presign(new PutObjectCommand({ Bucket: 'browser-open', Key: 'from-page.txt' })), {
    method: 'PUT',
    body: 'written by a browser',
  });
  assert.ok(put.ok, `the page's PUT failed: ${JSON.stringify(put)}`);
  assert.is(put.status, 200);
  const stored = await s3.send(new GetObjectCommand({ Bucket: 'browser-open', Key: 'from-page.txt' }));
  assert.is(await stored.Body!.transformToString(), 'written by a browser');
  assert.is(put.etag, stored.ETag, 'the exposed ETag is readable by the page');

  const get = await pageFetch(await presign(new GetObjectCommand({ Bucket: 'browser-open', Key: 'from-page.txt' })), { method: 'GET' });
  assert.equal(get, { ok: true, status: 200, etag: stored.ETag!, text: 'written by a browser' });

  // Without rules the browser refuses: the preflight fails, so the PUT is never sent; a GET's answer is hidden.
  const refused = await pageFetch(await presign(new PutObjectCommand({ Bucket: 'browser-closed', Key: 'from-page.txt' })), { method: 'PUT', body: 'x' });
  assert.is(refused.ok, false);
  assert.is(await exists('browser-closed', 'from-page.txt'), false);
  await s3.send(new PutObjectCommand({ Bucket: 'browser-closed', Key: 'there.txt', Body: 'secret' }));
  const hidden = await pageFetch(await presign(new GetObjectCommand({ Bucket: 'browser-closed', Key: 'there.txt' })), { method: 'GET' });
  assert.is(hidden.ok, false);
});

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

test('an HTML form on another origin posts a file into the bucket (V4 policy) and lands on its success_action_redirect', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'browser-forms' }));
  const minio = s3Client(proc);
  const policy = minio.newPostPolicy();
  policy.setBucket('browser-forms');
  policy.setKeyStartsWith('uploads/');
  policy.setExpires(new Date(Date.now() + 10 * 60_000));
  policy.setContentLengthRange(1, 1024 * 1024);
  const done = `${origin}/done`;
  // The redirect is a field like any other: the signed policy must allow it.
  policy.policy.conditions.push(['eq', '$success_action_redirect', done]);
  policy.formData.success_action_redirect = done;
  const { formData } = await minio.presignedPostPolicy(policy);
  const fields = Object.entries({ ...formData, key: 'uploads/${filename}' })
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(String(v))}">`)
    .join('');
  pages.set(
    '/form',
    `<!doctype html><title>upload</title><form method="post" enctype="multipart/form-data" action="${proc.endpoint}/browser-forms">
    ${fields}<input type="file" name="file"><button type="submit">Upload</button></form>`,
  );
  await page.goto(`${origin}/form`);
  await page.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('posted by a browser form') });
  await Promise.all([page.waitForURL((u) => u.pathname === '/done'), page.getByRole('button', { name: 'Upload' }).click()]);
  const landed = new URL(page.url());
  const stored = await s3.send(new GetObjectCommand({ Bucket: 'browser-forms', Key: 'uploads/notes.txt' }));
  assert.is(await stored.Body!.transformToString(), 'posted by a browser form');
  assert.equal(
    [landed.origin, landed.searchParams.get('bucket'), landed.searchParams.get('key'), landed.searchParams.get('etag')],
    [origin, 'browser-forms', 'uploads/notes.txt', stored.ETag],
  );
});

test.run();
