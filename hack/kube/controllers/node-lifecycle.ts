// Node lifecycle controller (the part that matters here): a node whose kubelet stopped posting
// status for the grace period (Kubernetes: 40 s) gets Ready=Unknown, and its pods Ready=False,
// so Endpoints and StatefulSet readiness drop them. Pods are not evicted (Kubernetes would after
// its taint toleration of 300 s); a StatefulSet pod on a dead node stays until someone deletes it.
import type { Clients } from './client.ts';
import { isNotFound, mergePatch } from './client.ts';
import type { KubeObject } from './informers.ts';
import type { Informers } from './informers.ts';
import type { Controller } from './statefulset-controller.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';

const log = logger('node-lifecycle-controller');

/** Is the node's Ready heartbeat older than the grace period (and not already Unknown)? */
export function staleNode(node: KubeObject, nowMs: number, graceMs: number): boolean {
  const ready = (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  if (!ready || ready.status === 'Unknown') return false;
  const beat = Date.parse(ready.lastHeartbeatTime ?? ready.lastTransitionTime ?? '');
  return Number.isFinite(beat) && nowMs - beat > graceMs;
}

export function nodeLifecycleController(c: Clients, informers: Informers, graceMs = 40_000): Controller {
  const nodes = informers.informer('nodes');
  let timer: NodeJS.Timeout | undefined;
  let busy = false;

  async function check(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      for (const node of nodes.list()) {
        if (!staleNode(node, Date.now(), graceMs)) continue;
        const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        const conditions = (node.status?.conditions ?? []).map((x: { type: string }) =>
          x.type === 'Ready'
            ? { ...x, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: at }
            : x,
        );
        await c.core.patchNodeStatus({ name: node.metadata.name, body: { status: { conditions } } }, mergePatch);
        log.info({ node: node.metadata.name }, 'node stopped posting status; marked Unknown');
        const pods = await c.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node.metadata.name}` });
        for (const pod of pods.items) {
          if (pod.spec?.nodeName !== node.metadata.name) continue;
          const podConditions = (pod.status?.conditions ?? []).map((x) =>
            x.type === 'Ready' || x.type === 'ContainersReady' ? { type: x.type, status: 'False', reason: 'NodeNotReady', lastTransitionTime: at } : x,
          );
          try {
            await c.core.patchNamespacedPodStatus(
              { namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, body: { status: { conditions: podConditions } } },
              mergePatch,
            );
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
      }
    } catch (e) {
      log.debug({ err: String(e) }, 'node check failed; next tick retries');
    } finally {
      busy = false;
    }
  }

  return {
    async start() {
      await nodes.waitSynced();
      timer = setInterval(() => void check(), Math.min(1000, graceMs / 4));
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
    },
  };
}
