import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseZones, zoneForOrdinal } from './zones.ts';

test('pod i runs in zones[i % n]: consecutive ordinals cover every zone', () => {
  const zones = ['a', 'b', 'c'];
  assert.equal(
    [0, 1, 2, 3, 4, 5, 6].map((i) => zoneForOrdinal(`demo-nodes-${i}`, zones)),
    ['a', 'b', 'c', 'a', 'b', 'c', 'a'],
  );
  assert.is(zoneForOrdinal('demo-nodes-10', zones), 'b', 'multi-digit ordinals');
  assert.is(zoneForOrdinal('cairn-2-nodes-0', zones), 'a', 'only the last -<n> is the ordinal');
  assert.is(zoneForOrdinal('demo-nodes-7', ['only']), 'only');
});

test('without zones the zone is unset', () => {
  assert.is(zoneForOrdinal('demo-nodes-3', []), '');
  assert.is(zoneForOrdinal('no-ordinal', []), '', 'no ordinal needed when there is nothing to choose');
});

test('a name without an ordinal is refused with a clear message', () => {
  assert.throws(() => zoneForOrdinal('standalone', ['a', 'b']), /must end in -<ordinal>.*or give --zone/);
  assert.throws(() => zoneForOrdinal('demo-nodes-', ['a']), /must end in -<ordinal>/);
});

test('parseZones trims, drops empties and rejects bad or repeated names', () => {
  assert.equal(parseZones(' eu-west-1a, eu-west-1b ,,eu-west-1c'), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  assert.equal(parseZones(''), []);
  assert.throws(() => parseZones('a,b,a'), /zone a is listed twice/);
  assert.throws(() => parseZones('a,b c'), /"b c" is not a valid zone name/);
});

test.run();
