import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { replicasFor, rankAll, writeOrder } from './placement.ts';
import type { Member, MemberState } from './types.ts';

function member(i: number, o: Partial<Member> = {}): Member {
  return {
    id: `node-id-${i}`,
    name: `nodes-${i}`,
    roles: ['node'],
    api: `http://127.0.0.${i}:9000`,
    cluster: `http://127.0.0.${i}:9100`,
    zone: '',
    weight: 1,
    state: 'active' as MemberState,
    capacityBytes: 0,
    usedBytes: 0,
    lastHeartbeat: 0,
    ...o,
  };
}
const ids = (n: number) => Array.from({ length: n }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));
const ITEMS = ids(100_000);

test('spread over 10 equal nodes is within ±10 % of the fair share (R=1 and R=3)', () => {
  const ms = Array.from({ length: 10 }, (_, i) => member(i));
  for (const r of [1, 3]) {
    const counts = new Map<string, number>();
    for (const id of ITEMS) for (const m of replicasFor(id, ms, r)) counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
    const fair = (ITEMS.length * r) / 10;
    for (const m of ms) {
      const c = counts.get(m.id) ?? 0;
      assert.ok(Math.abs(c - fair) <= 0.1 * fair, `R=${r} ${m.name} got ${c}, fair ${fair}`);
    }
  }
});

test('adding an 11th node moves at most 1.2 × 1/11 of the items', () => {
  const ten = Array.from({ length: 10 }, (_, i) => member(i));
  const eleven = [...ten, member(10)];
  let moved = 0;
  let movedReplicas = 0;
  for (const id of ITEMS) {
    if (replicasFor(id, ten, 1)[0].id !== replicasFor(id, eleven, 1)[0].id) moved++;
    const before = new Set(replicasFor(id, ten, 3).map((m) => m.id));
    movedReplicas += replicasFor(id, eleven, 3).filter((m) => !before.has(m.id)).length;
  }
  assert.ok(moved <= (1.2 * ITEMS.length) / 11, `moved ${moved}`);
  assert.ok(moved >= (0.8 * ITEMS.length) / 11, `the new node should get its share, moved ${moved}`);
  // With R=3, the replica moves are also bounded by the new node's share of replicas.
  assert.ok(movedReplicas <= (1.2 * 3 * ITEMS.length) / 11, `moved replicas ${movedReplicas}`);
});

test('3 zones with R=3: every item has one replica per zone', () => {
  const ms = Array.from({ length: 9 }, (_, i) => member(i, { zone: `z${i % 3}` }));
  for (const id of ITEMS.slice(0, 20_000)) {
    const zones = new Set(replicasFor(id, ms, 3).map((m) => m.zone));
    assert.is(zones.size, 3);
  }
  // Uneven zones still give distinct zones first, then fill by rank.
  const uneven = [member(1, { zone: 'a' }), member(2, { zone: 'a' }), member(3, { zone: 'a' }), member(4, { zone: 'b' })];
  for (const id of ITEMS.slice(0, 1000)) {
    const got = replicasFor(id, uneven, 3);
    assert.is(got.length, 3);
    assert.is(new Set(got.slice(0, 2).map((m) => m.zone)).size, 2);
  }
});

test('weights are respected: a weight-3 node gets about 3× the items of a weight-1 node', () => {
  const ms = [member(0, { weight: 3 }), member(1), member(2), member(3)];
  const counts = new Map<string, number>();
  for (const id of ITEMS) {
    const m = replicasFor(id, ms, 1)[0];
    counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
  }
  const heavy = counts.get(ms[0].id)!;
  assert.ok(Math.abs(heavy - ITEMS.length / 2) <= (0.05 * ITEMS.length) / 2, `heavy got ${heavy}`);
  for (const m of ms.slice(1)) {
    const c = counts.get(m.id)!;
    assert.ok(Math.abs(c - ITEMS.length / 6) <= (0.1 * ITEMS.length) / 6, `${m.name} got ${c}`);
  }
});

test('draining, drained, down and joining members get no new placements', () => {
  const states: MemberState[] = ['draining', 'drained', 'down', 'joining'];
  const ms = [...states.map((s, i) => member(i, { state: s })), member(10), member(11), member(12)];
  for (const id of ITEMS.slice(0, 5000)) {
    const got = replicasFor(id, ms, 3);
    assert.is(got.length, 3);
    assert.ok(got.every((m) => m.state === 'active'));
  }
  assert.is(replicasFor('x', ms, 5).length, 3, 'fewer than r when not enough active members');
});

test('root-only members hold no data: never placed, never ranked', () => {
  const ms = [member(0, { roles: ['root'] }), member(1, { roles: ['root', 'node'] }), member(2), member(3)];
  for (const id of ITEMS.slice(0, 1000)) {
    assert.ok(replicasFor(id, ms, 3).every((m) => m.id !== ms[0].id));
    assert.is(rankAll(id, ms).length, 3);
  }
});

test('deterministic from the member list alone (order of the list does not matter)', () => {
  const ms = Array.from({ length: 7 }, (_, i) => member(i, { zone: `z${i % 2}` }));
  const shuffled = [...ms].reverse();
  for (const id of ITEMS.slice(0, 2000)) {
    assert.equal(
      replicasFor(id, ms, 3).map((m) => m.id),
      replicasFor(id, shuffled, 3).map((m) => m.id),
    );
  }
});

test('write order: the placement order with suspected members last; without suspicion its first R are replicasFor', () => {
  const ms = [...Array.from({ length: 5 }, (_, i) => member(i)), member(9, { state: 'down' })];
  for (const id of ITEMS.slice(0, 500)) {
    const order = writeOrder(id, ms).map((m) => m.id);
    assert.is(order.length, 5, 'active data members only');
    assert.equal(
      order.slice(0, 3),
      replicasFor(id, ms, 3).map((m) => m.id),
    );
    const sick = order[0];
    const around = writeOrder(id, ms, { suspected: (x) => x === sick }).map((m) => m.id);
    assert.equal(around, [...order.filter((x) => x !== sick), sick], 'the next member of the order stands in, the suspect comes last');
  }
});

test('pins come first (by id or name), then the ranking fills up to R', () => {
  const ms = Array.from({ length: 5 }, (_, i) => member(i));
  const got = replicasFor('bucket:photos', ms, 3, { pin: ['nodes-4', ms[2].id] });
  assert.equal(
    got.slice(0, 2).map((m) => m.id),
    [ms[4].id, ms[2].id],
  );
  assert.is(new Set(got.map((m) => m.id)).size, 3);
  assert.is(replicasFor('x', ms, 1, { pin: ['nodes-3'] })[0].id, ms[3].id);
});

test('rankAll ranks every member and starts with the placement made while all were active', () => {
  const ms = Array.from({ length: 6 }, (_, i) => member(i, { zone: `z${i % 3}` }));
  for (const id of ITEMS.slice(0, 2000)) {
    const placed = replicasFor(id, ms, 3).map((m) => m.id);
    const withDown = ms.map((m) => (m.id === placed[0] ? { ...m, state: 'down' as const } : m));
    const ranked = rankAll(id, withDown);
    assert.is(ranked.length, 6);
    assert.equal(
      ranked.slice(0, 3).map((m) => m.id),
      placed,
    );
  }
});

test.run();
