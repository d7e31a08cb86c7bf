import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ledger, body, sha256 } from './workload.ts';

test('bodies are deterministic per (key, version) and differ across versions', () => {
  assert.equal(body('k', 1, 100), body('k', 1, 100));
  assert.not.equal(sha256(body('k', 1, 100)), sha256(body('k', 2, 100)));
  assert.is(body('k', 1, 70).length, 70);
});

test('final state: the last acknowledged op, or a later unacknowledged one', () => {
  const l = new Ledger();
  l.attempt('a', { kind: 'put', sha: 'x' });
  l.ack('a', { kind: 'put', sha: 'x' });
  assert.ok(l.allowedFinal('a', 'x'));
  assert.not.ok(l.allowedFinal('a', null));
  l.attempt('a', { kind: 'delete' });
  l.fail('a', { kind: 'delete' });
  assert.ok(l.allowedFinal('a', null), 'a failed delete may still have landed');
  assert.ok(l.allowedFinal('a', 'x'));
  l.attempt('a', { kind: 'put', sha: 'y' });
  l.ack('a', { kind: 'put', sha: 'y' });
  assert.not.ok(l.allowedFinal('a', 'x'), 'an acknowledged overwrite supersedes everything before it');
  assert.ok(l.plausibleRead('a', 'x'));
  assert.not.ok(l.plausibleRead('a', 'zzz'));
  assert.is(l.operations, 3);
  assert.is(l.acknowledged, 2);
});

test.run();
