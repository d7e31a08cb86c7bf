import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TokenBucket } from './throttle.ts';

test('a token bucket lets its rate through and makes bigger bursts wait; 0 means unlimited', () => {
  let now = 0;
  const b = new TokenBucket(1000, { now: () => now });
  assert.is(b.reserve(1000), 0, 'a full bucket passes one second of bytes at once');
  assert.is(b.reserve(500), 500, 'then 500 more bytes wait half a second');
  now += 1500;
  assert.is(b.reserve(100), 0, 'refilled after the wait');
  b.setRate(0);
  assert.is(b.reserve(10_000_000), 0, 'unlimited');
  b.setRate(100);
  now += 10_000;
  assert.is(b.reserve(300), 2000, 'a rate changed at run time applies to the next reservation');
});

test.run();
