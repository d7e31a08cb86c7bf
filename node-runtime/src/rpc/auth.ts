// Cluster-secret authentication for the cluster port (internal RPC and the admin API): every call
// carries `Authorization: Bearer <secret>`. The check runs before any body is read or any handler
// runs, so a request without the secret gets 401 and changes nothing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// Both sides are hashed first so the comparison is constant-time whatever the lengths.
const digest = (s: string) => createHash('sha256').update(s).digest();

export function secretMatches(header: string | undefined, secret: string | Buffer): boolean {
  if (!header || !secret.length) return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  return timingSafeEqual(digest(m[1]), typeof secret === 'string' ? digest(secret) : secret);
}

export function requireClusterSecret(secret: string) {
  if (!secret) throw new Error('a cluster secret is required (--secret or CAIRN_CLUSTER_SECRET)');
  const expected = digest(secret); // hashed once: every RPC passes through here
  return (req: Request, res: Response, next: NextFunction): void => {
    if (secretMatches(req.headers.authorization, expected)) {
      next();
      return;
    }
    // Connection: close — an unauthenticated peer may have sent a body we are not going to read.
    res
      .status(401)
      .setHeader('www-authenticate', 'Bearer')
      .setHeader('connection', 'close')
      .json({ error: { code: 'Unauthorized', message: 'missing or wrong cluster secret' } });
  };
}
