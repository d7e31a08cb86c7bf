// Object lock (WORM) over HTTP: the bucket's ObjectLockConfiguration (default retention), a version's
// Retention and LegalHold documents, the x-amz-object-lock-* headers of writes and reads. What a lock
// forbids is enforced by the data path (data/object-lock.ts), atomically with the removals it guards.
import type { BucketSettings, ObjectLockSettings, RetentionMode } from '../cluster/types.ts';
import type { ObjectVersion, PutOptions } from '../data/types.ts';
import { checkRetentionChange } from '../data/object-lock.ts';
import { s3Error, S3Error } from '../util/errors.ts';
import { bucketOrThrow } from './object-access.ts';
import { readSmallBody } from './payload.ts';
import { sendXml, setHeaders } from './respond.ts';
import { child, onlyChildren, parseDocument, textOf } from './semantics/document.ts';
import { target, type Handler, type S3Context } from './types.ts';
import { bypassGovernance } from './object.ts';
import { authorizedVersion, versionHeaders } from './versions.ts';

type Headers = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const MODES: readonly string[] = ['GOVERNANCE', 'COMPLIANCE'];
const notConfigured = () => new S3Error('InvalidRequest', 400, 'Bucket is missing Object Lock Configuration');

function lockedBucket(ctx: S3Context): BucketSettings {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.objectLock) throw notConfigured();
  return b;
}

/** A RetainUntilDate (ISO 8601) as ms; it must lie in the future, as S3 requires of a new retention. */
function untilOf(text: string | undefined, now: number): number {
  const t = text === undefined ? NaN : Date.parse(text);
  if (Number.isNaN(t)) throw s3Error('InvalidArgument', 'The retain until date is not a valid date.');
  if (t <= now) throw s3Error('InvalidArgument', 'The retain until date must be in the future!');
  return t;
}

/** x-amz-object-lock-mode / -retain-until-date / -legal-hold of a PutObject, CopyObject or CreateMultipartUpload. */
export function lockFromHeaders(h: Headers, now = Date.now()): Pick<PutOptions, 'retention' | 'legalHold'> {
  const mode = one(h['x-amz-object-lock-mode']);
  const until = one(h['x-amz-object-lock-retain-until-date']);
  const hold = one(h['x-amz-object-lock-legal-hold']);
  const out: Pick<PutOptions, 'retention' | 'legalHold'> = {};
  if ((mode === undefined) !== (until === undefined)) {
    throw s3Error('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
  }
  if (mode !== undefined) {
    if (!MODES.includes(mode)) throw s3Error('InvalidArgument', 'Unknown wormMode directive.');
    out.retention = { mode: mode as RetentionMode, until: untilOf(until, now) };
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') throw s3Error('InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'");
    out.legalHold = hold === 'ON';
  }
  return out;
}

/** The lock headers of a GET/HEAD answer. */
export function lockHeaders(v: Pick<ObjectVersion, 'retention' | 'legalHold'>, b: BucketSettings | undefined): Record<string, string> {
  if (!b?.objectLock) return {};
  const out: Record<string, string> = { 'x-amz-object-lock-legal-hold': v.legalHold ? 'ON' : 'OFF' };
  if (v.retention) {
    out['x-amz-object-lock-mode'] = v.retention.mode;
    out['x-amz-object-lock-retain-until-date'] = new Date(v.retention.until).toISOString();
  }
  return out;
}

/** An ObjectLockConfiguration document; its default retention has Days or Years, never both, > 0. */
export function parseLockConfiguration(xml: string): ObjectLockSettings {
  const doc = parseDocument(xml, 'ObjectLockConfiguration', []);
  onlyChildren(doc, ['ObjectLockEnabled', 'Rule']);
  if (textOf(doc, 'ObjectLockEnabled') !== 'Enabled') throw s3Error('MalformedXML');
  const rule = child(doc, 'Rule');
  if (!rule) return { enabled: true };
  onlyChildren(rule, ['DefaultRetention']);
  const d = child(rule, 'DefaultRetention');
  if (!d) throw s3Error('MalformedXML');
  onlyChildren(d, ['Mode', 'Days', 'Years']);
  const mode = textOf(d, 'Mode');
  if (mode === undefined || !MODES.includes(mode)) throw s3Error('MalformedXML');
  const days = textOf(d, 'Days');
  const years = textOf(d, 'Years');
  if ((days === undefined) === (years === undefined)) throw s3Error('MalformedXML');
  const n = Number(days ?? years);
  if (!/^-?\d+$/.test((days ?? years)!.trim()) || n <= 0) {
    throw new S3Error('InvalidRetentionPeriod', 400, 'Default retention period must be a positive integer value.');
  }
  return { enabled: true, defaultRetention: { mode: mode as RetentionMode, ...(days !== undefined ? { days: n } : { years: n }) } };
}

export const getObjectLockConfiguration: Handler = async (_req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  if (!b.objectLock) throw new S3Error('ObjectLockConfigurationNotFoundError', 404, 'Object Lock configuration does not exist for this bucket');
  const d = b.objectLock.defaultRetention;
  sendXml(res, 200, 'ObjectLockConfiguration', {
    ObjectLockEnabled: 'Enabled',
    ...(d ? { Rule: { DefaultRetention: { Mode: d.mode, ...(d.days !== undefined ? { Days: d.days } : { Years: d.years }) } } } : {}),
  });
};

export const putObjectLockConfiguration: Handler = async (req, res, ctx) => {
  const b = bucketOrThrow(ctx, ctx.route.bucket!);
  const config = parseLockConfiguration(await readSmallBody(req, ctx.caller, 64 * 1024));
  // Lock may be turned on later only while versioning is Enabled (and then keeps it on for good).
  if (!b.objectLock && b.versioning !== 'Enabled')
    throw new S3Error('InvalidBucketState', 409, 'Versioning must be Enabled on the bucket to enable Object Lock');
  await ctx.deps.putBucket({ ...b, objectLock: config });
  res.status(200).end();
};

export const getObjectRetention: Handler = async (_req, res, ctx) => {
  target(ctx);
  lockedBucket(ctx);
  const { version: v } = await authorizedVersion(ctx, 'GetObjectRetention');
  if (!v.retention) throw new S3Error('NoSuchObjectLockConfiguration', 404, 'The specified object does not have a ObjectLock configuration');
  sendXml(res, 200, 'Retention', { Mode: v.retention.mode, RetainUntilDate: new Date(v.retention.until).toISOString() });
};

/** A Retention document: Mode and RetainUntilDate together, or neither (removal of the retention). */
export function parseRetention(xml: string, now: number): ObjectVersion['retention'] | undefined {
  const doc = parseDocument(xml, 'Retention', []);
  onlyChildren(doc, ['Mode', 'RetainUntilDate']);
  const mode = textOf(doc, 'Mode');
  const until = textOf(doc, 'RetainUntilDate');
  if (mode === undefined && until === undefined) return undefined;
  if (mode === undefined || until === undefined || !MODES.includes(mode)) throw s3Error('MalformedXML');
  return { mode: mode as RetentionMode, until: untilOf(until, now) };
}

export const putObjectRetention: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const b = lockedBucket(ctx);
  const { pinned } = await authorizedVersion(ctx, 'PutObjectRetention');
  const now = Date.now();
  const next = parseRetention(await readSmallBody(req, ctx.caller, 64 * 1024), now);
  const bypass = bypassGovernance(req.headers, ctx);
  // Checked against the version as the revision commits (a conditional write), never a stale read.
  const v = await ctx.deps.objects.reviseVersion(bucket, key, pinned, (cur) => {
    checkRetentionChange(cur, next, now, bypass);
    return { retention: next };
  });
  setHeaders(res.status(200), versionHeaders(b, v)).end();
};

export const getObjectLegalHold: Handler = async (_req, res, ctx) => {
  target(ctx);
  lockedBucket(ctx);
  const { version: v } = await authorizedVersion(ctx, 'GetObjectLegalHold');
  sendXml(res, 200, 'LegalHold', { Status: v.legalHold ? 'ON' : 'OFF' });
};

export const putObjectLegalHold: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const b = lockedBucket(ctx);
  const { pinned } = await authorizedVersion(ctx, 'PutObjectLegalHold');
  const doc = parseDocument(await readSmallBody(req, ctx.caller, 64 * 1024), 'LegalHold', []);
  onlyChildren(doc, ['Status']);
  const status = textOf(doc, 'Status');
  if (status !== 'ON' && status !== 'OFF') throw s3Error('MalformedXML');
  const v = await ctx.deps.objects.reviseVersion(bucket, key, pinned, () => ({ legalHold: status === 'ON' }));
  setHeaders(res.status(200), versionHeaders(b, v)).end();
};
