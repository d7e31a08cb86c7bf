import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maintenanceGate, planRollout, redundancyProblem, type RolloutInput, type RolloutPod } from './rollout.ts';

const now = new Date('2026-12-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const pod = (ordinal: number, revision: string, ready = true, extra: Partial<RolloutPod> = {}): RolloutPod => ({
  ordinal,
  revision,
  ready,
  terminating: false,
  createdAt: ago(600),
  readySince: ready ? ago(100 - ordinal) : undefined,
  ...extra,
});
const input = (pods: RolloutPod[], over: Partial<RolloutInput> = {}): RolloutInput => ({
  replicas: 3,
  updateRevision: 'new',
  observedPartition: 3,
  templateChanging: false,
  pods,
  podReadyTimeoutMs: 300_000,
  now,
  ...over,
});

test('a new template is applied holding every pod; nothing outdated is steady at partition = replicas', () => {
  assert.equal(planRollout(input([pod(0, 'old'), pod(1, 'old'), pod(2, 'old')], { templateChanging: true })).partition, 3);
  assert.equal(planRollout(input([pod(0, 'new'), pod(1, 'new'), pod(2, 'new')], { observedPartition: 0 })), {
    phase: 'Steady',
    partition: 3,
    message: 'every pod runs the current revision',
  });
});

test('the highest outdated pod is next once every other pod is ready; the gate decides, the partition holds until then', () => {
  const first = planRollout(input([pod(0, 'old'), pod(1, 'old'), pod(2, 'old')]));
  assert.equal([first.phase, first.partition, first.next], ['ReadyForNext', 3, 2]);
  assert.is(first.settledSince, ago(99), 'the latest time a pod became ready');
  // Pod 2 was replaced and is coming back: hold at 2, do not touch pod 1.
  const waiting = planRollout(input([pod(0, 'old'), pod(1, 'old'), pod(2, 'new', false, { createdAt: ago(20) })], { observedPartition: 2 }));
  assert.equal([waiting.phase, waiting.partition, waiting.next], ['WaitingForPod', 2, undefined]);
  assert.match(waiting.message, 'waiting for pod(s) 2 to be ready before replacing pod 1');
  const next = planRollout(input([pod(0, 'old'), pod(1, 'old'), pod(2, 'new')], { observedPartition: 2 }));
  assert.equal([next.phase, next.partition, next.next], ['ReadyForNext', 2, 1]);
});

test('never back up within a rollout: a pod being replaced is not recreated at the old revision', () => {
  // Partition already lowered to 1; pod 1 is terminating (still the old revision) and pod 2 is fine.
  const s = planRollout(input([pod(0, 'old'), pod(1, 'old', true, { terminating: true }), pod(2, 'new')], { observedPartition: 1 }));
  assert.is(s.partition, 1);
});

test('a replaced pod not ready after the timeout pauses the rollout; an outdated broken pod may still be replaced', () => {
  const paused = planRollout(input([pod(0, 'old'), pod(1, 'new', false, { createdAt: ago(400) }), pod(2, 'new')], { observedPartition: 1 }));
  assert.equal([paused.phase, paused.partition], ['Paused', 1]);
  assert.match(paused.message, 'pod 1 runs the new revision but has not been ready for 300 s');
  const broken = planRollout(input([pod(0, 'new'), pod(1, 'old', false), pod(2, 'new')], { observedPartition: 2 }));
  assert.equal([broken.phase, broken.next], ['ReadyForNext', 1], 'the rollout is what fixes it');
  const other = planRollout(input([pod(0, 'old', false), pod(1, 'old'), pod(2, 'old')]));
  assert.equal([other.phase, other.partition], ['WaitingForPod', 3], 'another pod down: wait');
});

test('the redundancy gate names what it waits for; maintenance 412 for write quorum alone is accepted', () => {
  const ok = { membersDown: [], membersNotActive: [], underReplicatedChunks: 0, stalePasses: [], maintenance: { ok: true, reason: 'safe' } };
  assert.is(redundancyProblem(ok), undefined);
  assert.is(redundancyProblem({ ...ok, stalePasses: ['demo-nodes-0'] }), 'waiting for a repair pass after the last restart on demo-nodes-0');
  assert.is(redundancyProblem({ ...ok, underReplicatedChunks: 4 }), '4 chunks under-replicated');
  assert.is(redundancyProblem({ ...ok, membersDown: ['demo-nodes-2'] }), 'members down: demo-nodes-2');
  assert.equal(maintenanceGate(200, { reason: 'every bucket keeps its write quorum' }).ok, true);
  assert.equal(maintenanceGate(412, { reason: 'repair pending', details: { underReplicatedChunks: 3 } }), { ok: false, reason: 'repair pending' });
  assert.equal(
    maintenanceGate(412, { reason: 'stopping would drop 1 bucket(s) below write quorum', details: { buckets: ['b'], otherMembersUnavailable: 0 } }).ok,
    true,
  );
  assert.equal(maintenanceGate(412, { reason: 'x', details: { buckets: ['b'], otherMembersUnavailable: 1 } }).ok, false, 'another member is already out');
  assert.equal(maintenanceGate(undefined, undefined), { ok: false, reason: 'no answer' });
});

test.run();
