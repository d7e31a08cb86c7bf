import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PeerHealth } from './peer-health.ts';

test('a failure suspects a member until it answers or the suspicion lapses', () => {
  let now = 0;
  const h = new PeerHealth({ suspectMs: 1000, now: () => now });
  assert.not.ok(h.suspected('a'));
  h.unreachable('a');
  h.unreachable('b');
  assert.ok(h.suspected('a'));
  assert.equal(h.suspects().sort(), ['a', 'b']);
  h.answered('b');
  assert.equal(h.suspects(), ['a']);
  now = 999;
  assert.ok(h.suspected('a'));
  now = 1000;
  assert.not.ok(h.suspected('a'), 'lapsed: tried again');
  assert.equal(h.suspects(), []);
});

test.run();
