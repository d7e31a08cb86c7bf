// Fault injection for end-to-end tests against the local control plane: crash a pod's process,
// make a pod unready, take a "node" (kubelet) down and bring it back, restart the API server.
import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig, mergePatch } from './controllers/client.ts';
import type { ControlPlane } from './controlplane.ts';
import type { Kubelet } from './kubelet/index.ts';

function kubeletOf(plane: ControlPlane, namespace: string, pod: string): Kubelet {
  const k = plane.kubelets.find((x) => x.podIP(namespace, pod) !== undefined || x.pods().some((p) => p.namespace === namespace && p.name === pod));
  if (!k) throw new Error(`pod ${namespace}/${pod} is not running on any kubelet`);
  return k;
}

/** Crash a pod's container: signal its process group (default SIGKILL). The kubelet then restarts
 *  it per restartPolicy, as after a real crash. Returns the pid that was signalled. */
export function crashPod(plane: ControlPlane, namespace: string, pod: string, opts: { signal?: NodeJS.Signals; container?: string } = {}): number {
  return kubeletOf(plane, namespace, pod).killContainer(namespace, pod, opts);
}

/** Force a pod's readiness false (unready = true) regardless of its probes, or release it again. */
export function setPodUnready(plane: ControlPlane, namespace: string, pod: string, unready = true): void {
  kubeletOf(plane, namespace, pod).setUnready(namespace, pod, unready);
}

/** A node goes down: its kubelet stops and every pod process on it is SIGKILLed. Then what the node
 *  lifecycle controller does once the node stops posting status (here at once, not after 40 s):
 *  the Node's Ready condition becomes Unknown and its pods' Ready condition False, so Endpoints drop them. */
export async function nodeDown(plane: ControlPlane, nodeName: string): Promise<void> {
  const kubelet = plane.kubelets.find((k) => k.nodeName === nodeName);
  if (!kubelet) throw new Error(`no kubelet for node ${nodeName}`);
  await kubelet.stop({ graceSeconds: 0 });
  const kc = loadKubeConfig(plane.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const unknown = { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: at };
  await core.patchNodeStatus({ name: nodeName, body: { status: { conditions: [{ type: 'Ready', ...unknown, lastHeartbeatTime: at }] } } }, mergePatch);
  const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
  for (const pod of pods.items) {
    if (pod.spec?.nodeName !== nodeName) continue; // in case a server ignores the field selector
    const conditions = (pod.status?.conditions ?? []).map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady' ? { type: c.type, status: 'False', reason: 'NodeNotReady', lastTransitionTime: at } : c,
    );
    await core.patchNamespacedPodStatus({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, body: { status: { conditions } } }, mergePatch);
  }
}

/** The node comes back: a fresh kubelet with the same options re-registers and restarts its pods
 *  (same pod IPs and PVC directories; restart counts go up by one). */
export function nodeUp(plane: ControlPlane, nodeName: string): Promise<Kubelet> {
  return plane.restartKubelet(nodeName);
}

/** Close the API server and start it again on the same address and data file; watches break and
 *  every controller and kubelet must relist. */
export function restartApiServer(plane: ControlPlane) {
  return plane.restartApiServer();
}
