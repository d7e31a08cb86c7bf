import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObjectVersion } from './records.ts';
import { comparePositions, currentOf, lastChangeOf, mergeSlots, s3VersionId, slotOf, versionsNewestFirst } from './slots.ts';

const rec = (versionId: string, timestamp: number, over: Partial<ObjectVersion> = {}): ObjectVersion => ({
  bucket: 'b',
  key: 'k',
  versionId,
  timestamp,
  writer: 'n1',
  deleted: false,
  size: 1,
  etag: 'e',
  userMeta: {},
  chunks: [],
  replicas: 1,
  versioned: true,
  ...over,
});

test('slots: the null version is slot "" and id "null"; a versioned record is its own id', () => {
  assert.is(slotOf(rec('x', 1, { versioned: undefined })), '');
  assert.is(s3VersionId(rec('x', 1, { versioned: undefined })), 'null');
  assert.is(slotOf(rec('x', 1)), 'x');
});

test('current: the newest slot not removed; a delete marker counts, a removal does not', () => {
  const a = rec('a', 1),
    b = rec('b', 2),
    marker = rec('m', 3, { deleted: true, deleteMarker: true });
  assert.is(currentOf([a, b])?.versionId, 'b');
  assert.is(currentOf([a, b, marker])?.versionId, 'm');
  const removedB = rec('b', 4, { deleted: true });
  assert.is(currentOf([a, removedB])?.versionId, 'a');
  assert.is(lastChangeOf([a, removedB])?.timestamp, 4);
  assert.is(currentOf([rec('n', 5, { versioned: undefined, deleted: true })]), undefined);
});

test('mergeSlots: the union of what replicas hold, newest record per slot — a removal one replica missed still wins', () => {
  // X missed the removal of S1; Y missed S2; Z holds both removals: the current version is H.
  const h = rec('h', 1),
    s1 = rec('s1', 2),
    s2 = rec('s2', 3);
  const x = [h, s1, rec('s2', 9, { deleted: true })];
  const y = [h, rec('s1', 8, { deleted: true }), s2];
  const merged = mergeSlots([x, y]);
  assert.equal(
    merged.map((v) => [v.versionId, v.deleted]),
    [
      ['h', false],
      ['s1', true],
      ['s2', true],
    ],
  );
  assert.is(currentOf(merged)?.versionId, 'h');
  assert.equal(
    versionsNewestFirst([h, s1, s2]).map((v) => v.versionId),
    ['s2', 's1', 'h'],
  );
});

test('positions order keys as UTF-8 bytes, then slots, null slot first', () => {
  assert.ok(comparePositions({ key: 'a', slot: 'z' }, { key: 'a!', slot: '' }) < 0);
  assert.ok(comparePositions({ key: 'a', slot: '' }, { key: 'a', slot: '0' }) < 0);
  assert.ok(comparePositions({ key: '\uffff', slot: '' }, { key: '\u{10000}', slot: '' }) < 0);
});

test.run();
