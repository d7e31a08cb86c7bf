// Version ids and ListObjectVersions pages, with s3-tests' versioning scenarios
// (test_versioning_obj_list_marker, the null version of suspended buckets, stacked delete markers).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../../util/errors.ts';
import {
  compareKeys,
  compareListOrder,
  listVersionsPage,
  newVersionId,
  NULL_VERSION_ID,
  parseVersionIdParam,
  versionIdTime,
  type ListedVersion,
  type ListVersionsParams,
} from './versioning.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'no error';
}

test('version ids: 24 characters, newer sorts first, the time reads back, randomness keeps same-time ids apart', () => {
  const t0 = Date.parse('2026-03-01T12:00:00.123Z') + 0.456;
  const ids = [t0, t0 + 0.001, t0 + 1, t0 + 86_400_000].map((t) => newVersionId(t));
  assert.ok(ids.every((id) => /^[0-9a-v]{24}$/.test(id)));
  assert.equal([...ids].sort(), [...ids].reverse());
  assert.is(versionIdTime(ids[0]), Math.floor(t0 * 1000) / 1000);
  assert.is.not(newVersionId(t0), newVersionId(t0));
  assert.is(versionIdTime(NULL_VERSION_ID), undefined);
  assert.is(versionIdTime('3f2a9k1b2c'), undefined);
  assert.is(newVersionId(0, new Uint8Array(8)), 'vvvvvvvvvvv0000000000000');
});

test('version id parameters are opaque: null and any 1..1024 bytes; empty, longer or control characters are InvalidArgument', () => {
  assert.is(parseVersionIdParam('null'), 'null');
  assert.is(
    parseVersionIdParam('3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo'),
    '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo',
  );
  assert.is(
    code(() => parseVersionIdParam('')),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parseVersionIdParam('x'.repeat(1025))),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parseVersionIdParam('a\nb')),
    '400 InvalidArgument',
  );
});

test('key order is UTF-8 byte order', () => {
  assert.ok(compareKeys('testobj', 'testobj-1') < 0);
  assert.ok(compareKeys('\uffff', '\u{10000}') < 0); // UTF-16 order says the opposite
  assert.ok('\uffff' > '\u{10000}');
  assert.is(compareKeys('a', 'a'), 0);
});

// A bucket's versions as the metadata layer would hold them.
interface V extends ListedVersion {
  deleteMarker: boolean;
}
let clock = Date.parse('2026-03-01T00:00:00Z');
function put(key: string, opts: { nullVersion?: boolean; deleteMarker?: boolean } = {}): V {
  const timestamp = (clock += 1000);
  return { key, versionId: opts.nullVersion ? NULL_VERSION_ID : newVersionId(timestamp), timestamp, writer: 'n1', deleteMarker: !!opts.deleteMarker };
}
const sort = (vs: V[]) => [...vs].sort(compareListOrder);
const ids = (vs: { versionId: string }[]) => vs.map((v) => v.versionId);

function allPages(sorted: V[], params: Omit<ListVersionsParams, 'keyMarker' | 'versionIdMarker'>) {
  const seen: (V & { isLatest: boolean })[] = [];
  const prefixes: string[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (let i = 0; i < 100; i++) {
    const p = listVersionsPage(sorted, { ...params, keyMarker, versionIdMarker });
    seen.push(...p.entries);
    prefixes.push(...p.commonPrefixes);
    if (!p.isTruncated) return { seen, prefixes };
    ({ nextKeyMarker: keyMarker, nextVersionIdMarker: versionIdMarker } = p);
  }
  throw new Error('no end');
}

test('order and IsLatest: keys in byte order, newest first, one latest per key (test_versioning_obj_list_marker)', () => {
  const v1 = Array.from({ length: 5 }, () => put('testobj'));
  const v2 = Array.from({ length: 5 }, () => put('testobj-1'));
  const page = listVersionsPage(sort([...v2, ...v1]), { maxKeys: 1000 });
  assert.equal(ids(page.entries), [...ids(v1).reverse(), ...ids(v2).reverse()]);
  assert.equal(
    page.entries.map((e) => e.isLatest),
    [true, false, false, false, false, true, false, false, false, false],
  );
  assert.is(page.isTruncated, false);
  assert.is(page.nextKeyMarker, undefined);
});

test('paging by key and version-id markers visits every version once, IsLatest intact across pages', () => {
  const all = sort([...Array.from({ length: 4 }, () => put('a')), put('b'), ...Array.from({ length: 3 }, () => put('c'))]);
  for (const maxKeys of [1, 2, 3, 7, 8]) {
    const { seen } = allPages(all, { maxKeys });
    assert.equal(ids(seen), ids(all), `maxKeys ${maxKeys}`);
    assert.equal(
      seen.filter((e) => e.isLatest).map((e) => e.key),
      ['a', 'b', 'c'],
    );
  }
  const first = listVersionsPage(all, { maxKeys: 2 });
  assert.equal([first.isTruncated, first.nextKeyMarker, first.nextVersionIdMarker], [true, 'a', all[1].versionId]);
  // a key marker alone skips every version of that key
  assert.equal(ids(listVersionsPage(all, { maxKeys: 10, keyMarker: 'a' }).entries), ids(all.slice(4)));
  assert.is(
    code(() => listVersionsPage(all, { maxKeys: 10, versionIdMarker: all[0].versionId })),
    '400 InvalidArgument',
  );
  assert.equal(listVersionsPage(all, { maxKeys: 0 }), { entries: [], commonPrefixes: [], isTruncated: false });
});

test('the null version sits by its time; delete markers are versions (suspended buckets, test_versioning_stack_delete_merkers)', () => {
  const older = put('k');
  const nullVersion = put('k', { nullVersion: true });
  const newer = put('k');
  const markers = [put('k', { deleteMarker: true }), put('k', { deleteMarker: true })];
  const all = sort([nullVersion, older, ...markers, newer]);
  assert.equal(ids(all), [markers[1].versionId, markers[0].versionId, newer.versionId, 'null', older.versionId]);
  const page = listVersionsPage(all, { maxKeys: 10 });
  assert.ok(page.entries[0].isLatest && page.entries[0].deleteMarker);
  // resuming after the null version
  assert.equal(ids(listVersionsPage(all, { maxKeys: 10, keyMarker: 'k', versionIdMarker: 'null' }).entries), [older.versionId]);
  assert.equal(ids(allPages(all, { maxKeys: 2 }).seen), ids(all));
});

test('a version-id marker whose version is gone resumes by the time in its id', () => {
  const vs = Array.from({ length: 4 }, () => put('k'));
  const all = sort(vs); // newest first: vs[3], vs[2], vs[1], vs[0]
  const without = all.filter((v) => v.versionId !== vs[2].versionId);
  assert.equal(ids(listVersionsPage(without, { maxKeys: 10, keyMarker: 'k', versionIdMarker: vs[2].versionId }).entries), [vs[1].versionId, vs[0].versionId]);
});

test('prefix and delimiter: common prefixes count once toward max-keys and a prefix marker resumes after it', () => {
  const all = sort([put('photos/2026/a'), put('photos/2026/b'), put('photos/2026/b'), put('photos/top'), put('photos/2027/x'), put('videos/v')]);
  const one = listVersionsPage(all, { prefix: 'photos/', delimiter: '/', maxKeys: 1000 });
  assert.equal(one.commonPrefixes, ['photos/2026/', 'photos/2027/']);
  assert.equal(
    one.entries.map((e) => e.key),
    ['photos/top'],
  );
  const paged = allPages(all, { prefix: 'photos/', delimiter: '/', maxKeys: 1 });
  assert.equal(paged.prefixes, ['photos/2026/', 'photos/2027/']);
  assert.equal(
    paged.seen.map((e) => e.key),
    ['photos/top'],
  );
  const first = listVersionsPage(all, { prefix: 'photos/', delimiter: '/', maxKeys: 1 });
  assert.equal([first.nextKeyMarker, first.nextVersionIdMarker], ['photos/2026/', undefined]);
});

test.run();
