// Browser form uploads (POST Object): the form's fields, its signed policy document and conditions, the size range, and the success answer.
//
// The handler streams multipart/form-data; the file is the last part, so every field and the
// file's name are known before its bytes are: planPostUpload then checks all but the size,
// verifyPostSignature checks the signature once the caller has the secret of the named key,
// checkPostSize checks the byte count (call it as bytes arrive to stop early), and
// postSuccessResponse builds the answer. Field names are case-insensitive, values are not.
// Both V4 (x-amz-credential, x-amz-signature, hex HMAC-SHA256 under the day's signing key) and
// V2 (AWSAccessKeyId, signature, base64 HMAC-SHA1 under the secret) forms are accepted: s3-tests
// signs its forms the V2 way, the SDKs' createPresignedPost the V4 way. Both sign the policy
// field exactly as sent.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error, s3Error } from '../../util/errors.ts';
import { ALGORITHM, sign, signaturesEqual, signingKey } from '../sigv4.ts';
import { buildXml } from '../xml.ts';

export type PostAuth =
  | { kind: 'anonymous' }
  | { kind: 'v4'; accessKeyId: string; date: string; region: string; service: string; signature: string; stringToSign: string }
  | { kind: 'v2'; accessKeyId: string; signature: string; stringToSign: string };

export interface PostUploadPlan {
  key: string; // ${filename} substituted
  auth: PostAuth;
  size: { min: number; max: number } | undefined; // content-length-range, if the policy has one
  fields: Map<string, string>; // lower-case names: acl, content-type, x-amz-meta-*, tagging, x-amz-checksum-* ...
  successStatus: 200 | 201 | 204;
  successRedirect?: string;
}

const badPolicy = (why: string) => new S3Error('InvalidPolicyDocument', 400, `Invalid Policy: ${why}`);
const denied = (why: string) => s3Error('AccessDenied', `Invalid according to Policy: ${why}`);
const missing = (name: string) => s3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.`, { extra: { ArgumentName: name } });

// Fields that need no condition: the signature's own and the file (AWS's list), plus checksums,
// which can only make an upload fail, never widen what it writes.
const EXEMPT = new Set(['policy', 'signature', 'x-amz-signature', 'awsaccesskeyid', 'file']);
const exempt = (name: string) => EXEMPT.has(name) || name.startsWith('x-ignore-') || name.startsWith('x-amz-checksum-');

const ISO_EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

type Condition = { op: 'eq' | 'starts-with'; field: string; value: string } | { op: 'content-length-range'; min: number; max: number };

function lowerFields(form: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of form) {
    const lower = name.toLowerCase();
    if (out.has(lower)) throw s3Error('InvalidArgument', `The form field ${name} appears more than once.`);
    out.set(lower, value);
  }
  return out;
}

function lengthBound(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw badPolicy('Invalid content-length-range.');
  return n;
}

function parseCondition(c: unknown): Condition[] {
  if (Array.isArray(c)) {
    const op = typeof c[0] === 'string' ? c[0].toLowerCase() : '';
    if (op === 'content-length-range') {
      if (c.length !== 3) throw badPolicy('content-length-range needs a minimum and a maximum.');
      const min = lengthBound(c[1]);
      const max = lengthBound(c[2]);
      if (min > max) throw badPolicy('content-length-range minimum is larger than its maximum.');
      return [{ op, min, max }];
    }
    if (op !== 'eq' && op !== 'starts-with') throw badPolicy(`Unknown condition ${JSON.stringify(c[0])}.`);
    if (c.length !== 3 || typeof c[1] !== 'string' || !c[1].startsWith('$') || typeof c[2] !== 'string') {
      throw badPolicy(`Invalid ${op} condition.`);
    }
    return [{ op, field: c[1].slice(1).toLowerCase(), value: c[2] }];
  }
  if (typeof c === 'object' && c !== null) {
    const entries = Object.entries(c);
    if (entries.length === 0) throw badPolicy('Empty condition.');
    return entries.map(([field, value]) => {
      if (typeof value !== 'string') throw badPolicy(`Condition ${field} must be a string.`);
      return { op: 'eq' as const, field: field.toLowerCase(), value };
    });
  }
  throw badPolicy('A condition must be an object or an array.');
}

/** The policy field decoded: its expiration (ms) and conditions. Keys are case-sensitive. */
export function decodePolicy(policyBase64: string): { expiration: number; conditions: Condition[] } {
  const compact = policyBase64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw badPolicy('The policy is not base64.');
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'));
  } catch {
    throw badPolicy('The policy is not JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw badPolicy('The policy is not a JSON object.');
  const { expiration, conditions } = doc as Record<string, unknown>;
  if (typeof expiration !== 'string') throw badPolicy('Policy missing expiration.');
  if (!ISO_EXPIRATION.test(expiration) || Number.isNaN(Date.parse(expiration))) throw badPolicy(`Invalid 'expiration' value: '${expiration}'`);
  if (!Array.isArray(conditions)) throw badPolicy('Policy missing conditions.');
  return { expiration: Date.parse(expiration), conditions: conditions.flatMap(parseCondition) };
}

function authOf(fields: Map<string, string>, policy: string | undefined): PostAuth {
  const v4 = fields.get('x-amz-signature');
  const v2 = fields.get('signature');
  if (policy === undefined) {
    if (v4 !== undefined || v2 !== undefined) throw missing('policy');
    return { kind: 'anonymous' };
  }
  if (v4 !== undefined || fields.has('x-amz-credential') || fields.has('x-amz-algorithm')) {
    if (fields.get('x-amz-algorithm') !== ALGORITHM) throw s3Error('InvalidArgument', `x-amz-algorithm must be ${ALGORITHM}.`);
    if (v4 === undefined) throw missing('x-amz-signature');
    const credential = fields.get('x-amz-credential');
    if (credential === undefined) throw missing('x-amz-credential');
    // <key>/<yyyymmdd>/<region>/<service>/aws4_request, as in sigv4.ts's header parser
    const parts = credential.split('/');
    if (parts.length !== 5 || !parts[0] || !/^\d{8}$/.test(parts[1]) || parts[4] !== 'aws4_request') {
      throw s3Error('InvalidArgument', 'x-amz-credential is malformed.', { extra: { ArgumentName: 'x-amz-credential' } });
    }
    if (!fields.has('x-amz-date')) throw missing('x-amz-date');
    return { kind: 'v4', accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3], signature: v4.toLowerCase(), stringToSign: policy };
  }
  if (v2 === undefined) throw missing('signature');
  const accessKeyId = fields.get('awsaccesskeyid');
  if (accessKeyId === undefined) throw missing('AWSAccessKeyId');
  return { kind: 'v2', accessKeyId, signature: v2, stringToSign: policy };
}

/**
 * Everything but the signature and the size: fields, policy document, expiration, conditions.
 * `bucket` is the bucket the request addresses (a policy's bucket condition is checked against
 * it, not against a form field); `filename` is the file part's name, for `${filename}` in key.
 */
export function planPostUpload(form: Map<string, string>, ctx: { bucket: string; filename?: string; now: number }): PostUploadPlan {
  const fields = lowerFields(form);
  const rawKey = fields.get('key');
  if (rawKey === undefined) throw missing('key');
  const key = rawKey.replaceAll('${filename}', ctx.filename ?? '');
  if (key === '') throw s3Error('InvalidArgument', 'User key must have a length greater than 0.');
  const policy = fields.get('policy');
  const auth = authOf(fields, policy);
  let size: PostUploadPlan['size'];
  if (policy !== undefined) {
    const { expiration, conditions } = decodePolicy(policy);
    if (ctx.now > expiration) throw denied('Policy expired.');
    const valueOf = (field: string) => (field === 'bucket' ? ctx.bucket : field === 'key' ? key : (fields.get(field) ?? ''));
    const covered = new Set<string>();
    for (const c of conditions) {
      if (c.op === 'content-length-range') {
        size = size ? { min: Math.max(size.min, c.min), max: Math.min(size.max, c.max) } : { min: c.min, max: c.max };
        continue;
      }
      covered.add(c.field);
      const v = valueOf(c.field);
      const ok = c.op === 'eq' ? v === c.value : v.startsWith(c.value);
      if (!ok) throw denied(`Policy Condition failed: ["${c.op}", "$${c.field}", ${JSON.stringify(c.value)}]`);
    }
    const extra = [...fields.keys()].filter((f) => !exempt(f) && !covered.has(f));
    if (extra.length) throw denied(`Extra input fields: ${extra.join(', ')}`);
  }
  const status = fields.get('success_action_status');
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  return {
    key,
    auth,
    size,
    fields,
    // S3 answers 204 for a missing or unsupported status (test_post_object_set_invalid_success_code).
    successStatus: status === '200' ? 200 : status === '201' ? 201 : 204,
    successRedirect: redirect && /^https?:\/\//i.test(redirect) ? redirect : undefined,
  };
}

/** Check the form's signature with the secret of auth.accessKeyId; SignatureDoesNotMatch (403) otherwise. */
export function verifyPostSignature(auth: PostAuth, secret: string): void {
  if (auth.kind === 'anonymous') return;
  if (auth.kind === 'v4') {
    const expected = sign(signingKey(secret, auth.date, auth.region, auth.service), auth.stringToSign);
    if (!signaturesEqual(expected, auth.signature)) throw s3Error('SignatureDoesNotMatch');
    return;
  }
  const expected = Buffer.from(createHmac('sha1', secret).update(auth.stringToSign, 'utf8').digest('base64'));
  const sent = Buffer.from(auth.signature);
  if (expected.length !== sent.length || !timingSafeEqual(expected, sent)) throw s3Error('SignatureDoesNotMatch');
}

/**
 * The file's size against content-length-range: EntityTooLarge as soon as `size` passes the
 * maximum (call while streaming), EntityTooSmall when `final` and below the minimum.
 */
export function checkPostSize(plan: Pick<PostUploadPlan, 'size'>, size: number, final: boolean): void {
  if (!plan.size) return;
  if (size > plan.size.max) throw s3Error('EntityTooLarge', undefined, { extra: { ProposedSize: String(size), MaxSizeAllowed: String(plan.size.max) } });
  if (final && size < plan.size.min)
    throw s3Error('EntityTooSmall', undefined, { extra: { ProposedSize: String(size), MinSizeAllowed: String(plan.size.min) } });
}

/**
 * The answer to a stored upload: a 303 to success_action_redirect with bucket, key and the
 * quoted etag in its query; else success_action_status (201 carries a PostResponse document).
 */
export function postSuccessResponse(
  plan: Pick<PostUploadPlan, 'key' | 'successStatus' | 'successRedirect'>,
  stored: { bucket: string; etag: string; location: string },
): { status: number; headers: Record<string, string>; body: string } {
  const etag = `"${stored.etag}"`;
  if (plan.successRedirect) {
    const query = `bucket=${encodeURIComponent(stored.bucket)}&key=${encodeURIComponent(plan.key)}&etag=${encodeURIComponent(etag)}`;
    const sep = plan.successRedirect.includes('?') ? '&' : '?';
    return { status: 303, headers: { Location: plan.successRedirect + sep + query, ETag: etag }, body: '' };
  }
  const headers: Record<string, string> = { ETag: etag, Location: stored.location };
  if (plan.successStatus !== 201) return { status: plan.successStatus, headers, body: '' };
  const body = buildXml('PostResponse', { Location: stored.location, Bucket: stored.bucket, Key: plan.key, ETag: etag }, { namespace: false });
  return { status: 201, headers: { ...headers, 'Content-Type': 'application/xml' }, body };
}
