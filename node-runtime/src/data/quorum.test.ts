import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { handoffQuorum, quorum, readQuorum, writeQuorum } from './quorum.ts';
import { isS3Error } from '../util/errors.ts';

const never = (_t: string, signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

test("W and R' always overlap", () => {
  for (let r = 1; r <= 7; r++) assert.ok(writeQuorum(r) + readQuorum(r) > r, `R=${r}`);
  assert.equal([1, 2, 3, 4, 5].map(writeQuorum), [1, 2, 2, 3, 3]);
});

test('resolves at quorum without waiting for a slow replica, which is cancelled later', async () => {
  let lateErr: unknown;
  const late = new Promise<void>((r) => {
    lateErr = undefined;
    setTimeout(r, 200);
  });
  const out = await quorum(['a', 'b', 'c'], 2, (t, signal) => (t === 'c' ? never(t, signal) : Promise.resolve(t)), {
    timeoutMs: 50,
    what: 'test',
    onLate: (_t, e) => {
      lateErr = e;
    },
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
  } catch (e) {
    assert.ok(isS3Error(e) && e.code === 'ServiceUnavailable');
  }
  try {
    await quorum(['a'], 2, () => Promise.resolve(1), { timeoutMs: 30, what: 'few' });
    assert.unreachable();
  } catch (e) {
    assert.match(String((e as Error).message), /only 1 of the 2/);
  }
});

test('settleMs: after the quorum, slower answers are still collected for a while', async () => {
  const slow = (ms: number, v: string) => new Promise<string>((r) => setTimeout(() => r(v), ms));
  const out = await quorum(['a', 'b', 'c'], 1, (t, signal) => (t === 'a' ? slow(1, 'a') : t === 'b' ? slow(30, 'b') : never(t, signal)), {
    timeoutMs: 5000,
    settleMs: 200,
    what: 'r',
  });
  assert.equal(
    out.ok.map((o) => o.value),
    ['a', 'b'],
    'b answered within the settle time; c never did',
  );
  const started = Date.now();
  const fast = await quorum(['a', 'b'], 1, (t) => (t === 'a' ? slow(1, 'a') : Promise.reject(new Error('down'))), {
    timeoutMs: 5000,
    settleMs: 2000,
    what: 'r',
  });
  assert.is(fast.ok.length, 1);
  assert.ok(Date.now() - started < 1000, 'no settle wait once every target answered');
});

test('a write that never reached quorum reports no replica as failing "after quorum"', async () => {
  // a answers, b fails, c hangs: quorum (3 of 3) became impossible; c is then cancelled by us.
  const late: string[] = [];
  try {
    await quorum(['a', 'b', 'c'], 3, (t, signal) => (t === 'a' ? Promise.resolve(t) : t === 'b' ? Promise.reject(new Error('b down')) : never(t, signal)), {
      timeoutMs: 5000,
      what: 'w',
      onLate: (t) => {
        late.push(t);
      },
    });
    assert.unreachable();
  } catch (e) {
    assert.match(String((e as Error).message), /b down/);
  }
  // A replica still answering after a failed quorum (here: c, cancelled by the failure) is no late failure.
  await new Promise((r) => setImmediate(r));
  assert.equal(late, []);
  // Timeout without quorum: the replica cancelled by the timeout is not reported either.
  const late2: string[] = [];
  try {
    await quorum(['a', 'b'], 2, (t, signal) => (t === 'a' ? Promise.resolve(t) : never(t, signal)), {
      timeoutMs: 20,
      what: 'w',
      onLate: (t) => {
        late2.push(t);
      },
    });
    assert.unreachable();
  } catch {
    /* 503 */
  }
  await new Promise((r) => setImmediate(r));
  assert.equal(late2, []);
});

test('client abort rejects at once', async () => {
  const ac = new AbortController();
  const p = quorum(['a'], 1, never, { timeoutMs: 5000, what: 'x', signal: ac.signal });
  ac.abort(new Error('client went away'));
  try {
    await p;
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /went away/);
  }
});

test('a signal aborted before the call rejects with its reason and starts no replica call', async () => {
  const ac = new AbortController();
  ac.abort(new Error('client went away first'));
  let calls = 0;
  try {
    await quorum(
      ['a', 'b'],
      1,
      async () => {
        calls++;
      },
      { timeoutMs: 1000, what: 'test', signal: ac.signal },
    );
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /went away first/);
  }
  assert.is(calls, 0);
});

// ---- sloppy quorum with hinted handoff ----

const settledOf = () => {
  let done!: (o: { started: number; stored: number }) => void;
  const p = new Promise<{ started: number; stored: number }>((r) => {
    done = r;
  });
  return { p, done };
};

test('handoff: with every member answering, only the first R are written', async () => {
  const calls: string[] = [];
  const s = settledOf();
  const out = await handoffQuorum(
    ['a', 'b', 'c', 'd'],
    2,
    2,
    async (t) => {
      calls.push(t);
      return t;
    },
    { timeoutMs: 5000, hedgeMs: 1000, what: 'w', onSettled: s.done },
  );
  assert.equal(out.ok.map((o) => o.target).sort(), ['a', 'b']);
  assert.equal(calls, ['a', 'b']);
  assert.equal(await s.p, { started: 2, stored: 2 });
});

test('handoff: a member that takes the write and never answers gets a stand-in after the hedge delay, and is then cancelled', async () => {
  const silent: string[] = [];
  const late: string[] = [];
  let cancelled = false;
  const s = settledOf();
  const started = Date.now();
  const out = await handoffQuorum(
    ['a', 'b', 'c', 'd'],
    2,
    2,
    (t, signal) => {
      if (t !== 'b') return Promise.resolve(t);
      return new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => {
          cancelled = true;
          reject(signal.reason);
        }),
      );
    },
    { timeoutMs: 5000, hedgeMs: 50, what: 'w', onSilent: (t) => silent.push(t), onLate: (t) => late.push(t), onSettled: s.done },
  );
  assert.ok(Date.now() - started < 1000, 'did not wait for the timeout');
  assert.equal(out.ok.map((o) => o.target).sort(), ['a', 'c'], 'c, next in the order, stood in for b');
  assert.equal(silent, ['b']);
  assert.equal(await s.p, { started: 3, stored: 2 });
  assert.ok(cancelled, 'the silent write was cancelled once R copies were stored');
  assert.equal(late, [], 'a write cancelled because others stored the copies is no failure');
});

test('handoff: a member that fails at once is replaced at once; 503 only when the order runs out', async () => {
  const started = Date.now();
  const out = await handoffQuorum(['a', 'b', 'c'], 2, 2, (t) => (t === 'a' ? Promise.reject(new Error('refused')) : Promise.resolve(t)), {
    timeoutMs: 5000,
    hedgeMs: 4000,
    what: 'w',
  });
  assert.equal(out.ok.map((o) => o.target).sort(), ['b', 'c']);
  assert.ok(Date.now() - started < 1000);
  const late: string[] = [];
  const s = settledOf();
  try {
    await handoffQuorum(['a', 'b', 'c'], 2, 2, (t) => (t === 'c' ? Promise.resolve(t) : Promise.reject(new Error(`${t} refused`))), {
      timeoutMs: 5000,
      hedgeMs: 4000,
      what: 'chunk x write',
      onLate: (t) => late.push(t),
      onSettled: s.done,
    });
    assert.unreachable();
  } catch (e) {
    assert.ok(isS3Error(e) && e.status === 503, String(e));
    assert.match((e as Error).message, /a refused.*b refused|b refused.*a refused/);
  }
  assert.equal(await s.p, { started: 3, stored: 1 });
  assert.equal(late, []);
});

test('handoff: nobody answering fails at the time limit, cancelling every write without reporting it late', async () => {
  const late: string[] = [];
  const s = settledOf();
  try {
    await handoffQuorum(['a', 'b'], 2, 2, never, { timeoutMs: 80, hedgeMs: 20, what: 'w', onLate: (t) => late.push(t), onSettled: s.done });
    assert.unreachable();
  } catch (e) {
    assert.match(String((e as Error).message), /0 of 2 replicas answered within 80 ms/);
  }
  assert.equal(await s.p, { started: 2, stored: 0 });
  assert.equal(late, []);
  try {
    await handoffQuorum(['a'], 2, 2, never, { timeoutMs: 80, hedgeMs: 20, what: 'few' });
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /only 1 of the 2/);
  }
});

test.run();
