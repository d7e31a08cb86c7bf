// The Pod status a kubelet reports (pure): phase from the containers' states and the restart
// policy, the standard conditions with their transition times, and the container statuses.
export interface ContainerView {
  name: string;
  image: string;
  init: boolean;
  pid?: number;
  restartPending: boolean;
  restartCount: number;
  ready: boolean;
  started: boolean;
  forcedUnready: boolean;
  state: Record<string, any>;
  lastState: Record<string, any>;
}

export interface PodView {
  qosClass?: string;
  nodeName: string;
  prepared: boolean;
  initDone: boolean;
  restartPolicy: string;
  ip?: string;
  startTime: string;
  containers: ContainerView[];
}

export const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Pending until prepared and initialised; Running while any container runs or will restart;
 *  Succeeded when every container exited 0, Failed otherwise (or when an init container failed for good). */
export function podPhase(v: PodView): string {
  if (!v.prepared || !v.initDone) {
    const failedInit = v.restartPolicy === 'Never' && v.containers.some((c) => c.init && c.state.terminated && c.state.terminated.exitCode !== 0);
    return failedInit ? 'Failed' : 'Pending';
  }
  const main = v.containers.filter((c) => !c.init);
  if (main.some((c) => c.pid || c.restartPending)) return 'Running';
  if (main.every((c) => c.state.terminated)) return main.every((c) => c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed';
  return 'Running';
}

/** Remembers when each condition last changed status (lastTransitionTime). */
export class ConditionClock {
  private readonly seen = new Map<string, { status: string; time: string }>();
  condition(type: string, ok: boolean, reason?: string) {
    const status = ok ? 'True' : 'False';
    const prev = this.seen.get(type);
    if (!prev || prev.status !== status) this.seen.set(type, { status, time: now() });
    return { type, status, lastTransitionTime: this.seen.get(type)!.time, ...(ok || !reason ? {} : { reason }) };
  }
}

export function podStatus(v: PodView, clock: ConditionClock): Record<string, unknown> {
  const main = v.containers.filter((c) => !c.init);
  const phase = podPhase(v);
  const ready = v.initDone && phase === 'Running' && main.every((c) => c.ready && !c.forcedUnready);
  const toStatus = (c: ContainerView) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ...(c.pid ? { containerID: `process://${v.nodeName}/${c.pid}` } : {}),
    ready: c.ready && !c.forcedUnready,
    started: !c.init && Boolean(c.pid) && c.started,
    restartCount: c.restartCount,
    state: c.state,
    lastState: c.lastState,
  });
  const init = v.containers.filter((c) => c.init);
  return {
    phase,
    ...(v.ip ? { podIP: v.ip, podIPs: [{ ip: v.ip }] } : {}),
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    startTime: v.startTime,
    qosClass: v.qosClass ?? 'BestEffort',
    conditions: [
      clock.condition('PodReadyToStartContainers', v.prepared),
      clock.condition('Initialized', v.initDone, 'ContainersNotInitialized'),
      clock.condition('Ready', ready, 'ContainersNotReady'),
      clock.condition('ContainersReady', ready, 'ContainersNotReady'),
      clock.condition('PodScheduled', true),
    ],
    ...(init.length ? { initContainerStatuses: init.map(toStatus) } : {}),
    containerStatuses: main.map(toStatus),
  };
}

/** The pod's QoS class from its containers' resources, as the API reports it. */
export function qosClass(spec: { containers?: any[]; initContainers?: any[] }): string {
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  let any = false;
  let guaranteed = all.length > 0;
  for (const c of all) {
    const limits = c.resources?.limits ?? {};
    const requests = { ...limits, ...(c.resources?.requests ?? {}) };
    if (Object.keys(requests).length || Object.keys(limits).length) any = true;
    for (const r of ['cpu', 'memory']) if (limits[r] === undefined || String(requests[r]) !== String(limits[r])) guaranteed = false;
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}
