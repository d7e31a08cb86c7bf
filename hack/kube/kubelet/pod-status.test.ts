import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConditionClock, podPhase, podStatus, qosClass, type ContainerView, type PodView } from './pod-status.ts';

const c = (over: Partial<ContainerView> = {}): ContainerView => ({
  name: 'c',
  image: 'i',
  init: false,
  restartPending: false,
  restartCount: 0,
  ready: false,
  started: true,
  forcedUnready: false,
  state: {},
  lastState: {},
  ...over,
});
const view = (containers: ContainerView[], over: Partial<PodView> = {}): PodView => ({
  nodeName: 'n',
  prepared: true,
  initDone: true,
  restartPolicy: 'Always',
  ip: '127.0.1.2',
  startTime: 't',
  containers,
  ...over,
});
const exited = (exitCode: number) => ({ terminated: { exitCode } });

test('phase: Pending before start, Running while running or restarting, Succeeded/Failed at the end', () => {
  assert.is(podPhase(view([c()], { prepared: false })), 'Pending');
  assert.is(podPhase(view([c({ pid: 5, state: { running: {} } })])), 'Running');
  assert.is(podPhase(view([c({ restartPending: true, state: { waiting: { reason: 'CrashLoopBackOff' } } })])), 'Running');
  assert.is(podPhase(view([c({ state: exited(0) }), c({ state: exited(0) })])), 'Succeeded');
  assert.is(podPhase(view([c({ state: exited(0) }), c({ state: exited(1) })])), 'Failed');
  assert.is(podPhase(view([c({ init: true, state: exited(1) }), c()], { initDone: false, restartPolicy: 'Never' })), 'Failed');
  assert.is(podPhase(view([c({ init: true, state: exited(1) }), c()], { initDone: false })), 'Pending');
});

test('Ready needs every container ready and not forced unready; transition times only move on change', () => {
  const clock = new ConditionClock();
  const ready = (s: Record<string, any>) => s.conditions.find((x: { type: string }) => x.type === 'Ready');
  const running = { pid: 5, state: { running: {} } };
  const s1 = podStatus(view([c({ ...running, ready: true }), c({ ...running, ready: false })]), clock);
  assert.is(ready(s1).status, 'False');
  assert.is(ready(s1).reason, 'ContainersNotReady');
  const s2 = podStatus(view([c({ ...running, ready: true }), c({ ...running, ready: true })]), clock);
  assert.is(ready(s2).status, 'True');
  assert.equal(
    (s2.containerStatuses as { containerID: string }[]).map((x) => x.containerID),
    ['process://n/5', 'process://n/5'],
  );
  const s3 = podStatus(view([c({ ...running, ready: true, forcedUnready: true })]), clock);
  assert.is(ready(s3).status, 'False');
  assert.is(s2.podIP, '127.0.1.2');
});

test('QoS class from requests and limits', () => {
  assert.is(qosClass({ containers: [{}] }), 'BestEffort');
  assert.is(qosClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] }), 'Guaranteed');
  assert.is(qosClass({ containers: [{ resources: { limits: { memory: '2048Mi' }, requests: { cpu: '100m', memory: '256Mi' } } }] }), 'Burstable');
});

test.run();
