// Where BucketMetadata reads and writes a bucket's partition: worked out once per member list, and
// anew when the list changes (a map version) or when a member is suspected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BucketSettings, ClusterView, Member } from '../cluster/types.ts';
import { rankAll, replicasFor } from '../cluster/placement.ts';
import { PeerHealth } from '../cluster/peer-health.ts';
import { BucketMetadata } from './metadata.ts';
import type { DataPlane } from './replicas.ts';
import { testMember } from '../../test/fixtures.ts';

const bucket = { name: 'photos', replicas: 2 } as BucketSettings;

/** A view whose member list is replaced as a map version would replace it. */
function setup() {
  let list = [1, 2, 3, 4].map((i) => testMember(`id-${i}`));
  const view = { selfId: 'id-1', members: () => list } as unknown as ClusterView;
  const health = new PeerHealth();
  const plane = { view, health } as unknown as DataPlane;
  return { meta: new BucketMetadata(plane, 1000), health, replace: (next: Member[]) => (list = next), list: () => list };
}

test('the targets follow a new member list: a holder gone down is no longer written', () => {
  const { meta, replace, list } = setup();
  const [first, second] = replicasFor('bucket:photos', list(), 2).map((m) => m.id);
  assert.equal(meta.targets(bucket), [first, second]);
  assert.equal(meta.targets(bucket), [first, second], 'asked again: the same');
  replace(list().map((m) => (m.id === first ? { ...m, state: 'down' as const } : { ...m })));
  const now = meta.targets(bucket);
  assert.not.ok(now.includes(first!), 'the down member is not a target of the new list');
  assert.ok(now.includes(second!));
  // Reads still ask the member that held it (the ranking over every member).
  assert.ok(meta.readTargets(bucket).includes(first!));
});

test('a suspected holder is asked last by reads and written after the others; then first again', () => {
  const { meta, health, list } = setup();
  const [first] = rankAll('bucket:photos', list()).map((m) => m.id);
  assert.is(meta.readTargets(bucket).includes(first!), true);
  health.unreachable(first!);
  assert.not.ok(meta.readTargets(bucket).includes(first!), 'a suspected member is not waited for');
  assert.is(meta.targets(bucket)[0], first, 'the placement itself does not change');
  health.answered(first!);
  assert.ok(meta.readTargets(bucket).includes(first!), 'asked again once it answers');
});

test('buckets of the same list are placed apart (the memo is per bucket and per R)', () => {
  const { meta, list } = setup();
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) {
    for (const replicas of [1, 2, 3]) {
      const want = replicasFor(`bucket:${name}`, list(), replicas).map((m) => m.id);
      assert.equal(meta.targets({ name, replicas } as BucketSettings), want, `${name} R=${replicas}`);
    }
  }
});

test.run();
