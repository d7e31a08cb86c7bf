import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { drainProblem } from './drain.ts';
import type { BucketSettings, Member } from '../cluster/types.ts';

const m = (i: number, o: Partial<Member> = {}): Member => ({
  id: `id${i}`,
  name: `nodes-${i}`,
  roles: ['node'],
  api: '',
  cluster: '',
  zone: '',
  weight: 1,
  state: 'active',
  capacityBytes: 1000,
  usedBytes: 100,
  lastHeartbeat: 0,
  ...o,
});
const bucket = (name: string, replicas: number): BucketSettings => ({ name, replicas, createdAt: '', owner: 'x', access: 'private' });

test('refuses when the remaining active members are fewer than the largest bucket R', () => {
  const ms = [m(1), m(2), m(3)];
  assert.match(drainProblem(ms[0], ms, [bucket('a', 2), bucket('b', 3)], 1) ?? '', /fewer than the 3 replicas of bucket b/);
  assert.is(drainProblem(ms[0], ms, [bucket('a', 2)], 1), undefined);
  // Down members do not count as room for replicas.
  assert.ok(drainProblem(ms[0], [...ms.slice(0, 2), m(3, { state: 'down' })], [bucket('a', 2)], 1));
});

test('refuses when the remaining zones cannot keep R replicas in distinct zones', () => {
  const ms = [m(1, { zone: 'a' }), m(2, { zone: 'b' }), m(3, { zone: 'c' }), m(4, { zone: 'a' })];
  assert.match(drainProblem(ms[1], ms, [bucket('x', 3)], 1) ?? '', /zone/);
  assert.is(drainProblem(ms[3], ms, [bucket('x', 3)], 1), undefined);
});

test('refuses when the others lack free space for its data; root-only members always may', () => {
  const ms = [m(1, { usedBytes: 900 }), m(2, { usedBytes: 800 }), m(3, { usedBytes: 800 })];
  assert.match(drainProblem(ms[0], ms, [bucket('x', 1)], 1) ?? '', /free space/);
  assert.is(drainProblem(m(9, { roles: ['root'] }), ms, [bucket('x', 3)], 1), undefined);
});

test.run();
