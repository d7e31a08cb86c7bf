// Console sessions (pure): a token verifies until it expires or is revoked, only under its own key;
// the revocation set stays bounded without ever bringing a revoked token back; CSRF tokens are
// bound to their session; the cookie is HttpOnly and SameSite=Strict.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { Sessions, sessionCookie, sessionToken } from './session.ts';

const clock = { t: 1_700_000_000_000 };
const sessions = (opts: { maxRevoked?: number; key?: Buffer } = {}) =>
  new Sessions({ key: opts.key ?? randomBytes(32), ttlMs: 3600_000, now: () => clock.t, maxRevoked: opts.maxRevoked });

test('a token verifies with its claims until it expires', async () => {
  const s = sessions();
  const { token, claims } = await s.issue('alice', 'AKALICE');
  assert.equal(await s.verify(token), claims);
  assert.is(claims.expiresAt - claims.issuedAt, 3600_000);
  clock.t += 3599_000;
  assert.ok(await s.verify(token));
  clock.t += 2_000;
  assert.is(await s.verify(token), undefined);
});

test('a token of another key, a tampered or a foreign one does not verify', async () => {
  const key = randomBytes(32);
  const s = sessions({ key });
  const { token } = await s.issue('alice', 'AKALICE');
  assert.is(await sessions().verify(token), undefined, 'another session key');
  const [h, p, sig] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'admin' })).toString('base64url');
  assert.is(await s.verify(`${h}.${forged}.${sig}`), undefined, 'a changed subject');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  assert.is(await s.verify(`${none}.${p}.`), undefined, 'alg none');
  assert.is(await s.verify(undefined), undefined);
  assert.is(await s.verify('x'.repeat(5000)), undefined);
});

test('revoked tokens stay revoked; a full revocation set refuses everything older instead of forgetting', async () => {
  const s = sessions({ maxRevoked: 2 });
  const a = await s.issue('a', 'A1');
  const b = await s.issue('b', 'B1');
  const c = await s.issue('c', 'C1');
  s.revoke(a.claims);
  assert.is(await s.verify(a.token), undefined);
  assert.ok(await s.verify(b.token));
  s.revoke(b.claims);
  assert.is(s.revokedCount(), 2);
  s.revoke(c.claims); // full: everyone issued so far must sign in again
  assert.is(s.revokedCount(), 0);
  for (const t of [a, b, c]) assert.is(await s.verify(t.token), undefined);
  clock.t += 1000;
  const d = await s.issue('d', 'D1');
  assert.ok(await s.verify(d.token), 'new sessions work');
  clock.t += 3601_000;
  s.revoke(d.claims); // expired entries are pruned first
  assert.is(s.revokedCount(), 1);
});

test('the CSRF token belongs to one session', async () => {
  const s = sessions();
  const a = await s.issue('a', 'A1');
  const b = await s.issue('a', 'A1');
  assert.ok(s.csrfMatches(a.claims, s.csrfToken(a.claims)));
  assert.not.ok(s.csrfMatches(a.claims, s.csrfToken(b.claims)));
  assert.not.ok(s.csrfMatches(a.claims, undefined));
  assert.not.ok(s.csrfMatches(a.claims, ''));
});

test('the cookie: HttpOnly, SameSite=Strict, Path=/; Secure and __Host- over HTTPS; parsed back', () => {
  assert.is(sessionCookie('tok', 3600, false), 'cairn_console=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600');
  assert.is(sessionCookie('tok', 3600, true), '__Host-cairn_console=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure');
  assert.is(sessionToken('a=1; cairn_console=tok; b=2', false), 'tok');
  assert.is(sessionToken('__Host-cairn_console=tok', false), undefined);
  assert.is(sessionToken('__Host-cairn_console=tok', true), 'tok');
  assert.is(sessionToken(undefined, false), undefined);
});

test.run();
