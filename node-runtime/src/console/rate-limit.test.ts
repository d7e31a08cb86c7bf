// Sign-in limits (pure): a burst, then one attempt per refill interval, with the wait to announce;
// per address and per key; a refused attempt costs nothing; the table stays bounded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SignInLimiter, TokenBuckets } from './rate-limit.ts';

test('a burst, then the wait until the next token', () => {
  const b = new TokenBuckets({ burst: 3, perMinute: 6 });
  for (let i = 0; i < 3; i++) assert.is(b.take('x', 0), 0);
  assert.is(b.take('x', 0), 10_000);
  assert.is(b.take('x', 4_000), 6_000);
  assert.is(b.take('x', 10_000), 0);
  assert.is(b.take('y', 10_000), 0, 'another key has its own bucket');
});

test('both limits apply; a refused attempt is not charged', () => {
  const l = new SignInLimiter({ perAddress: { burst: 3, perMinute: 6 }, perKey: { burst: 2, perMinute: 6 } });
  assert.is(l.attempt('1.1.1.1', 'K', 0), 0);
  assert.is(l.attempt('2.2.2.2', 'K', 0), 0);
  assert.ok(l.attempt('3.3.3.3', 'K', 0) > 0, 'the key is limited across addresses');
  assert.is(l.attempt('1.1.1.1', 'L', 0), 0);
  assert.is(l.attempt('1.1.1.1', 'M', 0), 0);
  assert.ok(l.attempt('1.1.1.1', 'N', 0) > 0, 'the address is limited across keys');
  assert.is(l.attempt('4.4.4.4', 'N', 0), 0, 'N was not charged by the refusal');
});

test('the table is bounded: full buckets go first, then the oldest', () => {
  const b = new TokenBuckets({ burst: 1, perMinute: 60 }, 100);
  for (let i = 0; i < 1000; i++) b.take(`k${i}`, i);
  assert.ok(b.size() <= 100, String(b.size()));
});

test.run();
