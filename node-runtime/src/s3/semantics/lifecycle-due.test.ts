// Lifecycle decisions: S3's day rounding, filters, noncurrent versions, delete markers, aborts and
// the x-amz-expiration header, with the scenarios of s3-tests' lifecycle_expiration group.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dueAction, dueAt, dueUploadAbort, expirationHeader, ruleSelects, type VersionFacts } from './lifecycle-due.ts';
import type { LifecycleRule } from './lifecycle.ts';

const DAY = 86_400_000;
const t = (iso: string) => Date.parse(iso);
const current = (over: Partial<VersionFacts> = {}): VersionFacts => ({
  key: 'expire1/foo',
  size: 3,
  tags: [],
  lastModified: t('2014-01-15T10:30:00Z'),
  isLatest: true,
  isDeleteMarker: false,
  ...over,
});
const rule = (over: Partial<LifecycleRule>): LifecycleRule => ({ id: 'r', status: 'Enabled', prefix: '', ...over });

test("day rounding: creation + N days, then the next midnight UTC (AWS's example: 01-15 10:30 + 3 days → 01-19 00:00)", () => {
  assert.is(new Date(dueAt(t('2014-01-15T10:30:00Z'), 3)).toISOString(), '2014-01-19T00:00:00.000Z');
  assert.is(new Date(dueAt(t('2014-01-15T00:00:00Z'), 1)).toISOString(), '2014-01-17T00:00:00.000Z');
  assert.is(new Date(dueAt(t('2014-01-15T23:59:59Z'), 1)).toISOString(), '2014-01-17T00:00:00.000Z');
  // a shortened test day (rgw_lc_debug_interval = 10 s) is not rounded
  assert.is(dueAt(1000, 3, { dayMs: 10_000 }), 31_000);
});

test('current versions expire by Days or Date when the rule selects them (test_lifecycle_expiration, _date)', () => {
  const r = [rule({ id: 'rule1', prefix: 'expire1/', expiration: { days: 1 } })];
  assert.is(dueAction(r, current(), t('2014-01-16T23:59:59Z')), undefined);
  assert.equal(dueAction(r, current(), t('2014-01-17T00:00:00Z')), { kind: 'expire-current', ruleId: 'rule1' });
  assert.is(dueAction(r, current({ key: 'keep2/foo' }), t('2015-01-01T00:00:00Z')), undefined);
  assert.is(dueAction([{ ...r[0], status: 'Disabled' }], current(), t('2015-01-01T00:00:00Z')), undefined);
  const byDate = [
    rule({ id: 'past', prefix: 'past/', expiration: { date: t('2015-01-01T00:00:00Z') } }),
    rule({ id: 'future', prefix: 'future/', expiration: { date: t('2030-01-01T00:00:00Z') } }),
  ];
  const now = t('2026-01-01T00:00:00Z');
  assert.equal(dueAction(byDate, current({ key: 'past/foo', lastModified: now - DAY }), now), { kind: 'expire-current', ruleId: 'past' });
  assert.is(dueAction(byDate, current({ key: 'future/bar' }), now), undefined);
});

test('filters: tags must all be present, sizes are strict bounds, Prefix+Tag both hold (test_lifecycle_expiration_tags1, _size_gt, _size_lt)', () => {
  const tagged = rule({ prefix: undefined, filter: { prefix: 'days1/', tag: { key: 'tom', value: 'sawyer' } } });
  assert.ok(
    ruleSelects(tagged, {
      key: 'days1/tom',
      size: 1,
      tags: [
        { key: 'tom', value: 'sawyer' },
        { key: 'x', value: 'y' },
      ],
    }),
  );
  assert.not.ok(ruleSelects(tagged, { key: 'days1/tom', size: 1, tags: [{ key: 'tom', value: 'finn' }] }));
  assert.not.ok(ruleSelects(tagged, { key: 'days2/tom', size: 1, tags: [{ key: 'tom', value: 'sawyer' }] }));
  const and = rule({
    prefix: undefined,
    filter: {
      and: {
        tags: [
          { key: 'key1', value: 'tag1' },
          { key: 'key5', value: 'tag6' },
        ],
      },
    },
  });
  assert.not.ok(
    ruleSelects(and, {
      key: 'obj_key1',
      size: 1,
      tags: [
        { key: 'key1', value: 'tag1' },
        { key: 'key5', value: 'tag5' },
      ],
    }),
  );
  const gt = rule({ prefix: undefined, filter: { prefix: '', sizeGreaterThan: 2000 } });
  const lt = rule({ prefix: undefined, filter: { prefix: '', sizeLessThan: 2000 } });
  assert.equal(
    [1000, 2000, 3000].map((size) => ruleSelects(gt, { key: 'k', size, tags: [] })),
    [false, false, true],
  );
  assert.equal(
    [1000, 2000, 3000].map((size) => ruleSelects(lt, { key: 'k', size, tags: [] })),
    [true, false, false],
  );
  assert.ok(ruleSelects(rule({ prefix: undefined, filter: {} }), { key: 'anything', size: 0, tags: [] }));
});

test('noncurrent versions: NoncurrentDays from becoming noncurrent; NewerNoncurrentVersions keeps the newest N (test_lifecycle_expiration_newer_noncurrent)', () => {
  const r = [rule({ id: 'nc', noncurrentVersionExpiration: { noncurrentDays: 2 } })];
  const since = t('2026-03-01T12:00:00Z');
  const v = current({ isLatest: false, lastModified: since - 5 * DAY, noncurrentSince: since });
  assert.is(dueAction(r, v, t('2026-03-03T23:59:59Z')), undefined);
  assert.equal(dueAction(r, v, t('2026-03-04T00:00:00Z')), { kind: 'delete-noncurrent', ruleId: 'nc' });
  // a current-version Expiration does nothing to noncurrent versions
  assert.is(dueAction([rule({ expiration: { days: 1 } })], v, t('2027-01-01T00:00:00Z')), undefined);
  // 10 versions: 1 current, 9 noncurrent; keep 5 newer noncurrent → the 4 oldest go, 6 remain
  const keep5 = [rule({ id: 'newer', noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 5 } })];
  const now = t('2026-06-01T00:00:00Z');
  const deleted = Array.from({ length: 9 }, (_, newer) =>
    dueAction(keep5, current({ isLatest: false, noncurrentSince: t('2026-01-01T00:00:00Z'), newerNoncurrentCount: newer }), now),
  ).filter(Boolean).length;
  assert.is(deleted, 4);
});

test("delete markers: an expired one (only version left) goes with ExpiredObjectDeleteMarker at once, or after the rule's Days (test_lifecycle_deletemarker_expiration*)", () => {
  const created = t('2026-03-01T12:00:00Z');
  const marker = current({ key: 'test1/a', size: 0, isDeleteMarker: true, lastModified: created, onlyVersion: true });
  const eodm = [rule({ id: 'dm', prefix: 'test1/', expiration: { expiredObjectDeleteMarker: true } })];
  assert.equal(dueAction(eodm, marker, created), { kind: 'remove-delete-marker', ruleId: 'dm' });
  assert.is(dueAction(eodm, { ...marker, onlyVersion: false }, created + 100 * DAY), undefined);
  const withDays = [rule({ id: 'd5', prefix: 'test1/', expiration: { days: 5 }, noncurrentVersionExpiration: { noncurrentDays: 1 } })];
  const debug = { dayMs: 10_000 };
  assert.is(dueAction(withDays, marker, created + 20_000, debug), undefined);
  assert.equal(dueAction(withDays, marker, created + 60_000, debug), { kind: 'remove-delete-marker', ruleId: 'd5' });
  // a latest delete marker is never "expired current"; tag filters never select it
  assert.is(dueAction([rule({ expiration: { days: 1 } })], { ...marker, onlyVersion: false }, created + 100 * DAY), undefined);
  // a noncurrent delete marker is a noncurrent version
  assert.equal(
    dueAction(
      [rule({ id: 'nc', noncurrentVersionExpiration: { noncurrentDays: 1 } })],
      { ...marker, isLatest: false, noncurrentSince: created },
      created + 3 * DAY,
    ),
    { kind: 'delete-noncurrent', ruleId: 'nc' },
  );
});

test('first due enabled rule wins', () => {
  const rules = [
    rule({ id: 'late', expiration: { days: 30 } }),
    rule({ id: 'off', status: 'Disabled', expiration: { days: 1 } }),
    rule({ id: 'soon', expiration: { days: 1 } }),
  ];
  assert.equal(dueAction(rules, current(), t('2014-02-01T00:00:00Z')), { kind: 'expire-current', ruleId: 'soon' });
  assert.equal(dueAction(rules, current(), t('2014-03-01T00:00:00Z')), { kind: 'expire-current', ruleId: 'late' });
});

test('incomplete multipart uploads abort DaysAfterInitiation later, by prefix (test_lifecycle_multipart_expiration)', () => {
  const rules = [rule({ id: 'rule1', prefix: 'test1/', abortIncompleteMultipartUpload: { daysAfterInitiation: 2 } })];
  const initiated = t('2026-03-01T12:00:00Z');
  assert.is(dueUploadAbort(rules, { key: 'test1/a', initiated }, t('2026-03-03T23:00:00Z')), undefined);
  assert.is(dueUploadAbort(rules, { key: 'test1/a', initiated }, t('2026-03-04T00:00:00Z')), 'rule1');
  assert.is(dueUploadAbort(rules, { key: 'test2/', initiated }, t('2027-01-01T00:00:00Z')), undefined);
});

test('x-amz-expiration: the earliest Expiration of the selecting rules, none when no rule selects (test_lifecycle_expiration_header_*)', () => {
  const created = t('2026-03-01T12:00:00Z');
  const rules = [rule({ id: 'rule1', prefix: 'days1/', expiration: { days: 1 } }), rule({ id: 'rule2', prefix: 'days1/', expiration: { days: 5 } })];
  assert.is(
    expirationHeader(rules, { key: 'days1/foo', size: 3, tags: [], lastModified: created }),
    'expiry-date="Tue, 03 Mar 2026 00:00:00 GMT", rule-id="rule1"',
  );
  assert.is(expirationHeader(rules, { key: 'other', size: 3, tags: [], lastModified: created }), undefined);
  const byTag = [rule({ id: 'rule1', prefix: undefined, filter: { tag: { key: 'key2', value: 'tag1' } }, expiration: { days: 1 } })];
  assert.is(expirationHeader(byTag, { key: 'obj_key1', size: 3, tags: [{ key: 'key1', value: 'tag1' }], lastModified: created }), undefined);
  assert.is(
    expirationHeader([rule({ noncurrentVersionExpiration: { noncurrentDays: 1 } })], { key: 'k', size: 1, tags: [], lastModified: created }),
    undefined,
  );
});

test.run();
