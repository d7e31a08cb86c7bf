// Sign-in and sign-out. A user signs in with an access key id and its secret, checked against the
// directory the S3 layer uses, and gets a session cookie; attempts are rate limited per client
// address and per key. The session names the key, so the console acts as that key and nothing more.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionInfo, SignInRequest } from './api.ts';
import { ConsoleError } from './errors.ts';
import { readJson, sendJson, str } from './http.ts';
import type { SignInLimiter } from './rate-limit.ts';
import { clearedSessionCookie, sessionCookie, type SessionClaims, type Sessions } from './session.ts';
import type { ConsoleDirectory, ConsoleLog, ConsolePrincipal } from './types.ts';

export interface SignInDeps {
  directory: ConsoleDirectory;
  isAdmin(userId: string): boolean;
  sessions: Sessions;
  limiter: SignInLimiter;
  secureCookie: boolean;
  clientAddress(req: IncomingMessage): string;
  now(): number;
  log: ConsoleLog;
  endSessions?(accessKeyId: string, notBefore: number): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
// Compared when the key is unknown, so a miss costs what a wrong secret costs.
const NO_SECRET = digest('no such key');

function secretMatches(principal: ConsolePrincipal | undefined, sent: string): boolean {
  const ok = timingSafeEqual(principal ? digest(principal.secretAccessKey) : NO_SECRET, digest(sent));
  return ok && principal !== undefined;
}

export function sessionInfo(deps: SignInDeps, claims: SessionClaims): SessionInfo {
  return {
    userId: claims.userId,
    displayName: deps.directory.displayName(claims.userId),
    accessKeyId: claims.accessKeyId,
    isAdmin: deps.isAdmin(claims.userId),
    csrfToken: deps.sessions.csrfToken(claims),
    expiresAt: new Date(claims.expiresAt).toISOString(),
  };
}

/** The session's principal, looked up again: a key disabled or moved to another user ends the session. */
export function principalOf(deps: Pick<SignInDeps, 'directory'>, claims: SessionClaims): ConsolePrincipal | undefined {
  const p = deps.directory.principal(claims.accessKeyId);
  return p && p.userId === claims.userId && claims.issuedAt > (p.sessionsNotBefore ?? -1) ? p : undefined;
}

export async function signIn(deps: SignInDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson<SignInRequest>(req);
  const accessKeyId = str(body, 'accessKeyId', { max: 128 }).trim();
  const secret = str(body, 'secretAccessKey', { max: 256 });
  const address = deps.clientAddress(req);
  const waitMs = deps.limiter.attempt(address, accessKeyId, deps.now());
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    deps.log.warn({ address, accessKeyId }, 'console sign-in rate limited');
    throw new ConsoleError('TooManyAttempts', 429, `Too many sign-in attempts; try again in ${seconds} s.`, { retryAfterSeconds: seconds });
  }
  const principal = deps.directory.principal(accessKeyId);
  if (!secretMatches(principal, secret)) {
    deps.log.info({ address, accessKeyId }, 'console sign-in refused');
    throw new ConsoleError('InvalidCredentials', 401, 'The access key or the secret is wrong, or the key is disabled.');
  }
  const { token, claims } = await deps.sessions.issue(principal!.userId, accessKeyId);
  res.setHeader('set-cookie', sessionCookie(token, Math.floor(deps.sessions.ttlMs / 1000), deps.secureCookie));
  deps.log.info({ address, accessKeyId, userId: claims.userId }, 'console sign-in');
  sendJson(res, 200, sessionInfo(deps, claims));
}

export async function signOut(deps: SignInDeps, claims: SessionClaims, res: ServerResponse): Promise<void> {
  deps.sessions.revoke(claims);
  // Here at once; on every other node when the key record reaches it: this session and any older
  // one of the key end there (a sign-out means "sign me out", not "this tab only").
  await deps
    .endSessions?.(claims.accessKeyId, claims.issuedAt)
    .catch((e: Error) =>
      deps.log.warn({ accessKeyId: claims.accessKeyId, err: e.message }, 'console sign-out not recorded for the other nodes; revoked on this one'),
    );
  res.setHeader('set-cookie', clearedSessionCookie(deps.secureCookie));
  deps.log.info({ userId: claims.userId, accessKeyId: claims.accessKeyId }, 'console sign-out');
  res.statusCode = 204;
  res.end();
}
