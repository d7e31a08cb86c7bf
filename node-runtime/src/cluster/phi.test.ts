// Phi accrual: regular heartbeats make a stop visible within seconds; a jittery history (GC
// pauses) buys slack instead of flapping; phi only grows with silence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PhiAccrual, phiOf } from './phi.ts';

const THRESHOLD = 8;

/** How long after the last heartbeat phi crosses the threshold, to 10 ms. */
function detectionMs(d: PhiAccrual, id: string, last: number): number {
  for (let t = 0; t < 120_000; t += 10) if (d.phi(id, last + t) >= THRESHOLD) return t;
  return Infinity;
}

test('a member that beats every second and stops is suspected within a few seconds', () => {
  const d = new PhiAccrual();
  let t = 0;
  for (let i = 0; i < 60; i++) {
    d.heartbeat('n1', t);
    t += 1000 + ((i * 37) % 40) - 20;
  }
  const last = d.lastHeartbeat('n1')!;
  assert.ok(d.phi('n1', last + 1000) < 1, 'a normal gap is unremarkable');
  const ms = detectionMs(d, 'n1', last);
  assert.ok(ms > 2_000 && ms < 6_000, `detected after ${ms} ms`);
});

test('a history with long pauses gets more slack: no flapping on the next pause', () => {
  const d = new PhiAccrual();
  let t = 0;
  // Mostly 1 s, with a 4 s stall every tenth beat.
  for (let i = 0; i < 80; i++) {
    d.heartbeat('n1', t);
    t += i % 10 === 9 ? 4_000 : 1_000;
  }
  const last = d.lastHeartbeat('n1')!;
  assert.ok(d.phi('n1', last + 4_000) < THRESHOLD, `a 4 s pause like the ones before is tolerated (phi ${d.phi('n1', last + 4_000).toFixed(2)})`);
  assert.ok(detectionMs(d, 'n1', last) < 15_000, 'but a real stop is still seen well before 30 s');
});

test('phi grows monotonically with silence; unknown members are not suspected', () => {
  let prev = -1;
  for (let t = 0; t <= 20_000; t += 250) {
    const p = phiOf(t, 2000, 500);
    assert.ok(p >= prev, `monotone at ${t}`);
    prev = p;
  }
  const d = new PhiAccrual();
  assert.is(d.phi('never', 1e12), 0);
  d.heartbeat('n1', 0);
  assert.ok(d.phi('n1', 60_000) > THRESHOLD, 'one beat and a minute of silence is suspicious');
  d.forget('n1');
  assert.is(d.phi('n1', 60_000), 0);
});

test.run();
