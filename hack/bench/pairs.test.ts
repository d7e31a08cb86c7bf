import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { orderOf, pairedRatios, type Round } from './pairs.ts';

test('rounds alternate which target runs first', () => {
  assert.equal(
    [0, 1, 2, 3].map((i) => orderOf(i, 'a', 'b')),
    [
      ['a', 'b'],
      ['b', 'a'],
      ['a', 'b'],
      ['b', 'a'],
    ],
  );
});

test('a ratio is read within each round, not across rounds', () => {
  // The machine slows down between rounds: the ratio of the two targets' medians (90 / 60 = 1.5×)
  // mixes runs made under different loads; the median of the rounds' own ratios does not.
  const rounds: Round[] = [
    { order: ['s3', 'c'], figures: { s3: 100, c: 180 } },
    { order: ['c', 's3'], figures: { s3: 60, c: 90 } },
    { order: ['s3', 'c'], figures: { s3: 30, c: 60 } },
  ];
  const { ratios, summary } = pairedRatios(rounds, 'c', 's3');
  assert.equal(ratios, [1.8, 1.5, 2]);
  assert.is(summary?.median, 1.8);
});

test('rounds missing a figure or with a zero anchor are left out; none left, no summary', () => {
  const rounds: Round[] = [
    { order: ['s3', 'c'], figures: { s3: 100, c: 150 } },
    { order: ['c', 's3'], figures: { c: 90 } },
    { order: ['s3', 'c'], figures: { s3: 0, c: 80 } },
    { order: ['c', 's3'], figures: { s3: 100, c: 50 } },
  ];
  const { ratios, summary } = pairedRatios(rounds, 'c', 's3');
  assert.equal(ratios, [1.5, 0.5]);
  assert.equal(summary, { median: 1, min: 0.5, max: 1.5, runs: [1.5, 0.5] });
  assert.is(pairedRatios([rounds[1]!], 'c', 's3').summary, undefined);
});

test.run();
