import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { median, percentile, ratio, summarise } from './stats.ts';
import { figure, makeProfile } from './profile.ts';
import { runLoop } from './workload.ts';
import { parseStatus, peakMiB } from './memory.ts';

test('median of odd and even counts, input left unsorted', () => {
  const xs = [5, 1, 3];
  assert.is(median(xs), 3);
  assert.equal(xs, [5, 1, 3]);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /empty/);
});

test('summarise gives median, min, max and keeps the runs', () => {
  assert.equal(summarise([120, 80, 100]), { median: 100, min: 80, max: 120, runs: [120, 80, 100] });
  assert.throws(() => summarise([]), /no runs/);
  assert.throws(() => summarise([1, NaN]), /not finite/);
});

test('percentile by nearest rank; ratio only with both sides', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.is(percentile(xs, 50), 50);
  assert.is(percentile(xs, 99), 99);
  assert.is(percentile([7], 99), 7);
  assert.is(percentile([], 50), undefined);
  assert.is(ratio(10, 4), 2.5);
  assert.is(ratio(10, 0), undefined);
  assert.is(ratio(undefined, 4), undefined);
});

test('figure: MB/s from bytes, obj/s from ops', () => {
  assert.is(figure('MB/s', { ops: 2, bytes: 200e6, ms: 500 }), 400);
  assert.is(figure('obj/s', { ops: 300, bytes: 0, ms: 100 }), 3000);
});

test('runLoop counts every byte under concurrency and stops at maxOps', async () => {
  const r = await runLoop({ concurrency: 8, maxOps: 100, maxMs: 5000 }, async () => {
    await new Promise((res) => setImmediate(res));
    return 4096;
  });
  assert.is(r.ops, 100);
  assert.is(r.bytes, 100 * 4096);
  assert.is(r.errors, 0);
});

test('runLoop gives up when errors dominate, keeping the first error', async () => {
  const r = await runLoop({ concurrency: 2, maxOps: 10_000, maxMs: 5000 }, async () => {
    throw new Error('503 SlowDown');
  });
  assert.is(r.ops, 0);
  assert.ok(r.errors > 0 && r.errors < 20, `stopped early after ${r.errors} errors`);
  assert.is(r.firstError, '503 SlowDown');
  let threw = false;
  try {
    await runLoop({ concurrency: 0, maxOps: 1, maxMs: 1 }, async () => 0);
  } catch {
    threw = true;
  }
  assert.ok(threw, 'zero concurrency is rejected');
});

test('runLoop aborts what is in flight at the hard limit and counts its partial bytes', async () => {
  const t0 = Date.now();
  const r = await runLoop(
    { concurrency: 2, maxOps: 2, maxMs: 10, hardMs: 80 },
    (_i, ctx) =>
      new Promise((_res, rej) => {
        ctx.progress(100);
        ctx.signal.addEventListener('abort', () => rej(new Error('aborted')));
      }),
  );
  assert.ok(Date.now() - t0 < 2000, 'bounded in time');
  assert.is(r.ops, 0);
  assert.is(r.cut, 2);
  assert.is(r.errors, 0, 'a cut operation is not a failure');
  assert.is(r.bytes, 200);
  assert.ok(r.ms >= 79 && r.ms < 200, `elapsed ${r.ms}`);
});

test('profiles are bounded: quick is shorter than full, every loop has a count and a time limit', () => {
  const quick = makeProfile('quick'),
    full = makeProfile('full');
  assert.ok(quick.budgetMs < full.budgetMs);
  for (const p of [quick, full]) {
    assert.ok(p.runs >= 3);
    for (const w of p.workloads) assert.ok(w.maxOps > 0 && w.maxMs > 0 && w.maxMs <= 15_000, w.id);
  }
});

test('/proc status parsing and the peak in MiB', () => {
  const text = 'Name:\tnode\nVmPeak:\t 999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
  assert.equal(parseStatus(text), { hwmKiB: 204800, rssKiB: 102400 });
  assert.is(
    peakMiB([
      { pid: 1, hwmKiB: 204800, rssMaxKiB: 1000 },
      { pid: 2, rssMaxKiB: 307200 },
    ]),
    300,
  );
  assert.is(peakMiB([]), undefined);
});

test.run();
