import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Member, MemberState } from '../cluster/types.ts';
import { replicasFor } from '../cluster/placement.ts';
import { planItem } from './plan.ts';

const member = (i: number, state: MemberState = 'active', zone = ''): Member => ({
  id: `id-${i}`,
  name: `node-${i}`,
  roles: ['node'],
  api: '',
  cluster: '',
  zone,
  weight: 1,
  state,
  capacityBytes: 1e12,
  usedBytes: 0,
  lastHeartbeat: 0,
});

test('an item at its desired holders needs nothing', () => {
  const members = [1, 2, 3, 4].map((i) => member(i));
  const desired = replicasFor('chunk-a', members, 2).map((m) => m.id);
  const p = planItem({ id: 'chunk-a', size: 10, r: 2, holders: desired }, members);
  assert.equal(p.copyTo, []);
  assert.equal(p.drop, []);
  assert.is(p.underReplicated, false);
  assert.is(p.misplaced, false);
});

test('a down holder is replaced from the live copy; its copy is not dropped while down', () => {
  const members = [1, 2, 3, 4].map((i) => member(i));
  const [a, b] = replicasFor('chunk-b', members, 2);
  members.find((m) => m.id === a!.id)!.state = 'down';
  const p = planItem({ id: 'chunk-b', size: 10, r: 2, holders: [a!.id, b!.id] }, members);
  assert.is(p.source, b!.id);
  assert.is(p.copyTo.length, 1);
  assert.not.ok(p.copyTo.includes(a!.id));
  assert.equal(p.drop, []);
  assert.ok(p.underReplicated);
});

test('a surplus copy is dropped only after every desired holder has the item', () => {
  const members = [1, 2, 3, 4, 5].map((i) => member(i));
  const desired = replicasFor('chunk-c', members, 2).map((m) => m.id);
  const extra = members.map((m) => m.id).find((id) => !desired.includes(id))!;
  const partial = planItem({ id: 'chunk-c', size: 1, r: 2, holders: [desired[0]!, extra] }, members);
  assert.equal(partial.drop, [], 'must keep the surplus copy until the desired holder confirmed');
  assert.equal(partial.copyTo, [desired[1]]);
  const full = planItem({ id: 'chunk-c', size: 1, r: 2, holders: [...desired, extra] }, members);
  assert.equal(full.drop, [extra]);
  assert.ok(full.misplaced);
});

test('a draining holder stays a source, gets no copy, and is dropped last', () => {
  const members = [1, 2, 3].map((i) => member(i));
  const [a] = replicasFor('chunk-d', members, 1);
  members.find((m) => m.id === a!.id)!.state = 'draining';
  const p = planItem({ id: 'chunk-d', size: 5, r: 1, holders: [a!.id] }, members);
  assert.is(p.source, a!.id);
  assert.is(p.copyTo.length, 1);
  assert.is.not(p.copyTo[0], a!.id);
  assert.equal(p.drop, []);
});

test('an item with no live holder has no source and no copies planned', () => {
  const members = [member(1, 'down'), member(2), member(3)];
  const p = planItem({ id: 'x', size: 5, r: 2, holders: ['id-1'] }, members);
  assert.is(p.source, undefined);
  assert.equal(p.copyTo, []);
  assert.ok(p.underReplicated);
});

test('a full member keeps and serves what it holds but is never asked to take a copy', () => {
  const members = [1, 2, 3, 4].map((i) => member(i));
  const [a, b] = replicasFor('chunk-f', members, 2);
  members.find((m) => m.id === a!.id)!.disk = 'full';
  // Held by the full member: it stays a desired holder, nothing moves.
  const held = planItem({ id: 'chunk-f', size: 1, r: 2, holders: [a!.id, b!.id] }, members);
  assert.equal(held.desired.sort(), [a!.id, b!.id].sort());
  assert.equal(held.copyTo, []);
  assert.is(held.underReplicated, false);
  // Not held there (written while it was full): the next member of the order is desired instead.
  const notHeld = planItem({ id: 'chunk-f', size: 1, r: 2, holders: [b!.id] }, members);
  assert.not.ok(notHeld.desired.includes(a!.id));
  assert.is(notHeld.copyTo.length, 1);
  assert.is.not(notHeld.copyTo[0], a!.id);
});

test.run();
