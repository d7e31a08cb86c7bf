import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DIRS, growth, middleKey, parseRss, scaleKey } from './scaling.ts';

test('scaleKey spreads keys over the directories and sorts numerically inside one', () => {
  assert.is(scaleKey(0), 'd0/k00000000');
  assert.is(scaleKey(1_000_007), 'd7/k01000007');
  const d3 = [3, 13, 103, 1003, 999_993].map(scaleKey);
  assert.equal([...d3].sort(), d3);
  assert.ok(d3.every((k) => k.startsWith('d3/')));
  assert.throws(() => scaleKey(-1), /out of range/);
  assert.throws(() => scaleKey(1.5), /out of range/);
});

test('middleKey lies in d4, about half way through its keys, and exists in the bucket', () => {
  for (const n of [10_000, 100_000, 1_000_000]) {
    const k = middleKey(n);
    assert.ok(k.startsWith('d4/'));
    const i = Number(k.slice(4));
    assert.ok(i < n && i % DIRS === 4);
    assert.ok(Math.abs(i - n / 2) <= DIRS, `${k} is not near the middle of ${n}`);
  }
});

test('parseRss reads VmRSS and the anon/file split, and rejects a text without VmRSS', () => {
  const text = 'Name:\tnode\nVmHWM:\t  90000 kB\nVmRSS:\t   81920 kB\nRssAnon:\t   61440 kB\nRssFile:\t   20480 kB\n';
  assert.equal(parseRss(text), { rssKiB: 81920, anonKiB: 61440, fileKiB: 20480 });
  assert.equal(parseRss('VmRSS: 10 kB\n'), { rssKiB: 10, anonKiB: undefined, fileKiB: undefined });
  assert.throws(() => parseRss('Name: x\n'), /VmRSS/);
});

test('growth compares latency growth with log2(n) and n, from the smallest to the largest count', () => {
  const g = growth([
    { n: 1_000_000, ms: 3 },
    { n: 10_000, ms: 2 },
    { n: 100_000, ms: 2.5 },
  ]);
  assert.is(g.latency, 1.5);
  assert.ok(Math.abs(g.log2 - 1.5) < 1e-9); // log2(1e6) / log2(1e4) = 6 / 4
  assert.is(g.linear, 100);
  assert.throws(() => growth([{ n: 10, ms: 1 }]), /two points/);
  assert.throws(
    () =>
      growth([
        { n: 10, ms: 0 },
        { n: 100, ms: 1 },
      ]),
    /positive/,
  );
});

test.run();
