// Who is calling? Verifies SigV4 (header or presigned) against the key's user; what that user may
// do is authz.ts's question.
import type { IncomingMessage } from 'node:http';
import { s3Error } from '../util/errors.ts';
import type { Route } from './route.ts';
import {
  checkTime,
  parseAuthorizationHeader,
  parsePresignedQuery,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
  verifySignature,
  type SignableRequest,
  type SignatureClaim,
} from './sigv4.ts';

export interface S3Credentials {
  userId: string;
  secretAccessKey: string;
  superuser: boolean;
}

export interface Caller {
  accessKeyId?: string; // undefined: anonymous
  user?: string; // the key's user id
  superuser: boolean; // the admin user
  presigned?: boolean;
  claim?: SignatureClaim;
  signingKey?: Buffer;
  payloadHash: string; // hex sha256, UNSIGNED-PAYLOAD or a STREAMING-* marker
}

/** Lower-case header map; repeated headers joined with ',' as the canonical request wants. */
export function signableHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    out[name] = name in out ? `${out[name]},${raw[i + 1]}` : raw[i + 1];
  }
  return out;
}

/** Who a request without credentials is. */
export const anonymousCaller = (): Caller => ({ superuser: false, payloadHash: UNSIGNED_PAYLOAD });

const PAYLOAD_MARKERS = new Set([UNSIGNED_PAYLOAD, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER]);

export function authenticate(req: IncomingMessage, route: Route, lookup: (id: string) => S3Credentials | undefined, now = Date.now()): Caller {
  const headers = signableHeaders(req);
  const authorization = headers.authorization;
  const presigned = route.params.has('X-Amz-Signature') || route.params.has('X-Amz-Credential');
  if (!authorization && !presigned) return anonymousCaller();
  if (authorization && presigned)
    throw s3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    );

  let claim: SignatureClaim;
  let payloadHash: string;
  if (authorization) {
    claim = parseAuthorizationHeader(authorization, headers['x-amz-date'] ?? headers.date);
    const sent = headers['x-amz-content-sha256'];
    if (!sent) throw s3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    if (!PAYLOAD_MARKERS.has(sent) && !/^[0-9a-f]{64}$/.test(sent)) {
      throw s3Error('XAmzContentSHA256Mismatch', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a hex SHA-256');
    }
    payloadHash = sent;
  } else {
    claim = parsePresignedQuery(route.query);
    payloadHash = route.query.find(([k]) => k.toLowerCase() === 'x-amz-content-sha256')?.[1] ?? UNSIGNED_PAYLOAD;
  }
  const creds = lookup(claim.accessKeyId);
  if (!creds) throw s3Error('InvalidAccessKeyId');
  checkTime(claim, now);
  const signable: SignableRequest = { method: req.method ?? 'GET', rawPath: route.rawPath, query: route.query, headers };
  const signingKey = verifySignature(signable, claim, creds.secretAccessKey, payloadHash);
  return { accessKeyId: claim.accessKeyId, user: creds.userId, superuser: creds.superuser, presigned, claim, signingKey, payloadHash };
}
