// The bucket lifecycle document: LifecycleConfiguration parsed, validated with S3's codes, and rendered back as it was given.
//
// Rules keep the shape they came in (legacy <Prefix> under <Rule>, or <Filter>), because clients
// compare what they read back with what they wrote (s3-tests test_lifecycle_get). A <Filter>
// with several predicates outside <And> is accepted as their conjunction, as RGW does and
// s3-tests' tag rules rely on. Transitions are refused with NotImplemented: Cairn has one
// storage class. Errors: InvalidArgument for values (ID length and uniqueness, Days 0, a Date
// not at midnight UTC), MalformedXML for shape (Status, missing or doubled elements).
import { randomUUID } from 'node:crypto';
import { s3Error } from '../../util/errors.ts';
import type { XmlObject } from '../xml.ts';
import { buildXml } from '../xml.ts';
import { child, children, onlyChildren, parseDocument, textOf } from './document.ts';
import { validateTag, type Tag } from './tagging.ts';

export interface SizeBounds {
  sizeGreaterThan?: number;
  sizeLessThan?: number;
}
export interface LifecycleFilter extends SizeBounds {
  prefix?: string;
  tag?: Tag;
  and?: SizeBounds & { prefix?: string; tags: Tag[] };
}

export interface LifecycleRule {
  id: string;
  status: 'Enabled' | 'Disabled';
  prefix?: string; // legacy <Prefix> directly under <Rule>
  filter?: LifecycleFilter; // <Filter>; exactly one of prefix and filter is set
  expiration?: { days?: number; date?: number; expiredObjectDeleteMarker?: boolean }; // date: ms, midnight UTC
  noncurrentVersionExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number };
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number };
}

export const MAX_LIFECYCLE_RULES = 1000;
const MAX_ID = 255;
const DAY_MS = 86_400_000;

const invalid = (message: string) => s3Error('InvalidArgument', message);
const malformed = (message?: string) => s3Error('MalformedXML', message);

function positiveInt(v: string | undefined, what: string, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^-?\d+$/.test(t)) throw malformed(`${what} must be an integer.`);
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min) throw invalid(`'${what}' must be ${min === 0 ? 'a non-negative' : 'a positive'} integer.`);
  return n;
}

/** ISO 8601 date at midnight UTC (2017-09-27, 2017-09-27T00:00:00Z, ...T00:00:00.000Z, +00:00). */
function midnight(v: string, what: string): number {
  const t = v.trim();
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(t)
    ? Date.parse(t + 'T00:00:00Z')
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(t)
      ? Date.parse(t)
      : NaN;
  if (Number.isNaN(ms)) throw invalid(`Invalid ${what}: ${v}`);
  if (ms % DAY_MS !== 0) throw invalid(`'${what}' must be at midnight GMT`);
  return ms;
}

function parseTagElement(node: XmlObject): Tag {
  onlyChildren(node, ['Key', 'Value']);
  const key = textOf(node, 'Key');
  const value = textOf(node, 'Value') ?? '';
  if (key === undefined) throw malformed();
  const tag = { key, value };
  validateTag(tag); // InvalidTag, as for object tags
  return tag;
}

function sizeBounds(node: XmlObject): SizeBounds {
  const out: SizeBounds = {};
  const gt = positiveInt(textOf(node, 'ObjectSizeGreaterThan'), 'ObjectSizeGreaterThan', 0);
  const lt = positiveInt(textOf(node, 'ObjectSizeLessThan'), 'ObjectSizeLessThan', 1);
  if (gt !== undefined) out.sizeGreaterThan = gt;
  if (lt !== undefined) out.sizeLessThan = lt;
  if (gt !== undefined && lt !== undefined && gt >= lt) throw invalid('ObjectSizeGreaterThan must be less than ObjectSizeLessThan.');
  return out;
}

function parseFilter(node: XmlObject): LifecycleFilter {
  onlyChildren(node, ['Prefix', 'Tag', 'And', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
  const filter: LifecycleFilter = sizeBounds(node);
  const prefix = textOf(node, 'Prefix');
  if (prefix !== undefined) filter.prefix = prefix;
  const tag = child(node, 'Tag');
  if (tag) filter.tag = parseTagElement(tag);
  const and = child(node, 'And');
  if (and) {
    // Beside other predicates, And is one more of them: all must hold (RGW; s3-tests' tags2 rules).
    onlyChildren(and, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
    const tags = children(and, 'Tag').map(parseTagElement);
    if (new Set(tags.map((t) => t.key)).size !== tags.length) throw invalid('Duplicate Tag Keys are not allowed.');
    filter.and = { ...sizeBounds(and), tags };
    const andPrefix = textOf(and, 'Prefix');
    if (andPrefix !== undefined) filter.and.prefix = andPrefix;
  }
  return filter;
}

const hasTags = (f: LifecycleFilter | undefined) => !!f && (!!f.tag || (f.and?.tags.length ?? 0) > 0);

function parseRule(node: XmlObject, newId: () => string): LifecycleRule {
  onlyChildren(node, [
    'ID',
    'Status',
    'Prefix',
    'Filter',
    'Expiration',
    'NoncurrentVersionExpiration',
    'AbortIncompleteMultipartUpload',
    'Transition',
    'NoncurrentVersionTransition',
  ]);
  const id = textOf(node, 'ID');
  if (id !== undefined && id.length > MAX_ID) throw invalid(`ID length should not exceed allowed limit of ${MAX_ID}`);
  const status = textOf(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw malformed('Status must be Enabled or Disabled.');
  const rule: LifecycleRule = { id: id || newId(), status };

  const prefix = textOf(node, 'Prefix');
  const filter = child(node, 'Filter');
  if ((prefix === undefined) === (filter === undefined)) throw malformed('A rule needs exactly one of Prefix and Filter.');
  if (prefix !== undefined) rule.prefix = prefix;
  if (filter) rule.filter = parseFilter(filter);

  const exp = child(node, 'Expiration');
  if (exp) {
    onlyChildren(exp, ['Days', 'Date', 'ExpiredObjectDeleteMarker']);
    const days = positiveInt(textOf(exp, 'Days'), 'Days');
    const date = textOf(exp, 'Date');
    const marker = textOf(exp, 'ExpiredObjectDeleteMarker');
    if ([days, date, marker].filter((v) => v !== undefined).length !== 1)
      throw malformed('Expiration needs exactly one of Days, Date and ExpiredObjectDeleteMarker.');
    if (marker !== undefined && marker !== 'true' && marker !== 'false') throw malformed('ExpiredObjectDeleteMarker must be true or false.');
    if (marker === 'true' && hasTags(rule.filter)) throw invalid('ExpiredObjectDeleteMarker cannot be specified with object tags.');
    rule.expiration = days !== undefined ? { days } : date !== undefined ? { date: midnight(date, 'Date') } : { expiredObjectDeleteMarker: marker === 'true' };
  }
  const nve = child(node, 'NoncurrentVersionExpiration');
  if (nve) {
    onlyChildren(nve, ['NoncurrentDays', 'NewerNoncurrentVersions']);
    const noncurrentDays = positiveInt(textOf(nve, 'NoncurrentDays'), 'NoncurrentDays');
    if (noncurrentDays === undefined) throw malformed('NoncurrentVersionExpiration needs NoncurrentDays.');
    const newer = positiveInt(textOf(nve, 'NewerNoncurrentVersions'), 'NewerNoncurrentVersions');
    if (newer !== undefined && newer > 100) throw invalid("'NewerNoncurrentVersions' must be at most 100.");
    rule.noncurrentVersionExpiration = newer === undefined ? { noncurrentDays } : { noncurrentDays, newerNoncurrentVersions: newer };
  }
  const abort = child(node, 'AbortIncompleteMultipartUpload');
  if (abort) {
    onlyChildren(abort, ['DaysAfterInitiation']);
    const daysAfterInitiation = positiveInt(textOf(abort, 'DaysAfterInitiation'), 'DaysAfterInitiation');
    if (daysAfterInitiation === undefined) throw malformed('AbortIncompleteMultipartUpload needs DaysAfterInitiation.');
    if (hasTags(rule.filter)) throw invalid('AbortIncompleteMultipartUpload cannot be specified with Tags.');
    rule.abortIncompleteMultipartUpload = { daysAfterInitiation };
  }
  // Transitions: checked like S3 would (so a bad date is still a 400), then refused.
  const transitions = [...children(node, 'Transition'), ...children(node, 'NoncurrentVersionTransition')];
  for (const t of transitions) {
    const date = textOf(t, 'Date');
    if (date !== undefined) midnight(date, 'Date');
    positiveInt(textOf(t, 'Days'), 'Days', 0);
    positiveInt(textOf(t, 'NoncurrentDays'), 'NoncurrentDays', 0);
  }
  if (transitions.length) throw s3Error('NotImplemented', 'Transitions are not supported: Cairn has a single storage class.');
  if (!rule.expiration && !rule.noncurrentVersionExpiration && !rule.abortIncompleteMultipartUpload) {
    throw s3Error('InvalidRequest', 'At least one action needs to be specified in a rule.');
  }
  return rule;
}

/** PutBucketLifecycleConfiguration body → rules. A rule without an ID gets one from `newId`. */
export function parseLifecycleConfiguration(body: string, newId: () => string = () => Buffer.from(randomUUID()).toString('base64')): LifecycleRule[] {
  const root = parseDocument(body, 'LifecycleConfiguration', ['Rule', 'Tag', 'Transition', 'NoncurrentVersionTransition']);
  onlyChildren(root, ['Rule']);
  const nodes = children(root, 'Rule');
  if (nodes.length === 0) throw malformed();
  if (nodes.length > MAX_LIFECYCLE_RULES)
    throw s3Error('InvalidRequest', `The number of lifecycle rules should not exceed allowed limit of ${MAX_LIFECYCLE_RULES} rules.`);
  const rules = nodes.map((n) => parseRule(n, newId));
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) throw invalid('Rule ID must be unique. Found same ID for more than one rule');
    ids.add(r.id);
  }
  return rules;
}

const tagXml = (t: Tag) => ({ Key: t.key, Value: t.value });

function filterXml(f: LifecycleFilter): XmlObject {
  const outer: XmlObject = {
    Prefix: f.prefix,
    Tag: f.tag ? tagXml(f.tag) : undefined,
    ObjectSizeGreaterThan: f.sizeGreaterThan,
    ObjectSizeLessThan: f.sizeLessThan,
  };
  if (!f.and) return outer;
  return {
    ...outer,
    And: { Prefix: f.and.prefix, Tag: f.and.tags.map(tagXml), ObjectSizeGreaterThan: f.and.sizeGreaterThan, ObjectSizeLessThan: f.and.sizeLessThan },
  };
}

/** GetBucketLifecycleConfiguration answer. */
export function renderLifecycleConfiguration(rules: readonly LifecycleRule[]): string {
  return buildXml('LifecycleConfiguration', {
    Rule: rules.map((r) => ({
      ID: r.id,
      Prefix: r.prefix,
      Filter: r.filter ? filterXml(r.filter) : undefined,
      Status: r.status,
      Expiration: r.expiration && {
        Days: r.expiration.days,
        Date: r.expiration.date === undefined ? undefined : new Date(r.expiration.date).toISOString(),
        ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker,
      },
      NoncurrentVersionExpiration: r.noncurrentVersionExpiration && {
        NoncurrentDays: r.noncurrentVersionExpiration.noncurrentDays,
        NewerNoncurrentVersions: r.noncurrentVersionExpiration.newerNoncurrentVersions,
      },
      AbortIncompleteMultipartUpload: r.abortIncompleteMultipartUpload && { DaysAfterInitiation: r.abortIncompleteMultipartUpload.daysAfterInitiation },
    })),
  });
}
