import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quorum, readQuorum, writeQuorum } from './quorum.ts';
import { isS3Error } from '../util/errors.ts';

const never = (_t: string, signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

test('W and R\' always overlap', () => {
  for (let r = 1; r <= 7; r++) assert.ok(writeQuorum(r) + readQuorum(r) > r, `R=${r}`);
  assert.equal([1, 2, 3, 4, 5].map(writeQuorum), [1, 2, 2, 3, 3]);
});

test('resolves at quorum without waiting for a slow replica, which is cancelled later', async () => {
  let lateErr: unknown;
  const late = new Promise<void>((r) => { lateErr = undefined; setTimeout(r, 200); });
  const out = await quorum(['a', 'b', 'c'], 2, (t, signal) => (t === 'c' ? never(t, signal) : Promise.resolve(t)), {
    timeoutMs: 50, what: 'test', onLate: (_t, e) => { lateErr = e; },
  });
  assert.equal(out.ok.map((o) => o.value).sort(), ['a', 'b']);
  await late;
  assert.match(String(lateErr), /after quorum/);
});

test('fails fast with 503 when quorum became impossible, and on timeout', async () => {
  const started = Date.now();
  try {
    await quorum(['a', 'b', 'c'], 2, (t, signal) => (t === 'a' ? never(t, signal) : Promise.reject(new Error(`${t} down`))), { timeoutMs: 5000, what: 'w' });
    assert.unreachable();
  } catch (e) {
    assert.ok(isS3Error(e) && e.status === 503, String(e));
    assert.match(String((e as Error).message), /b down/);
  }
  assert.ok(Date.now() - started < 1000, 'did not wait for the timeout');
  try {
    await quorum(['a'], 1, never, { timeoutMs: 30, what: 'slow' });
    assert.unreachable();
  } catch (e) { assert.ok(isS3Error(e) && e.code === 'ServiceUnavailable'); }
  try {
    await quorum(['a'], 2, () => Promise.resolve(1), { timeoutMs: 30, what: 'few' });
    assert.unreachable();
  } catch (e) { assert.match(String((e as Error).message), /only 1 of the 2/); }
});

test('settleMs: after the quorum, slower answers are still collected for a while', async () => {
  const slow = (ms: number, v: string) => new Promise<string>((r) => setTimeout(() => r(v), ms));
  const out = await quorum(['a', 'b', 'c'], 1, (t, signal) => (t === 'a' ? slow(1, 'a') : t === 'b' ? slow(30, 'b') : never(t, signal)), { timeoutMs: 5000, settleMs: 200, what: 'r' });
  assert.equal(out.ok.map((o) => o.value), ['a', 'b'], 'b answered within the settle time; c never did');
  const started = Date.now();
  const fast = await quorum(['a', 'b'], 1, (t) => (t === 'a' ? slow(1, 'a') : Promise.reject(new Error('down'))), { timeoutMs: 5000, settleMs: 2000, what: 'r' });
  assert.is(fast.ok.length, 1);
  assert.ok(Date.now() - started < 1000, 'no settle wait once every target answered');
});

test('a write that never reached quorum reports no replica as failing "after quorum"', async () => {
  // a answers, b fails, c hangs: quorum (3 of 3) became impossible; c is then cancelled by us.
  const late: string[] = [];
  try {
    await quorum(['a', 'b', 'c'], 3, (t, signal) => (t === 'a' ? Promise.resolve(t) : t === 'b' ? Promise.reject(new Error('b down')) : never(t, signal)), {
      timeoutMs: 5000, what: 'w', onLate: (t) => { late.push(t); },
    });
    assert.unreachable();
  } catch (e) { assert.match(String((e as Error).message), /b down/); }
  // A replica still answering after a failed quorum (here: c, cancelled by the failure) is no late failure.
  await new Promise((r) => setImmediate(r));
  assert.equal(late, []);
  // Timeout without quorum: the replica cancelled by the timeout is not reported either.
  const late2: string[] = [];
  try { await quorum(['a', 'b'], 2, (t, signal) => (t === 'a' ? Promise.resolve(t) : never(t, signal)), { timeoutMs: 20, what: 'w', onLate: (t) => { late2.push(t); } }); assert.unreachable(); } catch { /* 503 */ }
  await new Promise((r) => setImmediate(r));
  assert.equal(late2, []);
});

test('client abort rejects at once', async () => {
  const ac = new AbortController();
  const p = quorum(['a'], 1, never, { timeoutMs: 5000, what: 'x', signal: ac.signal });
  ac.abort(new Error('client went away'));
  try { await p; assert.unreachable(); } catch (e) { assert.match(String(e), /went away/); }
});

test('a signal aborted before the call rejects with its reason and starts no replica call', async () => {
  const ac = new AbortController();
  ac.abort(new Error('client went away first'));
  let calls = 0;
  try {
    await quorum(['a', 'b'], 1, async () => { calls++; }, { timeoutMs: 1000, what: 'test', signal: ac.signal });
    assert.unreachable();
  } catch (e) { assert.match(String(e), /went away first/); }
  assert.is(calls, 0);
});

test.run();
