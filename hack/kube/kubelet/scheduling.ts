// Which process kubelet ("node") takes an unassigned pod (pure). Every kubelet computes the same
// answer from the same Nodes and pods, so only one of them binds: the Ready, schedulable node that
// matches the pod's nodeSelector with the fewest live pods, ties broken by node name. Affinity, taints,
// resources and topology spread are not considered.
import type { KubeObject } from '../controllers/informers.ts';

export const KUBELET_LABEL = 'cairn.dev/process-kubelet';

export function nodeIsReady(node: KubeObject): boolean {
  return (node.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

/** Nodes for every unassigned pod, decided in one deterministic pass (oldest pod first, each
 *  choice counted in the load of the next) so that kubelets agree even on pods created together. */
export function assignNodes(pods: KubeObject[], nodes: KubeObject[]): Map<string, string> {
  const load = new Map<string, number>();
  for (const p of pods) {
    if (!p.spec?.nodeName || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1);
  }
  const ready = nodes.filter((n) => n.metadata.labels?.[KUBELET_LABEL] === 'true' && nodeIsReady(n) && !n.spec?.unschedulable)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const unassigned = pods.filter((p) => !p.spec?.nodeName && !p.metadata.deletionTimestamp)
    .sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? ''))
      || `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  const out = new Map<string, string>();
  for (const pod of unassigned) {
    const selector: Record<string, string> = pod.spec?.nodeSelector ?? {};
    let best: string | undefined;
    for (const n of ready) {
      if (!Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v)) continue;
      if (best === undefined || (load.get(n.metadata.name) ?? 0) < (load.get(best) ?? 0)) best = n.metadata.name;
    }
    if (best === undefined) continue;
    load.set(best, (load.get(best) ?? 0) + 1);
    out.set(pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`, best);
  }
  return out;
}
