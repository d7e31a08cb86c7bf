// A small OpenID Connect issuer for tests, on loopback: discovery, an authorization endpoint that
// signs in `person` at once (no login form) and redirects back with a code, a token endpoint that
// checks the PKCE verifier, client and redirect URI, and a JWKS. `misbehave` lets a test make it
// answer with a wrong nonce, audience or signing key.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { loopbackAddress } from './net.ts';

export interface TestIssuer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  person: { sub: string; [claim: string]: unknown }; // the ID token's claims about who signed in
  misbehave: { nonce?: string; audience?: string; foreignKey?: boolean };
  tokenRequests: number;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, { nonce: string; challenge: string; redirectUri: string; clientId: string }>();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', t.issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration')
      return json(200, { issuer: t.issuer, authorization_endpoint: `${t.issuer}/auth`, token_endpoint: `${t.issuer}/token`, jwks_uri: `${t.issuer}/keys` });
    if (url.pathname === '/keys') return json(200, { keys: [jwk] });
    if (url.pathname === '/auth') {
      const q = url.searchParams;
      if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || q.get('client_id') !== t.clientId)
        return json(400, { error: 'invalid_request' });
      const code = randomBytes(12).toString('hex');
      codes.set(code, { nonce: q.get('nonce')!, challenge: q.get('code_challenge')!, redirectUri: q.get('redirect_uri')!, clientId: q.get('client_id')! });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state')!);
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      t.tokenRequests++;
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const f = new URLSearchParams(raw);
      const grant = codes.get(f.get('code') ?? '');
      codes.delete(f.get('code') ?? ''); // a code is good once
      const verifierOk =
        grant &&
        createHash('sha256')
          .update(f.get('code_verifier') ?? '')
          .digest('base64url') === grant.challenge;
      if (
        !grant ||
        !verifierOk ||
        f.get('redirect_uri') !== grant.redirectUri ||
        f.get('client_id') !== t.clientId ||
        f.get('client_secret') !== t.clientSecret
      )
        return json(400, { error: 'invalid_grant' });
      const idToken = await new SignJWT({ ...t.person, nonce: t.misbehave.nonce ?? grant.nonce })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(t.issuer)
        .setAudience(t.misbehave.audience ?? t.clientId)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(t.misbehave.foreignKey ? foreign.privateKey : privateKey);
      return json(200, { access_token: 'unused', token_type: 'Bearer', id_token: idToken });
    }
    json(404, { error: 'not_found' });
  });
  const host = loopbackAddress();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const t: TestIssuer = {
    issuer: `http://${host}:${(server.address() as AddressInfo).port}`,
    clientId: 'cairn-console',
    clientSecret: 'console-client-secret',
    person: { sub: 'user-1' },
    misbehave: {},
    tokenRequests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return t;
}
