// Pure pieces of the data path: range resolution, chunk slicing, replica page merging, names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { piecesFor, resolveRange } from './read-path.ts';
import { commonPrefixOf, compareKeys, mergePages } from './listing.ts';
import { bucketNameProblem, checkKey } from './names.ts';
import type { ObjectVersion } from './types.ts';

test('resolveRange follows S3 rules', () => {
  assert.is(resolveRange(100), undefined);
  assert.equal(resolveRange(100, { start: 10, end: 19 }), { start: 10, end: 19 });
  assert.equal(resolveRange(100, { start: 90, end: 500 }), { start: 90, end: 99 });
  assert.equal(resolveRange(100, { start: 95 }), { start: 95, end: 99 });
  assert.equal(resolveRange(100, { suffix: 10 }), { start: 90, end: 99 });
  assert.equal(resolveRange(100, { suffix: 1000 }), { start: 0, end: 99 });
  for (const bad of [{ start: 100 }, { suffix: 0 }, { start: 5, end: 4 }])
    assert.throws(
      () => resolveRange(100, bad),
      (e: { code?: string }) => e.code === 'InvalidRange',
    );
  assert.throws(
    () => resolveRange(0, { start: 0 }),
    (e: { code?: string }) => e.code === 'InvalidRange',
  );
});

test('piecesFor slices exactly the chunks a range touches', () => {
  const chunks = [
    { id: 'a', size: 10 },
    { id: 'b', size: 10 },
    { id: 'c', size: 5 },
  ];
  assert.equal(
    piecesFor(chunks, 0, 24).map((p) => [p.id, p.start, p.end]),
    [
      ['a', 0, 9],
      ['b', 0, 9],
      ['c', 0, 4],
    ],
  );
  assert.equal(
    piecesFor(chunks, 9, 10).map((p) => [p.id, p.start, p.end]),
    [
      ['a', 9, 9],
      ['b', 0, 0],
    ],
  );
  assert.equal(
    piecesFor(chunks, 21, 22).map((p) => [p.id, p.start, p.end]),
    [['c', 1, 2]],
  );
});

const v = (key: string, timestamp: number, deleted = false) => ({ key, timestamp, deleted, writer: 'w', versionId: String(timestamp) }) as ObjectVersion;

test('mergePages: newest per key, cut at the shortest full page', () => {
  const a = [v('a', 1), v('b', 5), v('c', 1)]; // full (limit 3): complete only up to c
  const b = [v('a', 2), v('b', 1, true)]; // short: b has nothing after
  const r = mergePages([a, b], 3);
  assert.equal(
    r.versions.map((x) => [x.key, x.timestamp]),
    [
      ['a', 2],
      ['b', 5],
      ['c', 1],
    ],
  );
  assert.not.ok(r.complete);
  const c = [v('a', 1), v('z', 1)];
  const r2 = mergePages([[v('a', 1), v('b', 1)], c], 2);
  assert.equal(
    r2.versions.map((x) => x.key),
    ['a', 'b'],
    'z is beyond b, where the first page stopped',
  );
  assert.ok(mergePages([[v('a', 1)], []], 2).complete);
});

test('mergePages: versions of a key merge slot by slot; a full page cut inside a key names where to resume', () => {
  const s = (key: string, versionId: string, timestamp: number, deleted = false) =>
    ({ key, versionId, versioned: true, timestamp, deleted, writer: 'w' }) as ObjectVersion;
  const a = [s('k', 'v1', 1), s('k', 'v2', 2)]; // full at limit 2, inside k
  const b = [s('k', 'v1', 9, true), s('k', 'v2', 2), s('k', 'v3', 3)];
  const r = mergePages([a, b], 2);
  assert.equal(
    r.versions.map((x) => [x.versionId, x.deleted]),
    [
      ['v1', true],
      ['v2', false],
    ],
    'v3 is past where a stopped',
  );
  assert.equal(r.bound, { key: 'k', slot: 'v2' });
});

test('keys order as UTF-8 bytes; common prefixes', () => {
  assert.ok(compareKeys('\uffff', '\u{10000}') < 0, 'BMP max sorts before astral in UTF-8 (not in UTF-16)');
  assert.is(commonPrefixOf('a/b/c', 'a/', '/'), 'a/b/');
  assert.is(commonPrefixOf('a/b', 'a/', '/'), undefined);
  assert.is(commonPrefixOf('a/b', '', undefined), undefined);
});

test('names: bucket rules and key length', () => {
  for (const ok of ['abc', 'my-bucket.1', 'a'.repeat(63)]) assert.is(bucketNameProblem(ok), undefined, ok);
  for (const bad of [
    'ab',
    'A-b',
    'a_b',
    '-ab',
    'ab-',
    'a..b',
    '10.0.0.1',
    'a'.repeat(64),
    'xn--abc',
    'sthree-x',
    'amzn-s3-demo-x',
    'x-s3alias',
    'x--ol-s3',
    'x.mrap',
    'x--x-s3',
    'x--table-s3',
  ])
    assert.ok(bucketNameProblem(bad), bad);
  checkKey('é'.repeat(512));
  assert.throws(
    () => checkKey('é'.repeat(513)),
    (e: { code?: string }) => e.code === 'KeyTooLongError',
  );
  assert.throws(
    () => checkKey(''),
    (e: { code?: string }) => e.code === 'InvalidArgument',
  );
});

test.run();
