// Sign-in through an OpenID Connect issuer (a test issuer on loopback): the code flow with PKCE
// ends in a session of the key the person maps to; the answer of another browser (state), a token
// for another sign-in (nonce), another client (audience) or signed by a stranger is refused, as is a
// person who is not a user here; `next` never leads off the console; a code works once. In Chromium:
// the sign-in page's button signs in, and a refusal is shown there with its reason.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../../../console/build.ts';
import { launchBrowser } from '../../../hack/testing/browser.ts';
import { memoryLog, userDirectory } from '../../../hack/testing/console.ts';
import { loopbackAddress } from '../../../hack/testing/net.ts';
import { startTestIssuer, type TestIssuer } from '../../../hack/testing/oidc-issuer.ts';
import { keyForPerson, type PeopleDirectory } from './oidc.ts';
import { startConsole, type RunningConsole } from './server.ts';
import { SESSION_COOKIE } from './session.ts';

const bob = { userId: 'bob', accessKeyId: 'AKBOB', secretAccessKey: 'bob-secret-key', displayName: 'Bob' };
let issuer: TestIssuer;
let running: RunningConsole;
let plain: RunningConsole;
let dir: string;

const consoleWith = (oidc?: TestIssuer, assetsDir = '/nonexistent') =>
  startConsole({
    host: loopbackAddress(),
    port: 0,
    s3Endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    directory: userDirectory([bob]),
    isAdmin: () => false,
    clusterStatus: () => Promise.reject(new Error('none')),
    sessionKey: randomBytes(32),
    log: memoryLog(),
    assetsDir,
    oidc: oidc && {
      issuer: oidc.issuer,
      clientId: oidc.clientId,
      clientSecret: oidc.clientSecret,
      label: 'Sign in with Test',
      keyFor: (claims) => (claims.email === 'bob@example.com' ? bob.accessKeyId : undefined),
    },
  });

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-oidc-'));
  const { outDir } = await buildConsole({ outDir: join(dir, 'dist') });
  issuer = await startTestIssuer();
  running = await consoleWith(issuer, outDir);
  plain = await consoleWith();
});

test.after(async () => {
  await running?.close();
  await plain?.close();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const manual = (url: string, cookie = '') => fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith(`${name}=`) && !c.endsWith('='));

/** Start → issuer → the callback URL, with the flow cookie; `tamper` may change the callback URL. */
async function throughIssuer(next: string): Promise<{ callback: URL; flow: string }> {
  const start = await manual(`${running.url}/oidc/start?next=${encodeURIComponent(next)}`);
  assert.is(start.status, 302);
  const flow = cookieOf(start, 'cairn_oidc')!;
  assert.ok(flow, 'the flow cookie is set');
  assert.match(start.headers.getSetCookie()[0], /HttpOnly; SameSite=Lax/);
  const at = new URL(start.headers.get('location')!);
  assert.is(at.origin, issuer.issuer);
  assert.is(at.searchParams.get('code_challenge_method'), 'S256');
  const auth = await manual(at.toString());
  assert.is(auth.status, 302);
  return { callback: new URL(auth.headers.get('location')!), flow };
}

/** Why the console sent the browser back to the sign-in page. */
const reason = (location: string) => new URL(location, 'http://console').searchParams.get('oidcError') ?? `(no reason: ${location})`;

/** The callback: a refusal redirects to the sign-in page; a success is a page that moves on to `next`. */
async function finish(callback: URL, flow: string): Promise<{ location: string; session?: string }> {
  const res = await manual(callback.toString(), flow);
  if (res.status === 303) return { location: res.headers.get('location')!, session: cookieOf(res, SESSION_COOKIE) };
  assert.is(res.status, 200);
  const refresh = /<meta http-equiv="refresh" content="0;url=([^"]*)">/.exec(await res.text());
  assert.ok(refresh, 'the page moves on');
  return { location: refresh![1].replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))), session: cookieOf(res, SESSION_COOKIE) };
}

test('keyForPerson: the user with the verified e-mail, their oldest active key', () => {
  const keys = [
    { accessKeyId: 'NEWER', userId: 'dan', createdAt: '2026-02-01T00:00:00Z' },
    { accessKeyId: 'OLDEST-OFF', userId: 'dan', createdAt: '2025-01-01T00:00:00Z', disabled: true },
    { accessKeyId: 'OLDER', userId: 'dan', createdAt: '2026-01-01T00:00:00Z' },
  ];
  const dir: PeopleDirectory = {
    byEmail: (e) => (e.toLowerCase() === 'dan@example.com' ? 'dan' : undefined),
    keysOf: (u) => keys.filter((k) => k.userId === u),
    principal: (id) => (keys.some((k) => k.accessKeyId === id && !k.disabled) ? { userId: 'dan' } : undefined),
  };
  assert.is(keyForPerson(dir, { sub: 's', email: 'dan@example.com' }), 'OLDER');
  assert.is(keyForPerson(dir, { sub: 's', email: 'dan@example.com', email_verified: true }), 'OLDER');
  assert.is(keyForPerson(dir, { sub: 's', email: 'dan@example.com', email_verified: false }), undefined, 'unverified');
  assert.is(keyForPerson(dir, { sub: 's', email: 'eve@example.com' }), undefined);
  assert.is(keyForPerson(dir, { sub: 's' }), undefined, 'no e-mail');
  keys[0].userId = keys[2].userId = 'gone';
  assert.is(keyForPerson(dir, { sub: 's', email: 'dan@example.com' }), undefined, 'no active key');
});

test('the sign-in page learns of the issuer; a console without one has no such routes', async () => {
  assert.equal(await (await fetch(`${running.url}/api/sign-in-options`)).json(), { oidc: { label: 'Sign in with Test' } });
  assert.equal(await (await fetch(`${plain.url}/api/sign-in-options`)).json(), {});
  assert.is((await manual(`${plain.url}/oidc/start`)).status, 401);
});

test('the code flow ends in a session of the mapped key, and lands on `next`', async () => {
  issuer.person = { sub: 'u-bob', email: 'bob@example.com' };
  const { callback, flow } = await throughIssuer('/b/photos/');
  assert.is(callback.origin + callback.pathname, `${running.url}/oidc/callback`);
  const { location, session } = await finish(callback, flow);
  assert.is(location, '/b/photos/');
  assert.ok(session, 'a session cookie');
  const info = (await (await fetch(`${running.url}/api/session`, { headers: { cookie: session! } })).json()) as { userId: string; accessKeyId: string };
  assert.is(info.userId, 'bob');
  assert.is(info.accessKeyId, bob.accessKeyId);

  // The same code again: the issuer says no, and so does the console.
  const again = await finish(callback, flow);
  assert.match(reason(again.location), /did not confirm/);
  assert.is(again.session, undefined);
});

test('refused: another browser, a lost flow cookie, a forged state', async () => {
  issuer.person = { sub: 'u-bob', email: 'bob@example.com' };
  const a = await throughIssuer('/buckets');
  const b = await throughIssuer('/buckets');
  const crossed = await finish(a.callback, b.flow);
  assert.match(reason(crossed.location), /does not belong to this browser/);
  assert.is(crossed.session, undefined);
  const lost = await manual(a.callback.toString());
  assert.match(reason(lost.headers.get('location')!), /start again/);
  assert.is(cookieOf(lost, SESSION_COOKIE), undefined);
  const forged = new URL(b.callback);
  forged.searchParams.set('state', 'x');
  assert.is((await finish(forged, b.flow)).session, undefined);
});

test('refused: a token for another sign-in, another client, or signed by a stranger', async () => {
  issuer.person = { sub: 'u-bob', email: 'bob@example.com' };
  for (const [misbehave, why] of [
    [{ nonce: 'other' }, /not issued for this sign-in/],
    [{ audience: 'another-client' }, /did not verify/],
    [{ foreignKey: true }, /did not verify/],
  ] as const) {
    issuer.misbehave = misbehave;
    const { callback, flow } = await throughIssuer('/buckets');
    const r = await finish(callback, flow);
    assert.match(reason(r.location), why, JSON.stringify(misbehave));
    assert.is(r.session, undefined);
  }
  issuer.misbehave = {};
});

test('refused: a person who is not a user here', async () => {
  issuer.person = { sub: 'u-eve', email: 'eve@example.com' };
  const { callback, flow } = await throughIssuer('/buckets');
  const r = await finish(callback, flow);
  assert.match(reason(r.location), /not a user of this cluster/);
  assert.is(r.session, undefined);
});

test('`next` never leads off the console', async () => {
  issuer.person = { sub: 'u-bob', email: 'bob@example.com' };
  for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
    const { callback, flow } = await throughIssuer(next);
    assert.is((await finish(callback, flow)).location, '/buckets', next);
  }
});

test('in Chromium: the button signs in and lands where the user was going; a refusal says why on the sign-in page', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(20_000);
    issuer.person = { sub: 'u-eve', email: 'eve@example.com' };
    await page.goto(`${running.url}/cluster`);
    await page.waitForURL(/\/signin\?next=%2Fcluster$/);
    await page.getByRole('link', { name: 'Sign in with Test' }).click();
    await page.waitForURL(/\/signin\?oidcError=/);
    await page.getByRole('alert').filter({ hasText: 'not a user of this cluster' }).waitFor();

    issuer.person = { sub: 'u-bob', email: 'bob@example.com' };
    await page.goto(`${running.url}/b/photos/`);
    await page.getByRole('link', { name: 'Sign in with Test' }).click();
    await page.waitForURL(/\/b\/photos\/$/);
    await page.getByText('Bob').first().waitFor();
  } finally {
    await browser.close();
  }
});

test.run();
