import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtureCluster } from '../../test/fixtures.ts';
import { autoscaleReplicas, decideScaling, ordinalOf, type NodeMember } from './scaling.ts';

const m = (i: number, state: NodeMember['state']): NodeMember => ({ name: `demo-nodes-${i}`, state, capacityBytes: 100, usedBytes: 10 });
const members = (...states: NodeMember['state'][]) => states.map((s, i) => m(i, s));
const base = { nodePrefix: 'demo-nodes', underReplicatedChunks: 0 };

test('ordinals come from pod names of this StatefulSet only', () => {
  assert.is(ordinalOf('demo-nodes-12', 'demo-nodes'), 12);
  assert.is(ordinalOf('demo-roots-0', 'demo-nodes'), undefined);
  assert.is(ordinalOf('demo-nodes-x', 'demo-nodes'), undefined);
});

test('first creation and scale-up raise the StatefulSet at once', () => {
  assert.equal(decideScaling({ ...base, desired: 3, podsPresent: 0 }).statefulSetReplicas, 3);
  const up = decideScaling({ ...base, desired: 5, statefulSetReplicas: 3, podsPresent: 3, members: members('active', 'active', 'active') });
  assert.equal([up.statefulSetReplicas, up.phase, up.drain], [5, 'ScalingUp', []]);
});

test('scale-down drains the highest ordinals and holds the StatefulSet until they are drained', () => {
  const start = decideScaling({
    ...base,
    desired: 3,
    statefulSetReplicas: 5,
    podsPresent: 5,
    members: members('active', 'active', 'active', 'active', 'active'),
  });
  assert.equal(
    [start.statefulSetReplicas, start.phase, start.drain, start.waitingFor],
    [5, 'Draining', ['demo-nodes-4', 'demo-nodes-3'], ['demo-nodes-4', 'demo-nodes-3']],
  );
  const half = decideScaling({
    ...base,
    desired: 3,
    statefulSetReplicas: 5,
    podsPresent: 5,
    members: members('active', 'active', 'active', 'draining', 'drained'),
  });
  assert.equal([half.statefulSetReplicas, half.drain, half.waitingFor], [5, [], ['demo-nodes-3']]);
  const done = decideScaling({
    ...base,
    desired: 3,
    statefulSetReplicas: 5,
    podsPresent: 5,
    members: members('active', 'active', 'active', 'drained', 'drained'),
  });
  assert.equal([done.statefulSetReplicas, done.phase, done.forget], [3, 'ScalingDown', []]);
});

test('drained members are forgotten only after their pods are gone', () => {
  const ms = members('active', 'active', 'active', 'drained', 'drained');
  assert.equal(decideScaling({ ...base, desired: 3, statefulSetReplicas: 3, podsPresent: 5, members: ms }).forget, []);
  assert.equal(decideScaling({ ...base, desired: 3, statefulSetReplicas: 3, podsPresent: 4, members: ms }).forget, ['demo-nodes-4']);
  assert.equal(decideScaling({ ...base, desired: 3, statefulSetReplicas: 3, podsPresent: 3, members: ms }).forget, ['demo-nodes-3', 'demo-nodes-4']);
});

test('no scale-down without the admin API; a down member waits for full redundancy', () => {
  const blind = decideScaling({ ...base, desired: 3, statefulSetReplicas: 4, podsPresent: 4 });
  assert.equal([blind.statefulSetReplicas, blind.phase], [4, 'WaitingForAdmin']);
  const ms = members('active', 'active', 'active', 'down');
  assert.is(decideScaling({ ...base, underReplicatedChunks: 7, desired: 3, statefulSetReplicas: 4, podsPresent: 4, members: ms }).statefulSetReplicas, 4);
  assert.is(decideScaling({ ...base, underReplicatedChunks: 0, desired: 3, statefulSetReplicas: 4, podsPresent: 4, members: ms }).statefulSetReplicas, 3);
});

test('a member that never joined holds no data and can go', () => {
  assert.is(
    decideScaling({ ...base, desired: 3, statefulSetReplicas: 4, podsPresent: 4, members: members('active', 'active', 'active') }).statefulSetReplicas,
    3,
  );
});

test('scaling back up cancels a drain (undrain)', () => {
  const plan = decideScaling({
    ...base,
    desired: 5,
    statefulSetReplicas: 5,
    podsPresent: 5,
    members: members('active', 'active', 'active', 'draining', 'draining'),
  });
  assert.equal([plan.statefulSetReplicas, plan.undrain, plan.drain], [5, ['demo-nodes-3', 'demo-nodes-4'], []]);
  const partial = decideScaling({
    ...base,
    desired: 4,
    statefulSetReplicas: 5,
    podsPresent: 5,
    members: members('active', 'active', 'active', 'draining', 'draining'),
  });
  assert.equal([partial.statefulSetReplicas, partial.undrain, partial.waitingFor], [5, ['demo-nodes-3'], ['demo-nodes-4']]);
});

test('autoscaling: up at once to the target, down one at a time with hysteresis, clamped', () => {
  const spec = fixtureCluster({ nodes: { replicas: 3 }, autoscaling: { minReplicas: 2, maxReplicas: 8, targetUsedPercent: 50 } }).spec;
  const gi = 2 ** 30;
  assert.is(autoscaleReplicas(spec, 3, { capacityBytes: 30 * gi, usedBytes: 24 * gi }), 5); // 24 / (10*0.5) = 4.8 → 5
  assert.is(autoscaleReplicas(spec, 3, { capacityBytes: 30 * gi, usedBytes: 90 * gi }), 8); // clamped to max
  assert.is(autoscaleReplicas(spec, 4, { capacityBytes: 40 * gi, usedBytes: 5 * gi }), 3); // one step down
  assert.is(autoscaleReplicas(spec, 3, { capacityBytes: 30 * gi, usedBytes: 12 * gi }), 3); // 12/20 = 60% ≥ 50%: stay
  assert.is(autoscaleReplicas(spec, 2, { capacityBytes: 20 * gi, usedBytes: 0 }), 2); // floor = max(min, R)
  assert.is(autoscaleReplicas(spec, 3, undefined), 3);
  assert.is(autoscaleReplicas(fixtureCluster({ nodes: { replicas: 4 } }).spec, 3, undefined), 4); // off: spec.nodes.replicas
});

test.run();
