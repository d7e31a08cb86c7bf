import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RepairProgress } from './progress.ts';
import { TokenBucket } from '../util/throttle.ts';

test('rate and ETA follow the bytes moved per window', () => {
  let t = 0;
  const p = new RepairProgress({ windowMs: 1000, now: () => t });
  assert.is(p.etaSeconds(100), null, 'no rate yet');
  p.moved(500);
  t = 1000;
  p.moved(500);
  assert.is(p.rateBytesPerSec(), 1000);
  assert.is(p.etaSeconds(5000), 5);
  assert.is(p.etaSeconds(0), 0);
  assert.is(p.bytesMoved, 1000);
});

test('token bucket delays work past its rate and is unlimited at 0', () => {
  let t = 0;
  const b = new TokenBucket(1000, { now: () => t });
  assert.is(b.reserve(1000), 0);
  assert.is(b.reserve(500), 500);
  t = 2000;
  assert.is(b.reserve(100), 0);
  b.setRate(0);
  assert.is(b.reserve(1e9), 0);
});

test.run();
