// What the file list shows (pure): folders first, S3's order for names (so loaded rows never move
// as pages arrive), size and date orders both ways, a filter on the name, the virtual window.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObjectEntry } from '../../node-runtime/src/console/api.ts';
import { formatBytes, formatDuration, formatPercent, formatRelative } from './format.ts';
import { nextOrder, visibleEntries, windowOf } from './listing.ts';

const f = (key: string, size = 0, lastModified = '2024-01-01T00:00:00Z'): ObjectEntry => ({ key, folder: false, size, lastModified });
const d = (key: string): ObjectEntry => ({ key, folder: true, size: 0 });
const keys = (es: ObjectEntry[]) => es.map((e) => e.key);

test('folders first, then names in S3 order; sizes and dates both ways', () => {
  const es = [
    f('p/b.txt', 5, '2024-03-01T00:00:00Z'),
    d('p/z/'),
    f('p/B.txt', 50, '2024-01-01T00:00:00Z'),
    f('p/a10', 1),
    d('p/a/'),
    f('p/a9', 9, '2024-02-01T00:00:00Z'),
  ];
  assert.equal(keys(visibleEntries(es, { key: 'name', descending: false }, '')), ['p/a/', 'p/z/', 'p/B.txt', 'p/a10', 'p/a9', 'p/b.txt']);
  assert.equal(keys(visibleEntries(es, { key: 'size', descending: true }, '')), ['p/z/', 'p/a/', 'p/B.txt', 'p/a9', 'p/b.txt', 'p/a10']);
  assert.equal(keys(visibleEntries(es, { key: 'modified', descending: false }, '')).slice(2), ['p/B.txt', 'p/a10', 'p/a9', 'p/b.txt']);
  assert.equal(keys(visibleEntries(es, { key: 'name', descending: false }, ' B.T ')), ['p/B.txt', 'p/b.txt']);
  assert.equal(keys(es).length, 6, 'the loaded list itself is not reordered');
});

test('sort clicks and the virtual window', () => {
  assert.equal(nextOrder({ key: 'name', descending: false }, 'name'), { key: 'name', descending: true });
  assert.equal(nextOrder({ key: 'name', descending: true }, 'size'), { key: 'size', descending: false });
  assert.equal(windowOf(0, 440, 44, 100_000, 5), { first: 0, last: 15 });
  assert.equal(windowOf(44 * 50_000, 440, 44, 100_000, 5), { first: 49_995, last: 50_015 });
  assert.equal(windowOf(44 * 99_995, 440, 44, 100_000, 5), { first: 99_990, last: 100_000 });
});

test('sizes, percentages and durations read well', () => {
  assert.is(formatBytes(0), '0 B');
  assert.is(formatBytes(1536), '1.50 KiB');
  assert.is(formatBytes(40 * 1024 * 1024), '40.0 MiB');
  assert.is(formatPercent(1, 3), '33 %');
  assert.is(formatPercent(1, 300), '0.3 %');
  assert.is(formatDuration(42), '42 s');
  assert.is(formatDuration(3725), '1 h 2 min');
  assert.is(formatRelative(3600_000, 0), 'in 1 h');
  assert.is(formatRelative(0, 5000), '5 s ago');
});

test.run();
