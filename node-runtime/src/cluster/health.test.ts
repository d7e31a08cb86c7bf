import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maintenanceVerdict, writeQuorumVerdict } from './health.ts';
import type { BucketSettings, Member } from './types.ts';

const m = (i: number, o: Partial<Member> = {}): Member => ({
  id: `id${i}`,
  name: `n${i}`,
  roles: ['node'],
  api: '',
  cluster: '',
  zone: '',
  weight: 1,
  state: 'active',
  capacityBytes: 0,
  usedBytes: 0,
  lastHeartbeat: 0,
  ...o,
});
const b = (name: string, replicas: number): BucketSettings => ({ name, replicas, createdAt: '', owner: '', access: 'private' });

test('write quorum: every bucket needs W active members', () => {
  const ms = [m(1), m(2), m(3, { state: 'down' })];
  assert.ok(writeQuorumVerdict(ms, [b('a', 3)]).ok, 'R=3 needs 2');
  const v = writeQuorumVerdict([m(1), m(2, { state: 'down' }), m(3, { state: 'down' })], [b('a', 3), b('c', 1)]);
  assert.not.ok(v.ok);
  assert.equal(v.details, { buckets: ['a'] });
});

test('reasons name no bucket (probes read them without the cluster secret); details do', () => {
  const ms = [m(1), m(2), m(3, { state: 'down' })];
  const q = writeQuorumVerdict([m(1), m(2, { state: 'down' }), m(3, { state: 'down' })], [b('tenant-photos', 3)]);
  assert.not.match(q.reason, /tenant-photos/);
  assert.match(q.reason, /1 bucket/);
  const v = maintenanceVerdict('id1', ms, [b('tenant-photos', 2)]);
  assert.not.ok(v.ok);
  assert.not.match(v.reason, /tenant-photos/);
  assert.equal((v.details as { buckets: string[] }).buckets, ['tenant-photos']);
});

test('maintenance: R=3 may lose one member, R=2 may not; a second member down makes R=3 unsafe; roots may always stop', () => {
  const ms = [m(1), m(2), m(3), m(9, { roles: ['root'] })];
  assert.ok(maintenanceVerdict('id1', ms, [b('x', 3)]).ok);
  assert.not.ok(maintenanceVerdict('id1', ms, [b('x', 2)]).ok);
  assert.not.ok(maintenanceVerdict('id1', [m(1), m(2), m(3, { state: 'down' })], [b('x', 3)]).ok);
  assert.ok(maintenanceVerdict('id9', ms, [b('x', 2)]).ok);
  assert.ok(maintenanceVerdict('id1', ms, [b('x', 1)]).ok === false, 'R=1: the only copy');
});

test('maintenance: pending repair of chunks held here forbids stopping, even where R allows it', () => {
  const ms = [m(1), m(2), m(3)];
  assert.ok(maintenanceVerdict('id1', ms, [b('x', 3)], { underReplicatedChunks: 0 }).ok);
  const v = maintenanceVerdict('id1', ms, [b('x', 3)], { underReplicatedChunks: 7 });
  assert.not.ok(v.ok);
  assert.match(v.reason, /repair pending: 7 under-replicated/);
  assert.ok(maintenanceVerdict('id9', [...ms, m(9, { roles: ['root'] })], [b('x', 3)], { underReplicatedChunks: 7 }).ok, 'a root holds nothing');
});

test.run();
