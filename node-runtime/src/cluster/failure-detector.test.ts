// The roots' failure detector: a member whose regular heartbeats stop is down within seconds (not
// the 30 s failure timeout), sooner when other members report it unreachable; a jittery member is
// not flapped; a member another root still hears is not down; reports alone condemn nobody.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FailureDetector, REPORT_TTL_MS } from './failure-detector.ts';

/** Heartbeats every `period` ms (± jitter) for `beats` beats; returns the time of the last one. */
function beat(d: FailureDetector, id: string, beats: number, period: number, jitter = 0, suspectsOf?: (i: number) => string[]): number {
  let t = 1_000_000;
  for (let i = 0; i < beats; i++) {
    d.heartbeat(id, t, suspectsOf?.(i) ?? []);
    if (i < beats - 1) t += period + ((i * 37) % (2 * jitter + 1)) - jitter;
  }
  return t;
}
const downAfter = (d: FailureDetector, id: string, last: number, heardAnywhere = 0) => {
  for (let t = 0; t < 60_000; t += 50) if (d.verdict(id, last + t, heardAnywhere)) return t;
  return Infinity;
};

test('regular 1 s heartbeats that stop: down in about 5 s, far below the 30 s failure timeout', () => {
  const d = new FailureDetector();
  const last = beat(d, 'n1', 30, 1000, 20);
  assert.is(d.verdict('n1', last + 1500), undefined, 'a late beat is no failure');
  const ms = downAfter(d, 'n1', last);
  assert.ok(ms >= 3_000 && ms <= 6_000, `down after ${ms} ms`);
  assert.is(d.verdict('never-heard', last + 60_000), undefined);
});

test('a report from another member that it cannot be reached makes the verdict come sooner, never alone', () => {
  const d = new FailureDetector();
  const last = beat(d, 'n1', 30, 1000, 20);
  const alone = downAfter(d, 'n1', last);
  d.heartbeat('n2', last + 500, ['n1']);
  const reported = downAfter(d, 'n1', last);
  assert.ok(reported < alone - 500, `reported: ${reported} ms, alone: ${alone} ms`);
  assert.is(d.verdict('n1', last + 900), undefined, 'a member that beats on time is never down on reports');
  const stale = new FailureDetector();
  const last2 = beat(stale, 'n1', 30, 1000, 20);
  stale.heartbeat('n2', last2 - REPORT_TTL_MS - 1, ['n1']);
  assert.is(downAfter(stale, 'n1', last2), alone, 'old reports do not count');
});

test('a jittery member gets the slack its history asks for: no flapping on pauses like its past ones', () => {
  const d = new FailureDetector();
  let t = 0;
  let last = 0;
  for (let i = 0; i < 80; i++) {
    d.heartbeat('n1', t);
    last = t;
    t += i % 10 === 9 ? 4_000 : 1_000;
  }
  assert.is(d.verdict('n1', last + 4_000), undefined);
  assert.ok(downAfter(d, 'n1', last) < 20_000);
});

test('a member another root still hears is not silent; a member marked down starts a fresh history', () => {
  const d = new FailureDetector();
  const last = beat(d, 'n1', 30, 1000);
  assert.is(d.verdict('n1', last + 10_000, last + 9_500), undefined, 'another root heard it 0.5 s ago');
  assert.ok(d.verdict('n1', last + 10_000, last));
  d.forget('n1');
  assert.is(d.verdict('n1', last + 10_000), undefined);
  d.heartbeat('n1', last + 60_000);
  d.heartbeat('n1', last + 61_000);
  assert.ok(downAfter(d, 'n1', last + 61_000) < 8_000, 'the outage is not in its history');
});

test.run();
