// The console's server against a real `cairn server` process, with a plain HTTP client: nothing
// but sign-in and the static assets answers without a session; the session cookie is HttpOnly and
// SameSite=Strict; mutating calls need the session's CSRF token and a same-origin Origin; sign-out
// revokes the token; a disabled key ends its sessions; sign-in is rate limited (429, Retry-After).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { startConsoleOn, type ConsoleOnCairn } from '../../../hack/testing/console.ts';
import { ConsoleClient, jsonOf } from '../../test/console-testing.ts';

let proc: CairnProcess;
let assets: string;
let c: ConsoleOnCairn;

test.before(async () => {
  assets = await mkdtemp(join(tmpdir(), 'console-assets-'));
  await writeFile(join(assets, 'index.html'), '<!doctype html><title>Cairn</title>');
  await writeFile(join(assets, 'app.js'), 'export {}');
  proc = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'warn' } });
  c = await startConsoleOn(proc, {
    assetsDir: assets,
    overrides: { signInLimits: { perAddress: { burst: 100, perMinute: 60 }, perKey: { burst: 100, perMinute: 60 } } },
  });
});

test.after(async () => {
  await c?.console.close();
  await proc?.cleanup();
  await rm(assets, { recursive: true, force: true });
});

const admin = () => new ConsoleClient(c.console.url);

test('no page or API answers without a session; sign-in and assets do', async () => {
  const anon = new ConsoleClient(c.console.url);
  for (const [method, path] of [
    ['GET', '/api/session'],
    ['DELETE', '/api/session'],
    ['GET', '/api/buckets'],
    ['POST', '/api/buckets'],
    ['GET', '/api/buckets/photos/objects'],
    ['POST', '/api/buckets/photos/delete'],
    ['POST', '/api/buckets/photos/share'],
    ['GET', '/api/buckets/photos/content?key=a'],
    ['POST', '/api/buckets/photos/uploads'],
    ['GET', '/api/cluster'],
    ['GET', '/s3/photos/a?X-Amz-Credential=x'],
    ['PUT', '/s3/photos/a'],
    ['GET', '/api/nothing-here'],
    ['GET', '/index.html'],
  ]) {
    const res = await anon.raw(method, path, method === 'GET' ? undefined : {});
    assert.is(res.status, 401, `${method} ${path}`);
    assert.is((await jsonOf(res)).error.code, 'Unauthenticated');
  }
  for (const page of ['/', '/buckets', '/b/photos/2024/', '/cluster']) {
    const res = await anon.raw('GET', page);
    assert.is(res.status, 303, page);
    assert.is(res.headers.get('location'), `/signin?next=${encodeURIComponent(page)}`);
  }
  assert.is((await anon.raw('GET', '/signin')).status, 200);
  const asset = await anon.raw('GET', '/app.js');
  assert.is(asset.status, 200);
  assert.is(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
});

test('secure headers: a CSP without unsafe-inline and no framing, nosniff, no referrer', async () => {
  const res = await new ConsoleClient(c.console.url).raw('GET', '/signin');
  const csp = res.headers.get('content-security-policy')!;
  assert.match(csp, "frame-ancestors 'none'");
  assert.match(csp, "script-src 'self'");
  assert.not.match(csp, 'unsafe-inline');
  assert.not.match(csp, 'unsafe-eval');
  assert.is(res.headers.get('x-content-type-options'), 'nosniff');
  assert.is(res.headers.get('x-frame-options'), 'DENY');
  assert.is(res.headers.get('referrer-policy'), 'no-referrer');
});

test('sign-in: wrong secret and unknown key are refused alike; the cookie is HttpOnly and SameSite=Strict', async () => {
  const u = new ConsoleClient(c.console.url);
  const wrong = await u.raw('POST', '/api/session', { accessKeyId: proc.accessKey, secretAccessKey: 'not-the-secret' });
  assert.is(wrong.status, 401);
  const unknown = await u.raw('POST', '/api/session', { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'whatever1' });
  assert.is(unknown.status, 401);
  assert.is((await jsonOf(wrong)).error.message, (await jsonOf(unknown)).error.message);
  const ok = await u.raw('POST', '/api/session', { accessKeyId: proc.accessKey, secretAccessKey: proc.secretKey });
  assert.is(ok.status, 200);
  const cookie = ok.headers.get('set-cookie')!;
  assert.match(cookie, /^cairn_console=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
  const info = await jsonOf(ok);
  assert.is(info.userId, 'admin');
  assert.is(info.isAdmin, true);
  assert.ok(info.csrfToken.length > 20);
  assert.not.match(JSON.stringify(info), proc.secretKey);
  assert.not.match(Buffer.from(cookie.split('.')[1], 'base64url').toString(), proc.secretKey, 'the token never carries the secret');
  assert.ok(c.log.lines.some((l) => l.msg === 'console sign-in refused'));
  assert.not.ok(JSON.stringify(c.log.lines).includes(proc.secretKey), 'no secret in the log');
});

test("CSRF: mutating calls need the session's token, JSON, and a same-origin Origin", async () => {
  const u = admin();
  await u.signIn(proc.accessKey, proc.secretKey);
  const body = { name: 'csrf-check' };
  assert.is((await u.raw('POST', '/api/buckets', body, { csrf: false })).status, 403);
  assert.is((await u.raw('POST', '/api/buckets', body, { headers: { 'x-csrf-token': 'forged' } })).status, 403);
  assert.is((await u.raw('POST', '/api/buckets', body, { headers: { origin: 'http://evil.example' } })).status, 403);
  const form = await u.raw('POST', '/api/buckets', undefined, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: 'name=csrf-check' });
  assert.is(form.status, 415);
  const other = admin();
  await other.signIn(proc.accessKey, proc.secretKey);
  assert.is((await u.raw('POST', '/api/buckets', body, { headers: { 'x-csrf-token': other.csrf } })).status, 403, "another session's token");
  assert.is((await u.raw('POST', '/api/buckets', body, { headers: { origin: c.console.url } })).status, 201);
  assert.ok((await u.json('GET', '/api/buckets')).some((b: { name: string }) => b.name === 'csrf-check'));
});

test('sign-out revokes the token: the same cookie replayed is refused', async () => {
  const u = admin();
  await u.signIn(proc.accessKey, proc.secretKey);
  const stolen = u.cookie;
  assert.is((await u.raw('GET', '/api/buckets')).status, 200);
  const out = await u.raw('DELETE', '/api/session');
  assert.is(out.status, 204);
  assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
  const replay = new ConsoleClient(c.console.url);
  replay.cookie = stolen;
  assert.is((await replay.raw('GET', '/api/buckets')).status, 401);
});

test('a key removed from the directory ends its sessions at once', async () => {
  const bob = { userId: 'bob', accessKeyId: 'AKBOBTEMP', secretAccessKey: 'bob-temporary-secret' };
  c.users.push(bob);
  const u = new ConsoleClient(c.console.url);
  await u.signIn(bob.accessKeyId, bob.secretAccessKey);
  assert.is((await u.raw('GET', '/api/session')).status, 200);
  c.users.pop();
  assert.is((await u.raw('GET', '/api/session')).status, 401);
});

test('sign-in is rate limited per client address and per key, with 429 and Retry-After', async () => {
  const limited = await startConsoleOn(proc, {
    assetsDir: assets,
    overrides: {
      signInLimits: { perAddress: { burst: 4, perMinute: 6 }, perKey: { burst: 3, perMinute: 6 } },
      // The test plays several clients from one socket address.
      clientAddress: (req) => String(req.headers['x-test-client'] ?? req.socket.remoteAddress),
    },
  });
  try {
    await rateLimits(limited);
  } finally {
    await limited.console.close();
  }
});

async function rateLimits(c: ConsoleOnCairn) {
  const attempt = (client: string, key: string) =>
    new ConsoleClient(c.console.url, { 'x-test-client': client }).raw('POST', '/api/session', { accessKeyId: key, secretAccessKey: 'wrong-secret' });
  for (let i = 0; i < 4; i++) assert.is((await attempt('guesser', `KEY${i}`)).status, 401);
  const refused = await attempt('guesser', 'KEY9');
  assert.is(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.is((await jsonOf(refused)).error.code, 'TooManyAttempts');
  // One key guessed from many addresses.
  for (let i = 0; i < 3; i++) assert.is((await attempt(`botnet-${i}`, 'VICTIM')).status, 401);
  assert.is((await attempt('botnet-9', 'VICTIM')).status, 429);
  // Even the right secret waits: the limit is on attempts.
  const right = await new ConsoleClient(c.console.url, { 'x-test-client': 'guesser' }).raw('POST', '/api/session', {
    accessKeyId: proc.accessKey,
    secretAccessKey: proc.secretKey,
  });
  assert.is(right.status, 429);
  assert.ok(c.log.lines.some((l) => l.msg === 'console sign-in rate limited'));
}

test.run();
