// The process kubelet: one "node" of the local control plane. It registers a Node and heartbeats,
// binds unassigned pods it is the pick for (scheduling.ts), runs the pods bound to it as local
// process groups (pod-worker.ts), finishes graceful deletions, and keeps the cluster DNS hosts file
// its pods' preload reads. Talks to the API server only through @kubernetes/client-node.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig, V1Binding } from '@kubernetes/client-node';
import { logger } from '../../../node-runtime/src/util/log.ts';
import { httpStatus, isNotFound, makeClients, mergePatch } from '../controllers/client.ts';
import { kinds, type KubeObject } from '../controllers/informers.ts';
import { Watcher } from '../../../operator/src/kube/watcher.ts';
import { eventRecorder } from '../controllers/events.ts';
import { buildHostsTable, serviceEndpoints } from './dns-table.ts';
import { PodIpAllocator, subnetFor } from './ip.ts';
import { PodWorker, type WorkerContext } from './pod-worker.ts';
import { assignNodes, KUBELET_LABEL } from './scheduling.ts';
import { startKubeletServer } from './server.ts';
import { referencedConfig } from './pod-config.ts';
import { NodeVolumeExpansion } from './volume-expansion.ts';

export interface KubeletOptions {
  /** Path of a kubeconfig (also handed to pods as KUBECONFIG), or a loaded KubeConfig. */
  kubeconfig: string | KubeConfig;
  /** PVC directories, pod logs, scratch: <dataDir>/pvc/<ns>/<claim>, <dataDir>/logs/..., <dataDir>/pods/<uid>. */
  dataDir: string;
  nodeName?: string; // default 'node-1'
  podNetwork?: string; // loopback prefix, default '127.0.' (pods get 127.0.<subnet>.2..254)
  podSubnet?: number; // third octet for a two-octet podNetwork; default derived from nodeName
  schedule?: boolean; // bind unassigned pods (default true)
  maxProbePeriodMs?: number; // probe at least this often (fast tests); liveness/startup keep their failure window
  crashLoopBackoff?: { initialMs?: number; maxMs?: number }; // default 10 s doubling to 300 s
  heartbeatMs?: number; // Node status heartbeat, default 10 s
}

export interface KubeletPodInfo {
  namespace: string;
  name: string;
  uid: string;
  ip?: string;
  phase: string;
}

export interface Kubelet {
  readonly nodeName: string;
  readonly options: KubeletOptions;
  /** The DNS hosts table this kubelet's pods resolve cluster names from. */
  readonly hostsFile: string;
  pods(): KubeletPodInfo[];
  podIP(namespace: string, name: string): string | undefined;
  logPath(namespace: string, name: string, container?: string): string | undefined;
  /** Signal a pod's container process group (a crash); returns the pid signalled. */
  killContainer(namespace: string, name: string, opts?: { container?: string; signal?: NodeJS.Signals }): number;
  /** Force the pod's readiness false (`unready` true) or give it back to the probes. */
  setUnready(namespace: string, name: string, unready: boolean): void;
  /** The kubelet HTTP endpoint (127.0.0.1:<port>) that serves /containerLogs for `kubectl logs`. */
  readonly port: number;
  /** Stop watching and kill every pod process (SIGTERM, SIGKILL after graceSeconds; default 5). */
  stop(opts?: { graceSeconds?: number }): Promise<void>;
}

const repoRoot = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

export async function startKubelet(options: KubeletOptions): Promise<Kubelet> {
  const nodeName = options.nodeName ?? 'node-1';
  const log = logger('kubelet', { node: nodeName });
  const clients = makeClients(options.kubeconfig);
  const nodeDir = join(options.dataDir, 'nodes', nodeName);
  mkdirSync(nodeDir, { recursive: true });
  const hostsFile = join(nodeDir, 'hosts.json');
  const ctx: WorkerContext = {
    nodeName,
    dataDir: options.dataDir,
    repoRoot,
    hostsFile,
    clients,
    log,
    kubeconfigPath: typeof options.kubeconfig === 'string' ? options.kubeconfig : undefined,
    ips: new PodIpAllocator(options.podNetwork ?? '127.0.', options.podSubnet ?? subnetFor(nodeName)),
    crashLoop: { initialMs: options.crashLoopBackoff?.initialMs ?? 10_000, maxMs: options.crashLoopBackoff?.maxMs ?? 300_000 },
    maxProbePeriodMs: options.maxProbePeriodMs,
    claims: new Map(),
    groups: new Set(),
    record: eventRecorder(clients, 'kubelet', nodeName),
  };
  const recordScheduled = eventRecorder(clients, 'default-scheduler');
  const workers = new Map<string, PodWorker>(); // by pod uid
  let stopped = false;

  // Whatever happens to this process, its pods' process groups must not outlive it.
  const killAll = () => {
    for (const pid of ctx.groups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.on('exit', killAll);

  let lastHosts = '';
  let hostsQueued = false;
  const writeHosts = () => {
    if (hostsQueued) return;
    hostsQueued = true;
    queueMicrotask(() => {
      hostsQueued = false;
      const text = JSON.stringify(buildHostsTable(services.list(), serviceEndpoints(services.list(), podsR.list(), endpoints.list())));
      if (text === lastHosts) return;
      const tmp = `${hostsFile}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, hostsFile); // readers see the old or the new table, never half of one
      lastHosts = text;
    });
  };
  writeFileSync(hostsFile, JSON.stringify({ names: {}, balanced: [], aliases: {} }));

  const nodes = new Watcher({
    kc: clients.kc,
    resource: kinds.nodes,
    onEvent: () => {
      for (const p of podsR.list()) if (!p.spec?.nodeName) onPod('MODIFIED', p);
    },
  });
  const services = new Watcher({ kc: clients.kc, resource: kinds.services, onEvent: writeHosts });
  const endpoints = new Watcher({ kc: clients.kc, resource: kinds.endpoints, onEvent: writeHosts });
  // Secret/ConfigMap volumes follow their objects (the kubelet's sync of projected volumes).
  const refresh = (kind: 'secret' | 'configMap') => (_k: string, o: KubeObject) => {
    for (const w of workers.values()) {
      if (w.pod.metadata.namespace === o.metadata.namespace && referencedConfig(w.pod.spec?.volumes)[kind].has(o.metadata.name)) void w.refreshConfigVolumes();
    }
  };
  const secrets = new Watcher({ kc: clients.kc, resource: kinds.secrets, onEvent: refresh('secret') });
  const configMaps = new Watcher({ kc: clients.kc, resource: kinds.configmaps, onEvent: refresh('configMap') });
  // Volumes grown by the resizer: the node finishes the file system part for the claims its pods mount.
  const expansion = new NodeVolumeExpansion(clients, nodeName, ctx.record);
  const expandMounted = () => {
    const mounted = new Map<string, KubeObject>();
    for (const w of workers.values()) {
      if (w.isTerminating()) continue;
      for (const v of w.pod.spec?.volumes ?? [])
        if (v.persistentVolumeClaim) mounted.set(`${w.pod.metadata.namespace}/${v.persistentVolumeClaim.claimName}`, w.pod);
    }
    expansion.expand(claims.list(), mounted);
  };
  const claims = new Watcher({ kc: clients.kc, resource: kinds.persistentvolumeclaims, onEvent: expandMounted });
  // Pods also feed the Services' endpoints in the DNS table (a real API server keeps none for loopback IPs).
  const podsR: Watcher = new Watcher({
    kc: clients.kc,
    resource: kinds.pods,
    onEvent: (type, pod) => {
      onPod(type, pod);
      writeHosts();
    },
  });

  const binding = new Set<string>();
  async function bind(pod: KubeObject): Promise<void> {
    const { name, namespace, uid } = pod.metadata;
    if (binding.has(uid!)) return;
    binding.add(uid!);
    try {
      const body: V1Binding = {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      };
      try {
        await clients.core.createNamespacedPodBinding({ name, namespace: namespace!, body });
      } catch (e) {
        const s = httpStatus(e);
        if (s !== 404 && s !== 405 && s !== 415) throw e;
        // No binding subresource (some emulators): set spec.nodeName, conditional on the version we saw.
        await clients.core.patchNamespacedPod(
          { name, namespace: namespace!, body: { metadata: { resourceVersion: pod.metadata.resourceVersion }, spec: { nodeName } } },
          mergePatch,
        );
      }
      log.info({ pod: `${namespace}/${name}` }, 'bound pod to this node');
      recordScheduled({ kind: 'Pod', metadata: pod.metadata }, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
    } catch (e) {
      log.debug({ pod: `${namespace}/${name}`, err: String(e) }, 'binding failed (another node may have won)');
    } finally {
      binding.delete(uid!);
    }
  }

  const finishing = new Set<string>();
  async function finishDeletion(pod: KubeObject): Promise<void> {
    if (finishing.has(pod.metadata.uid!)) return;
    finishing.add(pod.metadata.uid!);
    try {
      await clients.core.deleteNamespacedPod({
        name: pod.metadata.name,
        namespace: pod.metadata.namespace!,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } },
      });
    } catch (e) {
      // Left with its deletionTimestamp, the pod comes back on the next (re)list and is deleted then.
      if (!isNotFound(e) && httpStatus(e) !== 409) log.warn({ pod: pod.metadata.name, err: String(e) }, 'final pod delete failed');
    } finally {
      finishing.delete(pod.metadata.uid!);
    }
  }

  function graceOf(pod: KubeObject): number {
    return (pod.metadata.deletionGracePeriodSeconds as number | undefined) ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  function onPod(kind: string, pod: KubeObject): void {
    if (stopped) return;
    const uid = pod.metadata.uid!;
    const w = workers.get(uid);
    if (kind === 'DELETED') {
      if (w) {
        w.silence();
        void w.terminate(graceOf(pod)).then(() => workers.delete(uid));
      }
      return;
    }
    if (!pod.spec?.nodeName) {
      if (options.schedule !== false && !pod.metadata.deletionTimestamp && assignNodes(podsR.list(), nodes.list()).get(uid) === nodeName) void bind(pod);
      return;
    }
    if (pod.spec.nodeName !== nodeName) {
      if (w) {
        w.silence();
        void w.terminate(0).then(() => workers.delete(uid));
      }
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      if (!w) {
        void finishDeletion(pod);
        return;
      }
      w.pod = pod;
      if (!w.isTerminating())
        void w.terminate(graceOf(pod)).then(() => {
          workers.delete(uid);
          return finishDeletion(w.pod);
        });
      return;
    }
    if (w) {
      w.pod = pod;
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const worker = new PodWorker(pod, ctx);
    workers.set(uid, worker);
    worker.start();
    expandMounted();
  }

  const find = (ns: string, name: string) =>
    [...workers.values()].find((w) => w.pod.metadata.namespace === ns && w.pod.metadata.name === name && !w.isTerminating());
  const endpoint = await startKubeletServer({
    logFile: (ns, pod, container, previous) => find(ns, pod)?.logFile(container, previous),
    isRunning: (ns, pod, container) => find(ns, pod)?.isRunning(container) ?? false,
  });

  // The Node object: registered once, Ready heartbeat on a period.
  const nodeStatus = () => ({
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'process kubelet is posting ready status',
        lastHeartbeatTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        lastTransitionTime: startedAt,
      },
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: endpoint.port } },
    capacity: { cpu: '4', memory: '8Gi', pods: '250' },
    allocatable: { cpu: '4', memory: '8Gi', pods: '250' },
    nodeInfo: {
      kubeletVersion: 'v1.32.0-cairn-process',
      containerRuntimeVersion: 'process://local',
      operatingSystem: 'linux',
      architecture: process.arch,
      osImage: 'local processes',
      kernelVersion: '',
      kubeProxyVersion: '',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  });
  const startedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  async function heartbeat(): Promise<void> {
    try {
      await clients.core.patchNodeStatus({ name: nodeName, body: { status: nodeStatus() } }, mergePatch);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await clients.core.createNode({
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', [KUBELET_LABEL]: 'true' } },
        },
      });
      await clients.core.patchNodeStatus({ name: nodeName, body: { status: nodeStatus() } }, mergePatch);
    }
  }
  try {
    await heartbeat();
  } catch (e) {
    // Not registered: leave nothing behind that would keep the process alive.
    await endpoint.close();
    process.off('exit', killAll);
    await clients.close();
    throw e;
  }
  const beat = setInterval(() => void heartbeat().catch((e) => log.debug({ err: String(e) }, 'heartbeat failed')), options.heartbeatMs ?? 10_000);
  beat.unref();

  for (const r of [nodes, services, endpoints, secrets, configMaps, claims]) r.start();
  await Promise.all([nodes, services, endpoints, secrets, configMaps, claims].map((r) => r.waitSynced()));
  podsR.start();
  await podsR.waitSynced();
  log.info({ hostsFile }, 'kubelet running');

  return {
    nodeName,
    options,
    hostsFile,
    port: endpoint.port,
    pods: () =>
      [...workers.values()].map((w) => ({ namespace: w.pod.metadata.namespace!, name: w.pod.metadata.name, uid: w.uid, ip: w.podIP, phase: w.phase() })),
    podIP: (ns, name) => find(ns, name)?.podIP,
    logPath(ns, name, container) {
      const w = find(ns, name);
      return w?.logFile(container ?? w.pod.spec.containers[0].name);
    },
    killContainer(ns, name, opts = {}) {
      const w = find(ns, name);
      if (!w) throw new Error(`pod ${ns}/${name} does not run on node ${nodeName}`);
      return w.kill(opts.container, opts.signal ?? 'SIGKILL');
    },
    setUnready(ns, name, unready) {
      const w = find(ns, name);
      if (!w) throw new Error(`pod ${ns}/${name} does not run on node ${nodeName}`);
      w.setUnready(unready);
    },
    async stop({ graceSeconds = 5 } = {}) {
      if (stopped) return;
      stopped = true;
      clearInterval(beat);
      await Promise.all([nodes, services, endpoints, secrets, configMaps, claims, podsR].map((r) => r.stop()));
      await endpoint.close();
      for (const w of workers.values()) w.silence();
      await Promise.all([...workers.values()].map((w) => w.terminate(graceSeconds)));
      workers.clear();
      process.off('exit', killAll);
      await clients.close();
      log.info('kubelet stopped');
    },
  };
}
