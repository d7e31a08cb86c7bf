import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Member, MemberState, RepairProgress } from '../cluster/types.ts';
import { bucketConvergence } from './convergence.ts';

const idle: RepairProgress = {
  underReplicatedChunks: 0,
  misplacedChunks: 0,
  bytesRemaining: 0,
  bytesMoved: 0,
  rateBytesPerSec: 0,
  etaSeconds: null,
  passes: 3,
  lastPassAt: 1,
};
const member = (
  name: string,
  buckets: RepairProgress['buckets'] | undefined,
  state: MemberState = 'active',
  roles: Member['roles'] = ['node'],
): Member & { repair?: RepairProgress } => ({
  id: name,
  name,
  roles,
  api: '',
  cluster: '',
  zone: '',
  weight: 1,
  state,
  capacityBytes: 1,
  usedBytes: 0,
  lastHeartbeat: 0,
  repair: buckets === undefined ? undefined : { ...idle, buckets },
});
const photos = { name: 'photos', replicas: 3 };

test('converged when every live data member planned with the current R and counts nothing left', () => {
  const c = bucketConvergence(photos, [
    member('a', { photos: { r: 3 } }),
    member('b', { photos: { r: 3 }, other: { r: 1, under: 4 } }),
    member('root', undefined, 'active', ['root']),
  ]);
  assert.equal(c, { underReplicatedChunks: 0, surplusChunks: 0, converged: true, waitingFor: [] });
});

test('not converged: copies to make, copies to drop, or a member whose plan does not know the R yet', () => {
  assert.equal(bucketConvergence(photos, [member('a', { photos: { r: 3, under: 5 } }), member('b', { photos: { r: 3, surplus: 2 } })]), {
    underReplicatedChunks: 5,
    surplusChunks: 2,
    converged: false,
    waitingFor: [],
  });
  const stale = bucketConvergence(photos, [member('a', { photos: { r: 2 } }), member('b', {}), member('c', undefined)]);
  assert.equal([stale.converged, stale.waitingFor], [false, ['a', 'b', 'c']], 'old R, not planned yet (a report from before the bucket), no report');
  const first = bucketConvergence(photos, [{ ...member('a', { photos: { r: 3 } }), repair: { ...idle, passes: 0, buckets: { photos: { r: 3 } } } }]);
  assert.equal(first.waitingFor, ['a'], 'no pass finished yet');
});

test('members that are down, drained or joining do not hold the bucket back', () => {
  const c = bucketConvergence(photos, [
    member('a', { photos: { r: 3 } }),
    member('gone', undefined, 'down'),
    member('old', { photos: { r: 2 } }, 'drained'),
    member('new', undefined, 'joining'),
  ]);
  assert.ok(c.converged);
});

test.run();
