import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClusterStatus, MemberStatus, RepairProgress } from '../../../node-runtime/src/admin/types.ts';
import { fixtureCluster } from '../../test/fixtures.ts';
import { computeClusterStatus, type ObservedCluster, type ObservedStatefulSet } from './cluster-status.ts';
import { decideScaling } from './scaling.ts';

const idle: RepairProgress = { underReplicatedChunks: 0, misplacedChunks: 0, bytesRemaining: 0, bytesMoved: 0, rateBytesPerSec: 0, etaSeconds: null };
const member = (name: string, state: MemberStatus['state'] = 'active'): MemberStatus => ({
  id: name,
  name,
  roles: [name.includes('roots') ? 'root' : 'node'],
  state,
  zone: '',
  weight: 1,
  api: '',
  cluster: '',
  capacityBytes: 10 * 2 ** 30,
  usedBytes: 2 ** 30,
  chunks: 10,
  heartbeatAgeMs: 100,
  repair: idle,
});
const admin = (members: MemberStatus[], repair = idle, writeQuorumAvailable = true): ClusterStatus => ({
  clusterId: 'x',
  endpoint: 'http://x',
  region: 'us-east-1',
  members,
  buckets: [],
  repair,
  counts: { joining: 0, active: 0, draining: 0, drained: 0, down: 0 },
  capacityBytes: 30 * 2 ** 30,
  usedBytes: 3 * 2 ** 30,
  writeQuorumAvailable,
});
const sts = (n: number, ready = n): ObservedStatefulSet => ({
  specReplicas: n,
  replicas: n,
  readyReplicas: ready,
  updatedReplicas: n,
  currentRevision: 'a',
  updateRevision: 'a',
});
const cluster = fixtureCluster();
const healthy = ['demo-nodes-0', 'demo-nodes-1', 'demo-nodes-2'].map((n) => member(n));
const observed = (over: Partial<ObservedCluster> = {}): ObservedCluster => ({
  roots: sts(3),
  nodes: sts(3),
  admin: admin(healthy),
  desiredNodes: 3,
  plan: decideScaling({ desired: 3, statefulSetReplicas: 3, podsPresent: 3, members: [], underReplicatedChunks: 0, nodePrefix: 'demo-nodes' }),
  ...over,
});
const cond = (s: ReturnType<typeof computeClusterStatus>, type: string) => s.conditions!.find((c) => c.type === type)!;
const now = new Date('2026-11-21T12:00:00Z');

test('all ready, full redundancy → Ready with printer-column fields filled', () => {
  const s = computeClusterStatus(cluster, observed(), now);
  assert.is(s.phase, 'Ready');
  assert.is(s.observedGeneration, 1);
  assert.equal(
    s.conditions!.map((c) => `${c.type}=${c.status}`),
    ['Ready=True', 'Progressing=False', 'Degraded=False', 'Rebalancing=False', 'ScaleDownBlocked=False'],
  );
  assert.equal(s.nodes, {
    desired: 3,
    replicas: 3,
    ready: 3,
    selector: 'storage.cairn.dev/cluster=demo,storage.cairn.dev/role=node',
    active: 3,
    draining: 0,
    down: 0,
    drainingMembers: [],
  });
  assert.is(s.capacity!.summary, '3Gi/30Gi (10%)');
  assert.is(s.replication!.underReplicatedChunks, 0);
  assert.is(s.endpoint, 'http://demo.storage.svc.cluster.local:9000');
});

test('a lost cluster Secret: Degraded and not Ready, saying how to restore it, whatever the pods do', () => {
  const s = computeClusterStatus(
    cluster,
    observed({ admin: undefined, adminError: 'the cluster Secret is gone', credentialsLost: 'restore it from your backup' }),
    now,
  );
  assert.is(s.phase, 'Degraded');
  assert.equal([cond(s, 'Ready').status, cond(s, 'Ready').reason], ['False', 'ClusterSecretMissing']);
  assert.equal(
    [cond(s, 'Degraded').status, cond(s, 'Degraded').reason, cond(s, 'Degraded').message],
    ['True', 'ClusterSecretMissing', 'restore it from your backup'],
  );
});

test("zones: the node members' zones as placement sees them, named zones only, drained members left out", () => {
  const zoned = (name: string, zone: string, state: MemberStatus['state'] = 'active') => ({ ...member(name, state), zone });
  const s = computeClusterStatus(
    cluster,
    observed({
      admin: admin([
        zoned('demo-nodes-0', 'b'),
        zoned('demo-nodes-1', 'a'),
        zoned('demo-nodes-2', 'b'),
        zoned('demo-nodes-3', 'c', 'drained'),
        zoned('demo-nodes-4', ''),
        zoned('demo-roots-0', 'a'),
      ]),
    }),
    now,
  );
  assert.equal(s.zones, [
    { name: 'a', members: ['demo-nodes-1'] },
    { name: 'b', members: ['demo-nodes-0', 'demo-nodes-2'] },
  ]);
  assert.equal(
    computeClusterStatus({ ...cluster, status: s }, observed({ admin: undefined, adminError: 'down' }), now).zones,
    s.zones,
    'kept while the roots do not answer',
  );
});

test('a gated rollout: Progressing says what it waits for; a pod that does not come back sets RolloutPaused', () => {
  const waiting = computeClusterStatus(
    cluster,
    observed({
      rollouts: [
        { role: 'root', phase: 'Steady', partition: 3, message: 'every pod runs the current revision' },
        { role: 'node', phase: 'WaitingForPod', partition: 2, message: 'before replacing demo-nodes-1: 3 chunks under-replicated' },
      ],
    }),
    now,
  );
  assert.equal([cond(waiting, 'Progressing').status, cond(waiting, 'Progressing').reason], ['True', 'RollingOut']);
  assert.is(cond(waiting, 'Progressing').message, 'nodes: before replacing demo-nodes-1: 3 chunks under-replicated');
  assert.is(cond(waiting, 'RolloutPaused').status, 'False');
  const paused = computeClusterStatus(
    cluster,
    observed({
      rollouts: [
        { role: 'node', phase: 'Paused', partition: 1, message: 'pod 1 runs the new revision but has not been ready for 600 s; the rollout waits for it' },
      ],
    }),
    now,
  );
  assert.equal([cond(paused, 'RolloutPaused').status, cond(paused, 'RolloutPaused').reason], ['True', 'PodNotReady']);
  assert.match(cond(paused, 'RolloutPaused').message, 'nodes: pod 1 runs the new revision');
});

test('a crashed node: Degraded + Rebalancing until under-replicated is 0', () => {
  const repairing = { ...idle, underReplicatedChunks: 42, bytesRemaining: 5 * 2 ** 20, etaSeconds: 12.2 };
  const s = computeClusterStatus(
    cluster,
    observed({ nodes: sts(3, 2), admin: admin([...healthy.slice(0, 2), member('demo-nodes-2', 'down')], repairing) }),
    now,
  );
  assert.is(s.phase, 'Degraded');
  assert.equal([cond(s, 'Ready').status, cond(s, 'Ready').reason], ['False', 'MembersDown']);
  assert.equal([cond(s, 'Degraded').status, cond(s, 'Degraded').reason], ['True', 'MembersDown']);
  assert.match(cond(s, 'Degraded').message, 'demo-nodes-2');
  assert.equal([cond(s, 'Rebalancing').status, cond(s, 'Rebalancing').message], ['True', '5Mi to move, 42 under-replicated, 0 misplaced chunks, ETA 13 s']);
  assert.equal(s.rebalance, { bytesRemaining: 5 * 2 ** 20, bytesMoved: 0, rateBytesPerSec: 0, etaSeconds: 13 });
  // back up, still repairing → not Ready yet
  const r = computeClusterStatus(cluster, observed({ admin: admin(healthy, repairing) }), now);
  assert.equal([r.phase, cond(r, 'Ready').reason, cond(r, 'Degraded').reason], ['Degraded', 'UnderReplicated', 'UnderReplicated']);
});

test('a serving cluster that loses a node pod is Degraded at once; a new one is only Creating', () => {
  const serving = { ...cluster, status: computeClusterStatus(cluster, observed(), now) };
  const s = computeClusterStatus(serving, observed({ nodes: sts(3, 2) }), now);
  assert.equal([s.phase, cond(s, 'Degraded').reason, cond(s, 'Ready').reason], ['Degraded', 'NodesUnavailable', 'NodesNotReady']);
  const fresh = computeClusterStatus(cluster, observed({ nodes: sts(3, 2) }), now);
  assert.equal([fresh.phase, cond(fresh, 'Degraded').status], ['Pending', 'False']);
});

test('admin API unreachable: not Ready, Rebalancing Unknown, last capacity kept', () => {
  const prev = computeClusterStatus(cluster, observed(), now);
  const c2 = { ...cluster, status: prev };
  const s = computeClusterStatus(c2, observed({ admin: undefined, adminError: 'ECONNREFUSED' }), now);
  assert.equal([cond(s, 'Ready').reason, cond(s, 'Rebalancing').status], ['AdminUnreachable', 'Unknown']);
  assert.match(cond(s, 'Ready').message, 'ECONNREFUSED');
  assert.is(s.capacity!.summary, '3Gi/30Gi (10%)');
});

test('draining and blocked scale-down are visible', () => {
  const members = [...healthy, member('demo-nodes-3', 'draining')];
  const plan = decideScaling({ desired: 3, statefulSetReplicas: 4, podsPresent: 4, members, underReplicatedChunks: 0, nodePrefix: 'demo-nodes' });
  const s = computeClusterStatus(
    cluster,
    observed({ nodes: sts(4), admin: admin(members), plan, scaleDownBlocked: { member: 'demo-nodes-3', message: 'remaining capacity 1Gi < 3Gi used' } }),
    now,
  );
  assert.equal([s.phase, cond(s, 'Progressing').reason], ['Scaling', 'Draining']);
  assert.match(cond(s, 'Progressing').message, 'draining demo-nodes-3 before scale-down to 3');
  assert.equal([cond(s, 'ScaleDownBlocked').status, cond(s, 'ScaleDownBlocked').reason], ['True', 'DrainRefused']);
  assert.match(cond(s, 'ScaleDownBlocked').message, 'remaining capacity');
  assert.equal(s.nodes!.drainingMembers, ['demo-nodes-3']);
});

test('Progressing stays True while the first pods are created and start, False once all are ready', () => {
  const fresh = (o: Partial<ObservedCluster>) =>
    cond(computeClusterStatus(cluster, observed({ admin: undefined, adminError: 'not yet', ...o }), now), 'Progressing');
  assert.equal([fresh({ roots: undefined, nodes: undefined }).status, fresh({ roots: undefined, nodes: undefined }).reason], ['True', 'Creating']);
  // Every pod exists and runs the current revision, none is ready yet: still progressing.
  const starting = fresh({ roots: sts(3, 0), nodes: sts(3, 0) });
  assert.equal([starting.status, starting.reason, starting.message], ['True', 'WaitingForPods', 'pods ready: roots 0/3, nodes 0/3']);
  assert.equal([fresh({ roots: sts(3), nodes: sts(3, 2) }).status, fresh({ roots: sts(3), nodes: sts(3, 2) }).reason], ['True', 'WaitingForPods']);
  const done = cond(computeClusterStatus(cluster, observed(), now), 'Progressing');
  assert.equal([done.status, done.reason], ['False', 'Stable']);
});

test('a spec that cannot be carried out is Failed with the reason and message, whatever the pods do', () => {
  const why = 'the API server refused StatefulSet demo-nodes: spec: Forbidden: updates to statefulset spec for fields other than ...';
  const s = computeClusterStatus(cluster, observed({ invalidSpec: why }), now);
  assert.is(s.phase, 'Failed');
  assert.equal([cond(s, 'Ready').status, cond(s, 'Ready').reason, cond(s, 'Ready').message], ['False', 'InvalidSpec', why]);
  assert.is(s.nodes!.ready, 3, 'what is running is still reported');
});

test('lastTransitionTime moves only when a condition flips', () => {
  const first = computeClusterStatus(cluster, observed(), now);
  const later = new Date(now.getTime() + 60_000);
  const same = computeClusterStatus({ ...cluster, status: first }, observed(), later);
  assert.is(cond(same, 'Ready').lastTransitionTime, now.toISOString());
  const flipped = computeClusterStatus({ ...cluster, status: first }, observed({ nodes: sts(3, 1) }), later);
  assert.is(cond(flipped, 'Ready').lastTransitionTime, later.toISOString());
});

test.run();
