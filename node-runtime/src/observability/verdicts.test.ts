// The /cluster/health and /maintenance verdicts over small cluster maps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BucketSettings, Member, Role } from '../cluster/types.ts';
import { clusterHealthVerdict, maintenanceVerdict } from './verdicts.ts';

const member = (name: string, state: Member['state'] = 'active', roles: Role[] = ['node']): Member => ({
  id: `id-${name}`, name, roles, api: '', cluster: '', zone: '', weight: 1, state, capacityBytes: 100, usedBytes: 10, lastHeartbeat: 0,
});
const bucket = (name: string, replicas: number): BucketSettings => ({ name, createdAt: '', owner: 'k', replicas, access: 'private' });
const roots = [member('roots-0', 'active', ['root']), member('roots-1', 'active', ['root'])];

test('cluster health: 200 while every bucket reaches W, 503 naming the buckets that do not', () => {
  const nodes = [member('n0'), member('n1'), member('n2')];
  assert.is(clusterHealthVerdict([...roots, ...nodes], [bucket('a', 3), bucket('b', 1)]).ok, true);
  const degraded = [member('n0'), member('n1', 'down'), member('n2', 'down')];
  const v = clusterHealthVerdict([...roots, ...degraded], [bucket('a', 3), bucket('b', 1)]);
  assert.is(v.ok, false);
  assert.match(v.reason, /a \(1 of W=2\)/);
  assert.not.match(v.reason, /\bb \(/);
});

test('maintenance: a data node may stop when R=3 and everything is healthy', () => {
  const ms = [...roots, member('n0'), member('n1'), member('n2')];
  const v = maintenanceVerdict({ selfId: 'id-n0', members: ms, buckets: [bucket('a', 3)], defaultReplicas: 3, underReplicatedChunks: 0 });
  assert.is(v.ok, true, v.reason);
});

test('maintenance: refused during repair, with another member down, or when R leaves no quorum', () => {
  const ms = [...roots, member('n0'), member('n1'), member('n2')];
  const base = { selfId: 'id-n0', members: ms, buckets: [bucket('a', 3)], defaultReplicas: 3, underReplicatedChunks: 0 };
  assert.match(maintenanceVerdict({ ...base, underReplicatedChunks: 4 }).reason, /repair in progress: 4/);
  assert.match(maintenanceVerdict({ ...base, members: [...roots, member('n0'), member('n1', 'down'), member('n2')] }).reason, /n1: down/);
  const r2 = maintenanceVerdict({ ...base, buckets: [bucket('a', 3), bucket('b', 2)] });
  assert.is(r2.ok, false);
  assert.match(r2.reason, /R=2, W=2/);
  assert.is(maintenanceVerdict({ ...base, defaultReplicas: 1, buckets: [] }).ok, false);
  assert.match(maintenanceVerdict({ ...base, selfId: 'nobody' }).reason, /not in the cluster map/);
});

test('maintenance: roots may stop while another root is active; a drained node may always stop', () => {
  const ms = [...roots, member('n0', 'drained'), member('n1')];
  const s = { members: ms, buckets: [bucket('a', 1)], defaultReplicas: 1, underReplicatedChunks: 0 };
  assert.is(maintenanceVerdict({ ...s, selfId: 'id-roots-0' }).ok, true);
  assert.is(maintenanceVerdict({ ...s, selfId: 'id-n0' }).ok, true);
  const lone = maintenanceVerdict({ ...s, selfId: 'id-roots-0', members: [roots[0], member('n1')] });
  assert.is(lone.ok, false);
  assert.match(lone.reason, /only active root/);
});

test.run();
