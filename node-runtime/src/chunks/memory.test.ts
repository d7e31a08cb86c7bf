import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BufferMemory, MemoryBudget } from './memory.ts';

test('grants up to the limit, then writers wait in turn and are woken as memory comes back', async () => {
  const b = new MemoryBudget(10);
  const a = b.tryTake(6)!;
  assert.ok(a);
  assert.is(b.tryTake(6), undefined, 'would exceed the limit');
  const order: string[] = [];
  const w1 = b.take(6).then((g) => {
    order.push('w1');
    return g;
  });
  const w2 = b.take(3).then((g) => {
    order.push('w2');
    return g;
  });
  assert.is(b.tryTake(1), undefined, 'no jumping the queue while others wait');
  assert.is(b.waiters, 2);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(order, []);
  a.release();
  a.release(); // idempotent: the second release must not hand out memory twice
  const g1 = await w1,
    g2 = await w2;
  assert.equal(order, ['w1', 'w2']);
  assert.is(b.used, 9);
  g1.release();
  g2.release();
  assert.is(b.used, 0);
});

test('a request larger than the budget is granted when nothing else is held; an aborted wait leaves the queue', async () => {
  const b = new MemoryBudget(4);
  const big = await b.take(9);
  assert.is(b.used, 9);
  const ac = new AbortController();
  const waiting = b.take(1, ac.signal);
  const behind = b.take(2);
  ac.abort(new Error('client went away'));
  try {
    await waiting;
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /client went away/);
  }
  assert.is(b.waiters, 1);
  big.release();
  const g = await behind;
  assert.is(b.used, 2);
  g.release();
  assert.ok(b.waits >= 2);
});

test("a node's buffer memory is split: three quarters for writes and repair, a quarter for read-ahead", () => {
  const m = new BufferMemory(48 * 1024 * 1024);
  assert.is(m.chunks.limit, 36 * 1024 * 1024);
  assert.is(m.readAhead.limit, 12 * 1024 * 1024);
  m.resize(64 * 1024 * 1024);
  assert.is(m.chunks.limit, 48 * 1024 * 1024);
  assert.is(m.readAhead.limit, 16 * 1024 * 1024);
  assert.is(new BufferMemory(8 * 1024 * 1024).chunks.limit, 6 * 1024 * 1024, 'two nodes, two budgets');
});

test('a fill whose sender stalls is told to give up only while others wait; one that makes progress or has finished filling is left alone', async () => {
  const b = new MemoryBudget(10, { stallMs: 60 });
  const stalls: string[] = [];
  const quiet = await b.take(4, undefined, {
    onStall: () => {
      stalls.push('quiet');
      quiet.release();
    },
  });
  const busy = await b.take(3, undefined, { onStall: () => stalls.push('busy') });
  const full = await b.take(3, undefined, { onStall: () => stalls.push('full') });
  full.filled?.(); // its chunk is complete: now an upload in flight, never reclaimed
  // Nobody waits: a quiet sender keeps its memory however long it is quiet.
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(stalls, []);
  busy.progress?.();
  const keepBusy = setInterval(() => busy.progress?.(), 10);
  try {
    const waiter = b.take(4);
    const g = await waiter; // granted once the quiet fill gave its memory back
    assert.equal(stalls, ['quiet']);
    assert.is(b.reclaimed, 1);
    g.release();
  } finally {
    clearInterval(keepBusy);
  }
  busy.release();
  full.release();
  assert.is(b.used, 0);
});

test.run();
