import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatHotSpots, hotSpots, type CpuProfile } from './cpuprofile.ts';

const frame = (functionName: string, line = 0) => ({ functionName, url: 'file:///w/node-runtime/src/chunks/store.ts', lineNumber: line });

test('self time per function, summed over samples, largest first', () => {
  const p: CpuProfile = {
    startTime: 0,
    endTime: 100,
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('hashChunk', 9) },
      { id: 3, callFrame: frame('') },
    ],
    samples: [2, 2, 3, 2],
    timeDeltas: [0, 1000, 1000, 3000, 1000], // deltas[i + 1] belongs to samples[i]
  };
  const spots = hotSpots(p);
  assert.is(spots[0]!.fn, 'hashChunk');
  assert.is(spots[0]!.selfMs, 3);
  assert.is(spots[0]!.where, 'node-runtime/src/chunks/store.ts:10');
  assert.is(spots[1]!.fn, '(anonymous)');
  assert.is(Math.round(spots[0]!.share * 100), 50);
  assert.match(formatHotSpots(spots), /50\.0 %.*hashChunk/);
});

test("lastMs keeps only the samples of the profile's last milliseconds", () => {
  const p: CpuProfile = {
    startTime: 0,
    endTime: 10_000,
    nodes: [
      { id: 1, callFrame: frame('early') },
      { id: 2, callFrame: frame('late') },
    ],
    samples: [1, 1, 2, 2],
    timeDeltas: [0, 1000, 5000, 1000, 1000], // samples at 0, 1, 6 and 7 ms
  };
  assert.equal(
    hotSpots(p, 10, 5).map((s) => s.fn),
    ['late'],
  );
  assert.equal(
    hotSpots(p)
      .map((s) => s.fn)
      .sort(),
    ['early', 'late'],
  );
});

test('an empty profile has no hot spots', () => {
  assert.equal(hotSpots({ startTime: 0, endTime: 0, nodes: [] }), []);
});

test.run();
