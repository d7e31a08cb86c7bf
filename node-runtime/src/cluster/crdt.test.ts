import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { follow, merge, mergeInto, write, values, get, type LwwMap } from './crdt.ts';

// A small deterministic generator of random maps over few keys, writers and timestamps, so that ties
// on timestamp and on writer really happen.
function rng(seed: number) {
  return () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
function randomMap(r: () => number): LwwMap<number> {
  const m: LwwMap<number> = {};
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const key = `k${Math.floor(r() * 4)}`;
    m[key] = { value: r() < 0.2 ? null : Math.floor(r() * 3), ts: Math.floor(r() * 3), writer: `w${Math.floor(r() * 2)}` };
  }
  return m;
}
const canon = (m: LwwMap<number>) =>
  JSON.stringify(
    Object.keys(m)
      .sort()
      .map((k) => [k, m[k]]),
  );

test('merge is commutative, associative and idempotent (1000 random triples)', () => {
  const r = rng(42);
  for (let i = 0; i < 1000; i++) {
    const a = randomMap(r),
      b = randomMap(r),
      c = randomMap(r);
    assert.is(canon(merge(a, b)), canon(merge(b, a)), 'commutative');
    assert.is(canon(merge(merge(a, b), c)), canon(merge(a, merge(b, c))), 'associative');
    assert.is(canon(merge(a, a)), canon(a), 'idempotent');
    assert.is(canon(merge(merge(a, b), b)), canon(merge(a, b)), 'idempotent after merge');
  }
});

test('newer timestamp wins; equal timestamps tie-break on writer id', () => {
  const a: LwwMap<string> = { x: { value: 'old', ts: 1, writer: 'z' } };
  const b: LwwMap<string> = { x: { value: 'new', ts: 2, writer: 'a' } };
  assert.is(get(merge(a, b), 'x'), 'new');
  const c: LwwMap<string> = { x: { value: 'from-b', ts: 5, writer: 'b' } };
  const d: LwwMap<string> = { x: { value: 'from-a', ts: 5, writer: 'a' } };
  assert.is(get(merge(c, d), 'x'), 'from-b');
  assert.is(get(merge(d, c), 'x'), 'from-b');
});

test('a tombstone hides the value and wins over older writes', () => {
  const m: LwwMap<string> = {};
  write(m, 'bucket', 'v1', 'w', 100);
  const gone = structuredClone(m);
  write(gone, 'bucket', null, 'w', 200);
  assert.is(get(merge(m, gone), 'bucket'), undefined);
  assert.equal(values(merge(m, gone)), []);
  assert.equal(values(m), ['v1']);
});

test('write is strictly newer than the entry it replaces, even with a clock behind', () => {
  const m: LwwMap<number> = { k: { value: 1, ts: 1000, writer: 'other' } };
  const e = write(m, 'k', 2, 'me', 10);
  assert.is(e.ts, 1001);
  assert.is(get(m, 'k'), 2);
});

test('a consequence (drained of draining) loses to any write made after the entry it followed, even in the same ms', () => {
  const root: LwwMap<string> = {};
  write(root, 'n1', 'draining', 'root', 5000);
  const nodeCopy = structuredClone(root); // the node saw `draining` and finished
  write(root, 'n1', 'active', 'root', 5000); // undrain in the same millisecond, before the node's write lands
  const drained = follow(nodeCopy, 'n1', 'drained', 'node-zzz');
  assert.ok(drained.ts > 5000 && drained.ts < root.n1.ts);
  for (const order of [
    [root, nodeCopy],
    [nodeCopy, root],
  ])
    assert.is(get(merge(order[0], order[1]), 'n1'), 'active');
  // With no undrain in between, drained wins over the draining it followed, and later writes still win over it.
  const fresh: LwwMap<string> = {};
  write(fresh, 'n1', 'draining', 'root', 7000);
  const done = merge(fresh, { n1: follow(structuredClone(fresh), 'n1', 'drained', 'node') });
  assert.is(get(done, 'n1'), 'drained');
  write(done, 'n1', 'active', 'root', 7000);
  assert.is(get(done, 'n1'), 'active');
  assert.ok(Number.isInteger(done.n1.ts), 'write steps back onto whole milliseconds');
});

test('mergeInto reports changed keys and ignores malformed entries', () => {
  const m: LwwMap<number> = { a: { value: 1, ts: 5, writer: 'x' } };
  const changed = mergeInto(m, { a: { value: 0, ts: 4, writer: 'x' }, b: { value: 2, ts: 1, writer: 'x' }, c: { nope: true } as never });
  assert.equal(changed, ['b']);
  assert.equal(Object.keys(m).sort(), ['a', 'b']);
  assert.equal(mergeInto(m, structuredClone(m)), []);
});

test.run();
