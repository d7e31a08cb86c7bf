// Console sessions: a short-lived HS256 JWT (jose) in an HttpOnly, SameSite=Strict cookie, and the
// server-side set of revoked token ids. The token names the user and the access key it signed in
// with, never the secret: every request looks the key up again, so a key disabled in the directory
// stops working in the console at once. Sessions are not extended: after `ttlMs` the user signs in
// again (the app asks in a dialog and keeps its state), which keeps a stolen cookie short-lived.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

export const SESSION_COOKIE = 'cairn_console';
const ISSUER = 'cairn-console';

export interface SessionClaims {
  jti: string;
  userId: string;
  accessKeyId: string;
  issuedAt: number; // ms since epoch
  expiresAt: number; // ms since epoch
}

export interface SessionOptions {
  key: Buffer; // ≥ 32 bytes; the same on every process that serves the console
  ttlMs?: number; // default one hour
  maxRevoked?: number; // bound of the revocation set, default 100,000
  now?: () => number;
}

const derive = (key: Buffer, purpose: string) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `cairn-console/${purpose}`, 32));

export class Sessions {
  readonly ttlMs: number;
  private readonly jwtKey: Uint8Array;
  private readonly csrfKey: Buffer;
  private readonly now: () => number;
  private readonly maxRevoked: number;
  // jti → the token's expiry. An entry is kept only while the token could still verify.
  private readonly revoked = new Map<string, number>();
  // Tokens issued before this instant are refused. It rises only when the revocation set is full:
  // dropping an entry must never bring a revoked token back, so everyone signs in again instead.
  private revokedBefore = 0;

  constructor(opts: SessionOptions) {
    if (opts.key.length < 32) throw new Error('the console session key must have at least 32 bytes');
    this.jwtKey = derive(opts.key, 'jwt');
    this.csrfKey = derive(opts.key, 'csrf');
    this.ttlMs = opts.ttlMs ?? 3600_000;
    this.now = opts.now ?? Date.now;
    this.maxRevoked = opts.maxRevoked ?? 100_000;
  }

  async issue(userId: string, accessKeyId: string): Promise<{ token: string; claims: SessionClaims }> {
    // JWT times are whole seconds; the issue time is also kept to the ms (iatms) so that a sign-out
    // ends exactly the sessions issued up to it, never one signed in the same second after it.
    const now = this.now();
    const iat = Math.floor(now / 1000);
    const exp = iat + Math.ceil(this.ttlMs / 1000);
    const claims: SessionClaims = { jti: randomBytes(16).toString('base64url'), userId, accessKeyId, issuedAt: now, expiresAt: exp * 1000 };
    const token = await new SignJWT({ akid: accessKeyId, iatms: now })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setSubject(userId)
      .setJti(claims.jti)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.jwtKey);
    return { token, claims };
  }

  /** The claims of a valid, unexpired, unrevoked token; undefined otherwise. */
  async verify(token: string | undefined): Promise<SessionClaims | undefined> {
    if (!token || token.length > 4096) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.jwtKey, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: ISSUER,
        currentDate: new Date(this.now()),
        requiredClaims: ['jti', 'sub', 'iat', 'exp'],
      });
      if (typeof payload.akid !== 'string') return undefined;
      const iatms = typeof payload.iatms === 'number' && Math.floor(payload.iatms / 1000) === payload.iat ? payload.iatms : payload.iat! * 1000;
      const claims: SessionClaims = { jti: payload.jti!, userId: payload.sub!, accessKeyId: payload.akid, issuedAt: iatms, expiresAt: payload.exp! * 1000 };
      if (claims.issuedAt < this.revokedBefore || this.revoked.has(claims.jti)) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }

  revoke(claims: SessionClaims): void {
    this.prune();
    if (this.revoked.size >= this.maxRevoked) {
      // Full of live entries: refuse every token issued up to now, then the entries are moot.
      this.revokedBefore = this.now() + 1;
      this.revoked.clear();
      return;
    }
    this.revoked.set(claims.jti, claims.expiresAt);
  }

  revokedCount(): number {
    return this.revoked.size;
  }

  /** The CSRF token of a session: bound to its jti, so it dies with the session. */
  csrfToken(claims: SessionClaims): string {
    return createHmac('sha256', this.csrfKey).update(claims.jti).digest('base64url');
  }

  csrfMatches(claims: SessionClaims, sent: string | undefined): boolean {
    if (!sent) return false;
    const want = Buffer.from(this.csrfToken(claims));
    const got = Buffer.from(sent);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private prune(): void {
    const now = this.now();
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
  }
}

/** The session cookie's Set-Cookie value. `secure` when the console is served over HTTPS. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  const name = secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
  return `${name}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}

/** The session token from a Cookie header. */
export function sessionToken(cookieHeader: string | undefined, secure: boolean): string | undefined {
  if (!cookieHeader) return undefined;
  const name = secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
