// The web console: a static app plus a JSON API that acts only as the signed-in user. This file
// is the gate: which paths answer without a session (sign-in, its options and the OpenID Connect
// flow, static assets), the session and CSRF checks for everything else, and the dispatch to the
// API (routes.ts) and the S3 passthrough.
// A node starts it with startConsole(); every input is an argument (types.ts).
import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CSRF_HEADER, type SignInOptions } from './api.ts';
import { Assets, setSecurityHeaders } from './assets.ts';
import { ConsoleError, forbidden, notFound, unauthenticated } from './errors.ts';
import { PASSTHROUGH_PREFIX, UserFiles, type S3Target } from './files.ts';
import { sendError, sendJson } from './http.ts';
import { OidcSignIn } from './oidc.ts';
import { passthrough } from './passthrough.ts';
import { DEFAULT_SIGN_IN_LIMITS, SignInLimiter } from './rate-limit.ts';
import { findRoute, routeExists } from './routes.ts';
import { Sessions, sessionToken } from './session.ts';
import { principalOf, sessionInfo, signIn, signOut, type SignInDeps } from './sign-in.ts';
import type { ConsoleOptions, RunningConsole } from './types.ts';

export type { ConsoleDirectory, ConsoleLog, ConsoleOptions, ConsolePrincipal, RunningConsole } from './types.ts';

const DEFAULT_ASSETS = fileURLToPath(new URL('../../../console/dist', import.meta.url));
// The app's screens; each is the same page (the app routes on the path).
const PAGE = /^\/(?:buckets|b\/.*|cluster)?$/;
const SIGN_IN_PAGE = '/signin';
const MUTATING = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const now = opts.now ?? Date.now;
  const secureCookie = opts.secureCookie ?? false;
  const assets = await Assets.load(opts.assetsDir ?? DEFAULT_ASSETS);
  if (assets.missing) opts.log.warn({ assetsDir: opts.assetsDir ?? DEFAULT_ASSETS }, 'console assets are not built; pages answer 503');
  // Connections of this console only (closed with it), kept alive between the users' requests.
  const endpoint = new URL(opts.s3Endpoint);
  const agent = endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const target: S3Target = { endpoint, region: opts.region, agent };
  // Share links are only signed for the public host, never sent from here.
  const shareTarget: S3Target = opts.publicS3Endpoint ? { ...target, endpoint: new URL(opts.publicS3Endpoint) } : target;
  const sessions = new Sessions({ key: opts.sessionKey, ttlMs: opts.sessionTtlMs, now });
  const deps: SignInDeps = {
    directory: opts.directory,
    isAdmin: (id) => opts.isAdmin(id),
    sessions,
    secureCookie,
    now,
    log: opts.log,
    limiter: new SignInLimiter(opts.signInLimits ?? DEFAULT_SIGN_IN_LIMITS),
    clientAddress: opts.clientAddress ?? ((req) => req.socket.remoteAddress ?? 'unknown'),
    ...(opts.endSessions ? { endSessions: (id: string, at: number) => opts.endSessions!(id, at) } : {}),
  };

  // Its own key: a sign-in flow's cookie must never pass for a session.
  const oidc = opts.oidc && new OidcSignIn(opts.oidc, createHmac('sha256', opts.sessionKey).update('cairn/console-oidc-flow').digest());

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    // Public: the static assets, the sign-in page and the sign-in call.
    if ((method === 'GET' || method === 'HEAD') && path !== '/index.html' && assets.has(path)) {
      assets.send(path, res, req.headers['if-none-match'] as string | undefined, method === 'HEAD');
      return;
    }
    if (method === 'GET' && path === SIGN_IN_PAGE) return assets.page(res);
    if (path === '/api/session' && method === 'POST') {
      checkOrigin(req);
      return signIn(deps, req, res);
    }
    if (method === 'GET' && path === '/api/sign-in-options') return sendJson(res, 200, (oidc ? { oidc: { label: oidc.label } } : {}) satisfies SignInOptions);
    if (method === 'GET' && oidc && path === '/oidc/start') return oidc.start(deps, req, res, url);
    if (method === 'GET' && oidc && path === '/oidc/callback') return oidc.callback(deps, req, res, url);

    // Everything else needs a live session whose key still belongs to its user.
    const claims = await sessions.verify(sessionToken(req.headers.cookie, secureCookie));
    const principal = claims && principalOf(deps, claims);
    if (!claims || !principal) {
      if (method === 'GET' && PAGE.test(path)) {
        res.statusCode = 303;
        res.setHeader('location', `${SIGN_IN_PAGE}?next=${encodeURIComponent(path + url.search)}`);
        res.end();
        return;
      }
      throw unauthenticated();
    }
    if (MUTATING.has(method)) {
      checkOrigin(req);
      const sent = req.headers[CSRF_HEADER];
      if (!sessions.csrfMatches(claims, typeof sent === 'string' ? sent : undefined))
        throw new ConsoleError('CsrfTokenMissing', 403, "The request lacks this session's CSRF token; reload the page.");
    }

    if (method === 'GET' && PAGE.test(path)) {
      if (path === '/') {
        res.statusCode = 303;
        res.setHeader('location', '/buckets');
        res.end();
        return;
      }
      return assets.page(res);
    }
    if (path === '/api/session') {
      if (method === 'GET') return sendJson(res, 200, sessionInfo(deps, claims));
      if (method === 'DELETE') return signOut(deps, claims, res);
    }
    const files = await UserFiles.open(target, shareTarget, claims.accessKeyId, principal.secretAccessKey);
    if (path.startsWith(PASSTHROUGH_PREFIX + '/')) return passthrough(req, res, claims, target);
    const route = findRoute(method, path);
    if (!route) throw routeExists(path) ? new ConsoleError('MethodNotAllowed', 405, `${method} is not allowed here.`) : notFound();
    await route.handler({ req, res, url, claims, files, bucket: route.bucket, isAdmin: deps.isAdmin, clusterStatus: opts.clusterStatus });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => fail(req, res, e));
  });
  // Large uploads pass through: no overall request timeout, but a stalled client is cut.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;

  function fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    const err = e instanceof ConsoleError ? e : new ConsoleError('InternalError', 500, 'The console failed; try again.', { cause: e });
    if (err.status >= 500)
      opts.log.error(
        { method: req.method, path: (req.url ?? '').split('?')[0], code: err.code, err: String((e as Error)?.stack ?? e) },
        'console request failed',
      );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Drain what the client is still sending so it reads the answer instead of a reset.
    req.resume();
    sendError(res, err);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  opts.log.info({ url: `http://${host}:${port}` }, 'console listening');
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/** A mutating request from another origin is refused even before the CSRF token is looked at. */
function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return; // same-origin fetches of old browsers and non-browser clients
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw forbidden('Bad Origin header.');
  }
  if (host !== req.headers.host) throw forbidden('Cross-origin requests are refused.');
}
