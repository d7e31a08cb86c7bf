// The local control plane in one call, for `npm run dev` and the end-to-end suites: the API server
// emulator (or any cluster named by a kubeconfig, e.g. a real kube-apiserver), the controllers and
// one or more process kubelets ("nodes"). The kubeconfig stays valid across an API server restart.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from './apiserver/server.ts';
import { isNotFound, makeClients } from './controllers/client.ts';
import { startControllers, type Controllers } from './controllers/index.ts';
import { startKubelet, type Kubelet, type KubeletOptions } from './kubelet/index.ts';

export interface ControlPlaneOptions {
  /** Everything lives here: the API server's data file, the kubeconfig, PVC dirs, pod logs. */
  dataDir: string;
  /** Use this cluster instead of starting the emulator (envtest style: only an API server is needed). */
  kubeconfig?: string;
  /** Where to write the kubeconfig of the emulator; default <dataDir>/kubeconfig. */
  kubeconfigPath?: string;
  /** Emulator address; default 127.0.0.1 and a free port. */
  host?: string;
  port?: number;
  /** Keep API objects in <dataDir>/apiserver.json across restarts (default true). */
  persist?: boolean;
  /** The emulator refuses loopback IPs in Endpoints/EndpointSlices, as a real API server does. */
  refuseLoopbackEndpoints?: boolean;
  /** Number of process kubelets ("nodes"), default 1; node-1, node-2, ... */
  nodes?: number;
  /** Loopback prefix for pod IPs, default '127.0.'; node i gets 127.<..>.<subnetBase + i>.x. */
  podNetwork?: string;
  subnetBase?: number;
  /** Options for every kubelet (probe cap, crash-loop backoff, ...); names and subnets come from the node index. */
  kubelet?: Partial<KubeletOptions>;
  resyncMs?: number;
  /** Node lifecycle grace period (no kubelet heartbeat → node Unknown, pods unready); default 40 s. */
  nodeMonitorGracePeriodMs?: number;
}

export interface ControlPlane {
  kubeconfigPath: string;
  /** The emulator (undefined when an external kubeconfig was given); replaced by restartApiServer. */
  apiServer: ApiServer | undefined;
  /** The first kubelet (node-1); all of them in `kubelets`. */
  kubelet: Kubelet;
  kubelets: Kubelet[];
  dataDir: string;
  /** Close and start the emulator again on the same address and data file. */
  restartApiServer(): Promise<ApiServer>;
  /** Start the kubelet of a node again after it was stopped (see faults.ts). */
  restartKubelet(nodeName: string): Promise<Kubelet>;
  stop(): Promise<void>;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  mkdirSync(opts.dataDir, { recursive: true });
  const dataFile = opts.persist === false ? undefined : join(opts.dataDir, 'apiserver.json');
  let apiServer: ApiServer | undefined;
  const kubeconfigPath = opts.kubeconfig ?? opts.kubeconfigPath ?? join(opts.dataDir, 'kubeconfig');
  if (!opts.kubeconfig) {
    apiServer = await startApiServer({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, dataFile, refuseLoopbackEndpoints: opts.refuseLoopbackEndpoints });
    apiServer.writeKubeconfig(kubeconfigPath);
  }
  const kubeletOptions = (i: number): KubeletOptions => ({
    ...opts.kubelet,
    kubeconfig: kubeconfigPath,
    dataDir: opts.dataDir,
    nodeName: `node-${i + 1}`,
    podNetwork: opts.podNetwork ?? '127.0.',
    podSubnet: (opts.subnetBase ?? 100) + i,
  });
  const kubelets: Kubelet[] = [];
  let controllers: Controllers | undefined;
  try {
    controllers = await startControllers({ kubeconfig: kubeconfigPath, resyncMs: opts.resyncMs, nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs });
    for (let i = 0; i < (opts.nodes ?? 1); i++) kubelets.push(await startKubelet(kubeletOptions(i)));
  } catch (e) {
    // A half-started control plane must not keep a test process alive.
    await Promise.all(kubelets.map((k) => k.stop({ graceSeconds: 0 })));
    await controllers?.stop();
    await apiServer?.close();
    throw e;
  }
  const running = controllers;

  const plane: ControlPlane = {
    kubeconfigPath,
    apiServer,
    kubelets,
    dataDir: opts.dataDir,
    get kubelet() {
      return kubelets[0];
    },
    async restartApiServer() {
      if (!apiServer) throw new Error('the control plane uses an external API server; it cannot restart it');
      const { host, port } = apiServer;
      await apiServer.close();
      apiServer = await startApiServer({ host, port, dataFile, refuseLoopbackEndpoints: opts.refuseLoopbackEndpoints });
      plane.apiServer = apiServer;
      return apiServer;
    },
    async restartKubelet(nodeName) {
      const i = kubelets.findIndex((k) => k.nodeName === nodeName);
      if (i < 0) throw new Error(`no kubelet for node ${nodeName}`);
      await kubelets[i].stop({ graceSeconds: 0 });
      kubelets[i] = await startKubelet(kubelets[i].options);
      return kubelets[i];
    },
    async stop() {
      await Promise.all(kubelets.map((k) => k.stop()));
      await running.stop();
      // A server that outlives us keeps no Node of a kubelet that is gone.
      if (opts.kubeconfig)
        await deleteNodes(
          opts.kubeconfig,
          kubelets.map((k) => k.nodeName),
        );
      await apiServer?.close();
    },
  };
  return plane;
}

async function deleteNodes(kubeconfig: string, names: string[]): Promise<void> {
  const clients = makeClients(kubeconfig);
  try {
    for (const name of names) {
      await clients.core.deleteNode({ name }).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
  } finally {
    await clients.close();
  }
}
