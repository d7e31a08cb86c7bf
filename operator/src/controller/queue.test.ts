import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../hack/testing/net.ts';
import { backoffDelay } from './backoff.ts';
import { CADENCE, requeueAfter } from './cadence.ts';
import { TerminalError, WorkQueue, type ReconcileOutcome } from './queue.ts';

test('backoff doubles from 0.8 s to a 30 s cap, jitter within ±20%', () => {
  const mid = () => 0.5;
  assert.equal(
    [1, 2, 3, 4, 5, 6, 7, 10].map((n) => backoffDelay(n, {}, mid)),
    [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000],
  );
  assert.is(
    backoffDelay(1, {}, () => 0),
    640,
  );
  assert.is(
    backoffDelay(1, {}, () => 1),
    960,
  );
  // The kubelet's crash-loop backoff: 10 s doubling to 5 min, no jitter.
  const crashLoop = { baseMs: 10_000, maxMs: 300_000, jitter: 0 };
  assert.equal(
    [1, 2, 3, 5, 6, 9].map((n) => backoffDelay(n, crashLoop)),
    [10_000, 20_000, 40_000, 160_000, 300_000, 300_000],
  );
});

test('cadence: fast while converging or draining, slow when Ready', () => {
  const base = { ready: true, draining: false, rebalancing: false, adminReachable: true };
  assert.is(requeueAfter(base), CADENCE.readyMs);
  assert.is(requeueAfter({ ...base, ready: false }), CADENCE.convergingMs);
  assert.is(requeueAfter({ ...base, ready: false, draining: true }), CADENCE.drainingMs);
  assert.is(requeueAfter({ ...base, rebalancing: true }), CADENCE.rebalancingMs);
  assert.is(requeueAfter({ ...base, autoscaling: true }), CADENCE.autoscalingMs, 'usage is watched by looking: no event says it grew');
  assert.is(requeueAfter({ ...base, adminReachable: false, ready: false }), CADENCE.unreachableMs);
  assert.ok(CADENCE.convergingMs < CADENCE.readyMs);
});

test('keys coalesce and one key never runs twice at once', async () => {
  const q = new WorkQueue();
  let active = 0,
    maxActive = 0,
    runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const done = q.run(4, async (key) => {
    assert.is(key, 'ns/a');
    active++;
    maxActive = Math.max(maxActive, active);
    runs++;
    if (runs === 1) await gate;
    active--;
  });
  q.add('ns/a');
  q.add('ns/a');
  q.add('ns/a');
  await waitFor(() => runs === 1);
  q.add('ns/a');
  q.add('ns/a'); // while running: marks dirty once
  release();
  await waitFor(() => runs === 2 && active === 0);
  q.stop();
  await done;
  assert.is(maxActive, 1);
  assert.is(runs, 2);
});

test('errors back off per key; terminal errors are not retried; requeueAfter comes back', async () => {
  const outcomes: [string, ReconcileOutcome][] = [];
  const q = new WorkQueue({ backoff: { baseMs: 5, maxMs: 20 }, onDone: (k, o) => outcomes.push([k, o]) });
  let flaky = 0;
  const done = q.run(2, async (key) => {
    if (key === 'flaky' && ++flaky < 3) throw new Error('boom');
    if (key === 'bad') throw new TerminalError('InvalidSpec', 'no');
    if (key === 'again' && outcomes.filter(([k]) => k === 'again').length === 0) return { requeueAfterMs: 5 };
  });
  q.add('flaky');
  q.add('bad');
  q.add('again');
  await waitFor(() => outcomes.filter(([k, o]) => k === 'flaky' && o === 'success').length === 1 && outcomes.filter(([k]) => k === 'again').length === 2);
  assert.equal(
    outcomes.filter(([k]) => k === 'flaky').map(([, o]) => o),
    ['error', 'error', 'success'],
  );
  assert.equal(
    outcomes.filter(([k]) => k === 'bad').map(([, o]) => o),
    ['terminal'],
  );
  assert.equal(
    outcomes.filter(([k]) => k === 'again').map(([, o]) => o),
    ['requeue', 'success'],
  );
  assert.is(q.failuresOf('flaky'), 0); // forgotten after success
  q.stop();
  await done;
});

test('addAfter keeps the earliest pending delay', async () => {
  const q = new WorkQueue();
  const seen: number[] = [];
  const t0 = Date.now();
  const done = q.run(1, async () => {
    seen.push(Date.now() - t0);
  });
  q.addAfter('k', 10_000);
  q.addAfter('k', 10);
  await waitFor(() => seen.length === 1);
  assert.ok(seen[0]! < 5_000);
  q.stop();
  await done;
});

test.run();
