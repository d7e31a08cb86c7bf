import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Member } from '../cluster/types.ts';
import { testMember } from '../../test/fixtures.ts';
import { FOLLOW_UP_MAX_MS, FOLLOW_UP_MS, followUpDelay } from './cadence.ts';
import { digestsFingerprint, holderInSync, passScope, placementFingerprint, type PassInputs, type SettledPass } from './incremental.ts';

const member = (id: string, over: Partial<Member> = {}): Member => testMember(id, { chunks: 10, ...over });
const inputs: PassInputs = { placement: 'p', digests: 'd', localChunks: 3 };
const settled: SettledPass = { inputs, settled: true, dueAt: Number.POSITIVE_INFINITY };
const base = { now: 10_000, inputs, last: settled, lastFullAt: 5_000, fullEveryMs: 60_000, draining: false };

test('nothing changed since a settled pass: the chunk phase is left out', () => {
  assert.equal(passScope(base), { kind: 'incremental', chunks: false, reason: 'nothing changed' });
});

test('the first pass and the safety-net period walk everything', () => {
  assert.is(passScope({ ...base, lastFullAt: 0 }).kind, 'full');
  assert.is(passScope({ ...base, now: 65_000 }).kind, 'full');
  assert.is(passScope({ ...base, now: 64_999 }).kind, 'incremental');
});

test('any input that changed, unknown digests, leftover work, due garbage or draining runs the chunk phase', () => {
  const runs = (o: Partial<typeof base>) => {
    const s = passScope({ ...base, ...o });
    return s.kind === 'incremental' && s.chunks;
  };
  assert.ok(runs({ inputs: { ...inputs, placement: 'q' } }), 'placement');
  assert.ok(runs({ inputs: { ...inputs, digests: 'e' } }), 'metadata somewhere');
  assert.ok(runs({ inputs: { ...inputs, digests: undefined } }), 'a member did not answer');
  assert.ok(runs({ inputs: { ...inputs, localChunks: 4 } }), 'local chunks');
  assert.ok(runs({ last: { ...settled, settled: false } }), 'work left');
  assert.ok(runs({ last: undefined }), 'no pass planned chunks yet');
  assert.ok(runs({ last: { ...settled, dueAt: 10_000 } }), 'an unreferenced chunk passed its grace');
  assert.ok(runs({ draining: true }), 'draining');
});

test('placement fingerprint: what placement reads, not heartbeat figures', () => {
  const ms = [member('a'), member('b')];
  const bs = [{ name: 'x', replicas: 2 }];
  const fp = placementFingerprint(ms, bs);
  assert.is(placementFingerprint([...ms].reverse(), bs), fp, 'order-free');
  assert.is(placementFingerprint([member('a', { usedBytes: 5, lastHeartbeat: 9 }), member('b')], bs), fp, 'usage ignored');
  assert.is.not(placementFingerprint([member('a', { state: 'down' }), member('b')], bs), fp, 'state');
  assert.is.not(placementFingerprint([member('a', { weight: 2 }), member('b')], bs), fp, 'weight');
  assert.is.not(placementFingerprint([member('a', { disk: 'full' }), member('b')], bs), fp, 'disk');
  assert.is.not(placementFingerprint([member('a', { chunks: 9 }), member('b')], bs), fp, 'a holder lost a chunk');
  assert.is.not(placementFingerprint(ms, [{ name: 'x', replicas: 3 }]), fp, 'a bucket R');
  assert.is.not(placementFingerprint([...ms, member('c')], bs), fp, 'a new member');
});

test('digests fingerprint: unknown when any member is; holders in sync by equal digests', () => {
  const d = { hash: 'ab'.repeat(16), entries: 2 };
  const a = new Map([
    ['m1', { x: d }],
    ['m2', { x: d }],
  ]);
  assert.type(digestsFingerprint(a), 'string');
  assert.is(digestsFingerprint(new Map([...a, ['m3', undefined]])), undefined);
  assert.is.not(digestsFingerprint(new Map([...a, ['m2', { x: { ...d, entries: 3 } }]])), digestsFingerprint(a));
  assert.ok(holderInSync({ x: d }, { x: d }, 'x'));
  assert.not.ok(holderInSync({ x: d }, { x: { ...d, entries: 1 } }, 'x'));
  assert.not.ok(holderInSync({ x: d }, {}, 'x'), 'the holder lacks the partition');
  assert.not.ok(holderInSync({ x: d }, undefined, 'x'), 'unknown');
});

test('follow-up passes: soon after progress while work waits, backing off without progress, then left to the period', () => {
  assert.is(followUpDelay(0, { progressed: true, waiting: 0 }), 0, 'nothing waits: no follow-up');
  assert.is(followUpDelay(0, { progressed: false, waiting: 5 }), FOLLOW_UP_MS, 'work found waiting');
  assert.is(followUpDelay(4_000, { progressed: true, waiting: 5 }), FOLLOW_UP_MS, 'progress: soon again');
  let d = FOLLOW_UP_MS;
  const seen: number[] = [];
  while (d > 0) {
    seen.push(d);
    d = followUpDelay(d, { progressed: false, waiting: 5 });
  }
  assert.equal(seen, [500, 1000, 2000, 4000, 8000]);
  assert.ok(seen.at(-1)! <= FOLLOW_UP_MAX_MS);
  assert.is(followUpDelay(-1, { progressed: false, waiting: 5 }), -1, 'stuck: the periodic pass only');
  assert.is(followUpDelay(-1, { progressed: true, waiting: 5 }), FOLLOW_UP_MS, 'until progress is made');
});

test.run();
