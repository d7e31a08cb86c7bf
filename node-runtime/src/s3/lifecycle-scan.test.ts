// The lifecycle worker's reading of a key: facts per version and the actions due.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObjectVersion } from '../data/types.ts';
import { byKey, dueForKey, keyFacts } from './lifecycle-scan.ts';
import type { LifecycleRule } from './semantics/lifecycle.ts';

const DAY = 1000;
const v = (key: string, timestamp: number, deleted = false): ObjectVersion =>
  ({
    bucket: 'b',
    key,
    timestamp,
    versionId: `id${timestamp}`,
    writer: 'm0',
    deleted,
    size: deleted ? 0 : 5,
    etag: 'e',
    userMeta: {},
    chunks: [],
    replicas: 1,
  }) as ObjectVersion;
const rule = (r: Partial<LifecycleRule>): LifecycleRule => ({ id: 'r', status: 'Enabled', filter: {}, ...r });

test('facts: latest, noncurrent since the next newer version, newer noncurrent count, only version', () => {
  const facts = keyFacts([v('k', 30), v('k', 20), v('k', 10)]);
  assert.equal(
    facts.map((f) => [f.isLatest, f.noncurrentSince, f.newerNoncurrentCount, f.onlyVersion]),
    [
      [true, undefined, undefined, false],
      [false, 30, 0, undefined],
      [false, 20, 1, undefined],
    ],
  );
  assert.is(keyFacts([v('k', 5, true)])[0]!.onlyVersion, true);
  assert.is(keyFacts([v('k', 5, true)])[0]!.isDeleteMarker, true);
});

test('byKey keeps ListObjectVersions order and splits at key changes', () => {
  assert.equal(
    byKey([v('a', 2), v('a', 1), v('b', 3)]).map((g) => g.map((x) => `${x.key}${x.timestamp}`)),
    [['a2', 'a1'], ['b3']],
  );
});

test('due: current expiry by days; noncurrent by days since superseded; an expired marker; nothing for a disabled rule', () => {
  const now = 10_000;
  const expire = [rule({ expiration: { days: 2 } })];
  assert.equal(
    dueForKey(expire, [v('k', now - 3 * DAY)], now, { dayMs: DAY }).map((d) => d.action.kind),
    ['expire-current'],
  );
  assert.equal(dueForKey(expire, [v('k', now - 1 * DAY)], now, { dayMs: DAY }), []);
  const nc = [rule({ noncurrentVersionExpiration: { noncurrentDays: 1 } })];
  const versions = [v('k', now - 500), v('k', now - 5 * DAY), v('k', now - 6 * DAY)];
  // The second version became noncurrent 500 ms ago (not yet a day); the third 5 days ago.
  assert.equal(
    dueForKey(nc, versions, now, { dayMs: DAY }).map((d) => [d.action.kind, d.version.timestamp]),
    [['delete-noncurrent', now - 6 * DAY]],
  );
  const marker = [rule({ expiration: { expiredObjectDeleteMarker: true } })];
  assert.equal(
    dueForKey(marker, [v('k', now, true)], now, { dayMs: DAY }).map((d) => d.action.kind),
    ['remove-delete-marker'],
  );
  assert.equal(dueForKey(marker, [v('k', now, true), v('k', now - 1)], now, { dayMs: DAY }), []);
  assert.equal(dueForKey([rule({ status: 'Disabled', expiration: { days: 1 } })], [v('k', 0)], now, { dayMs: DAY }), []);
});

test.run();
