// Sign-in through an OpenID Connect issuer (optional): the authorization code flow with PKCE. The
// issuer only says who the person is; the console still acts as one of that user's access keys
// (OidcOptions.keyFor maps the ID token's claims to it), so S3 keeps deciding every action and a
// person without a key of their own cannot sign in this way.
//
//   GET /oidc/start?next=/b/x   → 302 to the issuer, with state, nonce and a PKCE challenge; the
//                                 three secrets ride in a short-lived signed cookie of this browser
//   GET /oidc/callback?code&state → the code is exchanged (with the PKCE verifier), the ID token
//                                 verified (issuer's keys, issuer, audience, expiry, nonce), a session
//                                 issued as for a password sign-in, then on to `next`
// Failures go back to the sign-in page with a reason (?oidcError=...), never to a half session.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT, createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { sessionCookie } from './session.ts';
import type { SignInDeps } from './sign-in.ts';

export interface OidcOptions {
  issuer: string; // e.g. https://dex.example.com; its /.well-known/openid-configuration is read
  clientId: string;
  clientSecret?: string; // confidential clients (client_secret_post); public clients rely on PKCE alone
  /** The console's callback URL as registered at the issuer; default from the request's Host. */
  redirectUri?: string;
  /** What the sign-in page's button says, e.g. "Sign in with Dex". */
  label?: string;
  /** The access key the console acts as for this person, or undefined: not a user here. */
  keyFor(claims: JWTPayload): string | undefined;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

const FLOW_COOKIE = 'cairn_oidc';
const FLOW_SECONDS = 600;
const b64url = (b: Buffer) => b.toString('base64url');

/** Only a path of this console: `/b/x?y`, never `//host` or `https://…` (an open redirect). */
export function safeNext(next: string | null): string {
  return next && /^\/(?![/\\])/.test(next) ? next : '/buckets';
}

export class OidcSignIn {
  private readonly opts: OidcOptions;
  private readonly key: Buffer;
  private discovery?: Promise<Discovery & { jwks: ReturnType<typeof createRemoteJWKSet> }>;

  constructor(opts: OidcOptions, key: Buffer) {
    this.opts = opts;
    this.key = key;
  }

  get label(): string {
    return this.opts.label ?? 'Sign in with single sign-on';
  }

  private config() {
    this.discovery ??= (async () => {
      const url = `${this.opts.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      const d = (await res.json()) as Discovery & { issuer: string };
      if (d.issuer !== this.opts.issuer) throw new Error(`the issuer calls itself ${d.issuer}, not ${this.opts.issuer}`);
      return { ...d, jwks: createRemoteJWKSet(new URL(d.jwks_uri)) };
    })().catch((e) => {
      this.discovery = undefined; // ask again next time
      throw e;
    });
    return this.discovery;
  }

  private redirectUri(req: IncomingMessage): string {
    return this.opts.redirectUri ?? `http://${req.headers.host}/oidc/callback`;
  }

  async start(deps: SignInDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const d = await this.config().catch((e: Error) => {
      deps.log.error({ issuer: this.opts.issuer, err: e.message }, 'console OIDC issuer unreachable');
      return undefined;
    });
    if (!d) return back(res, 'The sign-in service cannot be reached; try again, or sign in with a key.');
    const state = b64url(randomBytes(16));
    const nonce = b64url(randomBytes(16));
    const verifier = b64url(randomBytes(32));
    const flow = await new SignJWT({ state, nonce, verifier, next: safeNext(url.searchParams.get('next')) })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(deps.now() / 1000) + FLOW_SECONDS)
      .sign(this.key);
    const to = new URL(d.authorization_endpoint);
    to.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.opts.clientId,
      redirect_uri: this.redirectUri(req),
      scope: 'openid email profile',
      state,
      nonce,
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
    }).toString();
    // Lax, not Strict: the issuer's redirect back is a cross-site navigation that must carry it.
    res.setHeader('set-cookie', `${FLOW_COOKIE}=${flow}; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=${FLOW_SECONDS}${deps.secureCookie ? '; Secure' : ''}`);
    res.statusCode = 302;
    res.setHeader('location', to.toString());
    res.end();
  }

  async callback(deps: SignInDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const address = deps.clientAddress(req);
    const refuse = (why: string, detail: object = {}) => {
      deps.log.info({ address, ...detail }, `console OIDC sign-in refused: ${why}`);
      return back(res, why);
    };
    const cookie = /(?:^|;\s*)cairn_oidc=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    let flow: JWTPayload & { state?: string; nonce?: string; verifier?: string; next?: string };
    try {
      flow = (await jwtVerify(cookie ?? '', this.key, { algorithms: ['HS256'], currentDate: new Date(deps.now()) })).payload;
    } catch {
      return refuse('The sign-in took too long or was started elsewhere; start again.');
    }
    if (url.searchParams.get('error')) return refuse(`The sign-in service said: ${url.searchParams.get('error_description') ?? url.searchParams.get('error')}`);
    if (!flow.state || url.searchParams.get('state') !== flow.state) return refuse('The sign-in answer does not belong to this browser; start again.');
    const code = url.searchParams.get('code');
    if (!code) return refuse('The sign-in service sent no code.');

    const d = await this.config().catch(() => undefined);
    if (!d) return refuse('The sign-in service cannot be reached; try again, or sign in with a key.');
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.redirectUri(req),
      client_id: this.opts.clientId,
      code_verifier: flow.verifier ?? '',
      ...(this.opts.clientSecret ? { client_secret: this.opts.clientSecret } : {}),
    });
    const tokenRes = await fetch(d.token_endpoint, { method: 'POST', body, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    if (!tokenRes?.ok) return refuse('The sign-in service did not confirm the sign-in.', { status: tokenRes?.status });
    const idToken = ((await tokenRes.json().catch(() => ({}))) as { id_token?: string }).id_token;
    let claims: JWTPayload;
    try {
      claims = (
        await jwtVerify(idToken ?? '', d.jwks, {
          issuer: this.opts.issuer,
          audience: this.opts.clientId,
          currentDate: new Date(deps.now()),
          clockTolerance: 60,
        })
      ).payload;
    } catch (e) {
      return refuse('The identity token did not verify.', { err: (e as Error).message });
    }
    if (claims.nonce !== flow.nonce) return refuse('The identity token was not issued for this sign-in.');

    const accessKeyId = this.opts.keyFor(claims);
    const principal = accessKeyId ? deps.directory.principal(accessKeyId) : undefined;
    if (!accessKeyId || !principal) return refuse('You signed in, but you are not a user of this cluster (or have no active key).', { sub: claims.sub });
    const { token, claims: session } = await deps.sessions.issue(principal.userId, accessKeyId);
    res.setHeader('set-cookie', [
      sessionCookie(token, Math.floor(deps.sessions.ttlMs / 1000), deps.secureCookie),
      `${FLOW_COOKIE}=; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=0`,
    ]);
    deps.log.info({ address, accessKeyId, userId: session.userId, sub: claims.sub }, 'console sign-in (OIDC)');
    // A page that moves on by itself rather than a redirect: this request came from the issuer's
    // site, and a SameSite=Strict session cookie is not sent on the rest of a cross-site redirect
    // chain; a navigation started by a page of the console is same-site and carries it.
    const next = escapeHtml(safeNext(flow.next ?? null));
    res.statusCode = 200;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(
      `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${next}"><title>Signed in</title><p><a href="${next}">Continue</a></p>`,
    );
  }
}

/** What keyForPerson reads of the user directory (access/users.ts's Directory has it). */
export interface PeopleDirectory {
  byEmail(email: string): string | undefined;
  keysOf(userId: string): { accessKeyId: string; createdAt: string; disabled?: boolean; deleted?: boolean }[];
  principal(accessKeyId: string): { userId: string } | undefined;
}

/**
 * The cluster's default mapping: the user whose e-mail the issuer vouches for, acting with their
 * oldest active key. An address the issuer marks unverified maps to nobody (anyone can type one).
 */
export function keyForPerson(dir: PeopleDirectory, claims: JWTPayload): string | undefined {
  if (typeof claims.email !== 'string' || claims.email_verified === false) return undefined;
  const userId = dir.byEmail(claims.email);
  if (!userId) return undefined;
  return dir
    .keysOf(userId)
    .filter((k) => !k.disabled && !k.deleted && dir.principal(k.accessKeyId)?.userId === userId)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))[0]?.accessKeyId;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function back(res: ServerResponse, why: string): void {
  res.statusCode = 303;
  res.setHeader('location', `/signin?${new URLSearchParams({ oidcError: why })}`);
  res.end();
}
