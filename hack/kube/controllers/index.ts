// The controller manager of the local control plane: StatefulSet, Deployment/ReplicaSet, Endpoints,
// node lifecycle, a PVC binder and a PVC resizer, all talking to the API server only through @kubernetes/client-node (so they work
// against a real kube-apiserver too).
import type { KubeConfig } from '@kubernetes/client-node';
import { makeClients } from './client.ts';
import { Informers } from './informers.ts';
import { statefulSetController } from './statefulset-controller.ts';
import { endpointsController } from './endpoints-controller.ts';
import { volumeBinder } from './volume-binder.ts';
import { volumeResizer } from './volume-resizer.ts';
import { deploymentController } from './deployment-controller.ts';
import { nodeLifecycleController } from './node-lifecycle.ts';

export interface ControllersOptions {
  /** Path of a kubeconfig file, or a loaded KubeConfig. */
  kubeconfig: string | KubeConfig;
  /** Periodic resync of every object (safety net for missed events); default 30 s. */
  resyncMs?: number;
  /** A node without a kubelet heartbeat for this long turns Ready=Unknown, its pods unready; default 40 s. */
  nodeMonitorGracePeriodMs?: number;
}

export interface Controllers {
  stop(): Promise<void>;
}

export async function startControllers(opts: ControllersOptions): Promise<Controllers> {
  const clients = makeClients(opts.kubeconfig);
  const informers = new Informers(clients);
  const all = [
    statefulSetController(clients, informers, opts.resyncMs),
    deploymentController(clients, informers, opts.resyncMs),
    endpointsController(clients, informers, opts.resyncMs),
    volumeBinder(clients, informers),
    volumeResizer(clients, informers),
    nodeLifecycleController(clients, informers, opts.nodeMonitorGracePeriodMs),
  ];
  informers.start();
  await Promise.all(all.map((c) => c.start()));
  return {
    async stop() {
      await Promise.all(all.map((c) => c.stop()));
      await informers.stop();
      await clients.close();
    },
  };
}
