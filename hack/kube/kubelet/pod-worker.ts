// One pod on this "node": prepares its IP, volumes and config, runs its init containers then its
// containers as local process groups (logs to files), restarts them per restartPolicy with the
// kubelet's crash-loop backoff, runs startup/readiness/liveness probes, and reports the pod status
// (phase, podIP, conditions, containerStatuses) with a merge patch on the status subresource.
// Termination: SIGTERM to every process group, SIGKILL after the grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Clients } from '../controllers/client.ts';
import { isNotFound, mergePatch, stableJson } from '../controllers/client.ts';
import type { KubeObject } from '../controllers/informers.ts';
import { ContainerConfigError, containerEnv, mountTable, processSpec, type ProcessSpec } from './container-env.ts';
import { fetchPodConfig } from './pod-config.ts';
import { Prober, type ProbeTarget } from './probes.ts';
import { prepareVolumes, refreshConfigVolumes, removePodDirs } from './volumes.ts';
import type { PodIpAllocator } from './ip.ts';
import { ConditionClock, now, podPhase, podStatus, qosClass, type PodView } from './pod-status.ts';
import type { RecordEvent } from '../controllers/events.ts';
import { backoffDelay } from '../../../operator/src/controller/backoff.ts';

export interface WorkerContext {
  nodeName: string;
  dataDir: string;
  repoRoot: string;
  hostsFile: string;
  kubeconfigPath?: string;
  clients: Clients;
  ips: PodIpAllocator;
  log: Logger;
  crashLoop: { initialMs: number; maxMs: number };
  maxProbePeriodMs?: number;
  /** Claim directories held by live pods (ReadWriteOnce: a replacement pod waits for the old one). */
  claims: Map<string, string>;
  /** Every running process group, so the kubelet can kill them all when its process exits. */
  groups: Set<number>;
  record: RecordEvent;
}

type State = Record<string, any>;
interface Run {
  spec: any;
  init: boolean;
  proc?: ChildProcess;
  process?: ProcessSpec;
  restartCount: number;
  crashes: number;
  startedAt?: number;
  ready: boolean;
  started: boolean;
  forcedUnready: boolean;
  state: State;
  lastState: State;
  probers: Prober[];
  restartTimer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

const LONG_RUN_MS = 10 * 60_000; // a container up this long has its crash-loop backoff reset

export class PodWorker {
  pod: KubeObject;
  private readonly ctx: WorkerContext;
  private readonly runs: Run[] = [];
  private ip?: string;
  private prepared = false;
  private initDone = false;
  private terminating?: Promise<void>;
  private readonly clock = new ConditionClock();
  private pushing: Promise<void> = Promise.resolve();
  private deleted = false; // the API object is gone: a pod with this name may be a new one
  private lastPushed = '';
  private readonly startTime: string;
  private prepareError?: string;
  private prepareTimer?: NodeJS.Timeout;

  constructor(pod: KubeObject, ctx: WorkerContext) {
    this.pod = pod;
    this.ctx = ctx;
    this.startTime = pod.status?.startTime ?? now();
    const previous = new Map<string, any>([...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => [s.name, s]));
    for (const [init, list] of [
      [true, pod.spec.initContainers ?? []],
      [false, pod.spec.containers ?? []],
    ] as const) {
      for (const spec of list) {
        // A pod picked up again (kubelet restart) counts its containers' earlier lives.
        const prev = previous.get(spec.name);
        this.runs.push({
          spec,
          init,
          restartCount: prev ? prev.restartCount + (prev.state?.running ? 1 : 0) : 0,
          crashes: 0,
          ready: false,
          started: false,
          forcedUnready: false,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: prev?.lastState ?? {},
          probers: [],
        });
      }
    }
  }

  get uid(): string {
    return this.pod.metadata.uid!;
  }
  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.deleted) this.ctx.record({ kind: 'Pod', metadata: this.pod.metadata }, type, reason, message);
  }
  get key(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }
  get podIP(): string | undefined {
    return this.ip;
  }
  isTerminating(): boolean {
    return this.terminating !== undefined;
  }

  start(): void {
    void this.prepareLoop(0);
  }

  private async prepareLoop(attempt: number): Promise<void> {
    if (this.terminating) return;
    try {
      await this.prepare();
    } catch (e) {
      if (this.prepareError !== (e as Error).message)
        this.event('Warning', e instanceof ContainerConfigError ? 'Failed' : 'FailedMount', `Error: ${(e as Error).message}`);
      this.prepareError = (e as Error).message;
      for (const r of this.runs)
        r.state = { waiting: { reason: e instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'ContainerCreating', message: this.prepareError } };
      this.pushStatus();
      this.prepareTimer = setTimeout(() => void this.prepareLoop(attempt + 1), backoffDelay(attempt + 1, { baseMs: 250, maxMs: 5000, jitter: 0 }));
      return;
    }
    this.prepareError = undefined;
    this.prepared = true;
    this.runNext();
  }

  private async prepare(): Promise<void> {
    const pod = this.pod;
    const ns = pod.metadata.namespace!;
    for (const v of pod.spec.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue;
      try {
        await this.ctx.clients.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: v.persistentVolumeClaim.claimName });
      } catch (e) {
        if (isNotFound(e)) throw new Error(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" not found`);
        throw e;
      }
      const holder = this.ctx.claims.get(`${ns}/${v.persistentVolumeClaim.claimName}`);
      if (holder && holder !== this.uid) throw new Error(`volume "${v.name}" is still in use by a terminating pod`);
    }
    for (const v of pod.spec.volumes ?? []) if (v.persistentVolumeClaim) this.ctx.claims.set(`${ns}/${v.persistentVolumeClaim.claimName}`, this.uid);
    this.ip ??= this.ctx.ips.allocate(this.uid, this.key, pod.status?.podIP);
    const withIp = { ...pod, status: { ...(pod.status ?? {}), podIP: this.ip, podIPs: [{ ip: this.ip }], hostIP: '127.0.0.1' } };
    const src = await fetchPodConfig(this.ctx.clients, pod);
    const dirs = prepareVolumes(withIp, this.ctx.dataDir, src);
    const preload = pathToFileURL(join(this.ctx.repoRoot, 'hack/kube/kubelet/dns-preload.ts')).href;
    const hostname = pod.spec.hostname ?? pod.metadata.name;
    for (const r of this.runs) {
      const env = containerEnv(withIp, r.spec, src);
      const spec = processSpec(r.spec, env, mountTable(r.spec, dirs), this.ctx.repoRoot, process.execPath);
      // What a container gets from its runtime rather than its spec: PATH, HOSTNAME, cluster DNS.
      spec.env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        HOSTNAME: hostname,
        ...(this.ctx.kubeconfigPath ? { KUBECONFIG: this.ctx.kubeconfigPath } : {}),
        ...spec.env,
        NODE_OPTIONS: `--import=${preload}${spec.env.NODE_OPTIONS ? ' ' + spec.env.NODE_OPTIONS : ''}`,
        CAIRN_KUBE_HOSTS: this.ctx.hostsFile,
        CAIRN_KUBE_NAMESPACE: ns,
        CAIRN_KUBE_SELF: JSON.stringify({ hostname, subdomain: pod.spec.subdomain, namespace: ns, ip: this.ip }),
        CAIRN_KUBE_POD_IP: this.ip!,
        CAIRN_KUBE_KUBELET_PID: String(process.pid),
      };
      r.process = spec;
    }
  }

  /** Start the next init container, or all containers once the init containers are done. */
  private runNext(): void {
    if (this.terminating) return;
    const pendingInit = this.runs.find((r) => r.init && !(r.state.terminated?.exitCode === 0));
    if (pendingInit) {
      if (!pendingInit.proc && !pendingInit.restartTimer) this.startContainer(pendingInit);
      return;
    }
    this.initDone = true;
    for (const r of this.runs) if (!r.init && !r.proc && !r.restartTimer && !r.state.terminated) this.startContainer(r);
    this.pushStatus();
  }

  private startContainer(r: Run): void {
    if (this.terminating || !r.process) return;
    let proc: ChildProcess;
    try {
      proc = this.spawnContainer(r);
    } catch (e) {
      // Out of file descriptors, a log directory that cannot be made, a spawn refused: the pod
      // reports it and the start is retried with the crash-loop backoff, as the real kubelet
      // does with RunContainerError. Never an exception that takes the node down.
      this.failedStart(r, `failed to start container "${r.spec.name}": ${(e as Error).message}`);
      return;
    }
    r.proc = proc;
    r.startedAt = Date.now();
    r.ready = false;
    r.started = !r.spec.startupProbe;
    r.state = { running: { startedAt: now() } };
    if (proc.pid) this.ctx.groups.add(proc.pid);
    this.ctx.log.info({ pod: this.key, container: r.spec.name, pid: proc.pid, ip: this.ip }, 'container started');
    this.event('Normal', 'Started', `Started container ${r.spec.name}`);
    r.exited = new Promise((resolve) => {
      proc.on('error', (e) => {
        this.onExit(r, proc, 127, null, e.message);
        resolve();
      });
      proc.on('exit', (code, signal) => {
        this.onExit(r, proc, code, signal);
        resolve();
      });
    });
    if (!r.init) this.startProbes(r);
    this.pushStatus();
  }

  private spawnContainer(r: Run): ChildProcess {
    const file = this.logFile(r.spec.name)!;
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(file, 'a');
    try {
      return spawn(r.process!.file, r.process!.args, { env: r.process!.env, cwd: r.process!.cwd, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
  }

  private failedStart(r: Run, message: string): void {
    this.ctx.log.warn({ pod: this.key, container: r.spec.name, err: message }, 'container start failed; retrying with backoff');
    this.event('Warning', 'Failed', `Error: ${message}`);
    r.state = { waiting: { reason: 'RunContainerError', message } };
    this.scheduleStart(r, this.crashLoopDelay(r));
    this.pushStatus();
  }

  /** The kubelet's crash-loop backoff: at once the first time, then initial × 2^n up to the max. */
  private crashLoopDelay(r: Run): number {
    const delay = r.crashes === 0 ? 0 : backoffDelay(r.crashes, { baseMs: this.ctx.crashLoop.initialMs, maxMs: this.ctx.crashLoop.maxMs, jitter: 0 });
    r.crashes++;
    return delay;
  }

  private scheduleStart(r: Run, delayMs: number, onStart?: () => void): void {
    r.restartTimer = setTimeout(
      () => {
        r.restartTimer = undefined;
        onStart?.();
        this.startContainer(r);
      },
      Math.max(delayMs, 100),
    ); // even "at once" yields, so a failing start cannot spin
  }

  private startProbes(r: Run): void {
    // exec probes run with the container's environment; `node` means this Node, as for containers.
    const execTarget = (probe: any) => (): ProbeTarget => ({
      podIP: this.ip!,
      containerPorts: r.spec.ports ?? [],
      exec: probe.exec
        ? {
            file: probe.exec.command[0] === 'node' ? process.execPath : probe.exec.command[0],
            args: probe.exec.command.slice(1),
            env: r.process!.env,
            cwd: r.process!.cwd,
          }
        : undefined,
    });
    const max = this.ctx.maxProbePeriodMs;
    const afterStartup = () => {
      if (r.spec.readinessProbe) {
        r.probers.push(
          new Prober(
            r.spec.readinessProbe,
            execTarget(r.spec.readinessProbe),
            (res) => {
              if (r.ready !== (res === 'success')) {
                r.ready = res === 'success';
                if (!r.ready) this.event('Warning', 'Unhealthy', `Readiness probe failed for container ${r.spec.name}`);
                this.pushStatus();
              }
            },
            max,
          ),
        );
      } else {
        r.ready = true;
        this.pushStatus();
      }
      if (r.spec.livenessProbe) {
        r.probers.push(
          new Prober(
            r.spec.livenessProbe,
            execTarget(r.spec.livenessProbe),
            (res) => {
              if (res === 'failure') {
                this.ctx.log.info({ pod: this.key, container: r.spec.name }, 'liveness probe failed; killing');
                this.event('Warning', 'Unhealthy', `Liveness probe failed: container ${r.spec.name} will be restarted`);
                void this.stopContainer(r, r.spec.livenessProbe.terminationGracePeriodSeconds ?? this.pod.spec.terminationGracePeriodSeconds ?? 30);
              }
            },
            max,
            true,
          ),
        );
      }
    };
    if (r.spec.startupProbe) {
      const p: Prober = new Prober(
        r.spec.startupProbe,
        execTarget(r.spec.startupProbe),
        (res) => {
          p.stop();
          if (res === 'success') {
            r.started = true;
            afterStartup();
          } else void this.stopContainer(r, this.pod.spec.terminationGracePeriodSeconds ?? 30);
        },
        max,
        true,
      );
      r.probers.push(p);
    } else afterStartup();
  }

  private onExit(r: Run, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null, message?: string): void {
    if (r.proc !== proc) return;
    if (proc.pid) this.ctx.groups.delete(proc.pid);
    r.proc = undefined;
    for (const p of r.probers.splice(0)) p.stop();
    r.ready = false;
    const exitCode = code ?? (signal ? 128 + (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal] ?? 1) : 1);
    const terminated = {
      exitCode,
      ...(signal ? { signal: 0 } : {}),
      reason: exitCode === 0 ? 'Completed' : 'Error',
      ...(message ? { message } : {}),
      startedAt: r.state.running?.startedAt ?? now(),
      finishedAt: now(),
    };
    this.ctx.log.info({ pod: this.key, container: r.spec.name, exitCode, signal }, 'container exited');
    r.state = { terminated };
    if (this.terminating) {
      this.pushStatus();
      return;
    }
    const policy = this.pod.spec.restartPolicy ?? 'Always';
    const restart = r.init ? exitCode !== 0 && policy !== 'Never' : policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      this.pushStatus();
      if (r.init && exitCode === 0) this.runNext();
      return;
    }
    if (r.startedAt && Date.now() - r.startedAt > LONG_RUN_MS) r.crashes = 0;
    const delay = this.crashLoopDelay(r);
    r.lastState = { terminated };
    if (delay > 0) this.event('Warning', 'BackOff', `Back-off restarting failed container ${r.spec.name} in pod ${this.pod.metadata.name}`);
    if (delay > 0)
      r.state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${r.spec.name} pod=${this.pod.metadata.name}`,
        },
      };
    this.scheduleStart(r, delay, () => {
      r.restartCount++;
    });
    this.pushStatus();
  }

  /** SIGTERM the container's process group, SIGKILL after `graceSeconds`; resolves when it exited. */
  async stopContainer(r: Run, graceSeconds: number): Promise<void> {
    const proc = r.proc;
    if (!proc?.pid) return;
    try {
      process.kill(-proc.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, graceSeconds * 1000);
    await r.exited;
    clearTimeout(killer);
  }

  /** The log file of a container's current run (or the one before, `previous`), as the real
   *  kubelet keeps them: <dataDir>/logs/<ns>_<pod>_<uid>/<container>/<restartCount>.log. */
  logFile(container: string, previous = false): string | undefined {
    const r = this.runs.find((x) => x.spec.name === container);
    if (!r || (previous && r.restartCount === 0)) return undefined;
    const dir = join(this.ctx.dataDir, 'logs', `${this.pod.metadata.namespace}_${this.pod.metadata.name}_${this.uid}`, container);
    return join(dir, `${r.restartCount - (previous ? 1 : 0)}.log`);
  }

  /** Rewrite the Secret/ConfigMap volumes from the current objects (env stays as it was at start,
   *  as in Kubernetes). Failures keep the old files; the next change or resync tries again. */
  async refreshConfigVolumes(): Promise<void> {
    if (!this.prepared || this.terminating) return;
    try {
      const changed = refreshConfigVolumes(this.pod, this.ctx.dataDir, await fetchPodConfig(this.ctx.clients, this.pod));
      if (changed.length) this.ctx.log.info({ pod: this.key, volumes: changed }, 'config volumes updated');
    } catch (e) {
      this.ctx.log.debug({ pod: this.key, err: String(e) }, 'config volume refresh failed');
    }
  }

  /** Whether the container has a live process now (for following its log). */
  isRunning(container: string): boolean {
    return Boolean(this.runs.find((x) => x.spec.name === container)?.proc);
  }

  containerNames(): string[] {
    return this.runs.map((r) => r.spec.name);
  }

  /** Fault injection: signal a container's process group as a crash would (default: the first container). */
  kill(container?: string, signal: NodeJS.Signals = 'SIGKILL'): number {
    const r = this.runs.find((x) => !x.init && (container === undefined || x.spec.name === container));
    if (!r?.proc?.pid) throw new Error(`pod ${this.key}: container ${container ?? '(first)'} is not running`);
    process.kill(-r.proc.pid, signal);
    return r.proc.pid;
  }

  /** Fault injection: force readiness false (true = back to the probes' verdict). */
  setUnready(unready: boolean): void {
    for (const r of this.runs) r.forcedUnready = unready;
    this.pushStatus();
  }

  /** Stop every container (SIGTERM, SIGKILL after the grace period) and free the pod's IP and dirs. */
  terminate(graceSeconds: number): Promise<void> {
    this.terminating ??= (async () => {
      for (const r of this.runs) if (r.proc) this.event('Normal', 'Killing', `Stopping container ${r.spec.name}`);
      clearTimeout(this.prepareTimer);
      for (const r of this.runs) {
        clearTimeout(r.restartTimer);
        r.restartTimer = undefined;
        for (const p of r.probers.splice(0)) p.stop();
      }
      await Promise.all(this.runs.map((r) => this.stopContainer(r, graceSeconds)));
      if (this.ip) this.ctx.ips.release(this.uid);
      for (const [k, uid] of this.ctx.claims) if (uid === this.uid) this.ctx.claims.delete(k);
      removePodDirs(this.ctx.dataDir, this.uid);
      await this.pushing;
    })();
    return this.terminating;
  }

  private view(): PodView {
    return {
      qosClass: qosClass(this.pod.spec),
      nodeName: this.ctx.nodeName,
      prepared: this.prepared,
      initDone: this.initDone,
      restartPolicy: this.pod.spec.restartPolicy ?? 'Always',
      ip: this.ip,
      startTime: this.startTime,
      containers: this.runs.map((r) => ({
        name: r.spec.name,
        image: r.spec.image ?? '',
        init: r.init,
        pid: r.proc?.pid,
        restartPending: Boolean(r.restartTimer),
        restartCount: r.restartCount,
        ready: r.ready,
        started: r.started,
        forcedUnready: r.forcedUnready,
        state: r.state,
        lastState: r.lastState,
      })),
    };
  }

  phase(): string {
    return podPhase(this.view());
  }

  /** Stop reporting: the API object was deleted (its name may soon be a new pod's) or the node is going down. */
  silence(): void {
    this.deleted = true;
  }

  /** Write the status when it changed; writes are serialized and coalesced. */
  pushStatus(): void {
    this.pushing = this.pushing.then(async () => {
      if (this.deleted) return;
      const status = podStatus(this.view(), this.clock);
      const text = stableJson(status);
      if (text === this.lastPushed) return;
      try {
        await this.ctx.clients.core.patchNamespacedPodStatus(
          { namespace: this.pod.metadata.namespace!, name: this.pod.metadata.name, body: { status } },
          mergePatch,
        );
        this.lastPushed = text;
      } catch (e) {
        if (isNotFound(e)) return;
        this.ctx.log.debug({ pod: this.key, err: String(e) }, 'status update failed; will retry');
        setTimeout(() => this.pushStatus(), 500).unref();
      }
    });
  }
}
