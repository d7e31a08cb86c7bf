import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomHex } from './random.ts';

test('randomHex: the asked length, hex, never repeating across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    // 2000 × 8 bytes: several 4 KiB pool refills
    const h = randomHex(8);
    assert.match(h, /^[0-9a-f]{16}$/);
    assert.not.ok(seen.has(h), 'an id repeated');
    seen.add(h);
  }
  assert.match(randomHex(3), /^[0-9a-f]{6}$/);
  assert.is(randomHex(5000).length, 10_000);
});

test.run();
