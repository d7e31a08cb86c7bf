// Which process kubelet ("node") takes an unassigned pod (pure). Every kubelet computes the same
// answer from the same Nodes and pods, so only one of them binds. Filters, as kube-scheduler's:
// Ready and schedulable, `nodeSelector`, required node affinity (`In`, `NotIn`, `Exists`,
// `DoesNotExist`, `Gt`, `Lt` on node labels), and topology spread constraints that say
// DoNotSchedule. Then the node whose topology domains hold the fewest matching pods (every spread
// constraint, ScheduleAnyway ones included: a node without the topology key comes last), then the
// fewest live pods, ties broken by node name. Taints, resources, pod (anti-)affinity and preferred
// node affinity are not considered.
import type { KubeObject } from '../controllers/informers.ts';
import { labelSelectorString, parseLabelSelector } from '../apiserver/selectors.ts';

export const KUBELET_LABEL = 'cairn.dev/process-kubelet';

export function nodeIsReady(node: KubeObject): boolean {
  return (node.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

function meets(labels: Record<string, string>, r: Requirement): boolean {
  const v = labels[r.key];
  switch (r.operator) {
    case 'In':
      return v !== undefined && (r.values ?? []).includes(v);
    case 'NotIn':
      return v === undefined || !(r.values ?? []).includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
      return v !== undefined && Number(v) > Number(r.values?.[0]);
    case 'Lt':
      return v !== undefined && Number(v) < Number(r.values?.[0]);
    default:
      return false;
  }
}

/** nodeSelector and required node affinity (terms are ORed, expressions within a term ANDed). */
export function nodeFits(pod: KubeObject, node: KubeObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  if (!Object.entries(pod.spec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v)) return false;
  const terms: { matchExpressions?: Requirement[] }[] | undefined =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return true;
  return terms.some((t) => (t.matchExpressions ?? []).every((r) => meets(labels, r)));
}

interface Spread {
  topologyKey: string;
  maxSkew: number;
  whenUnsatisfiable: string;
  matches: (p: KubeObject) => boolean;
}

function spreadsOf(pod: KubeObject): Spread[] {
  return (pod.spec?.topologySpreadConstraints ?? []).map((c: { topologyKey: string; maxSkew?: number; whenUnsatisfiable?: string; labelSelector?: any }) => {
    let selector: (o: any) => boolean;
    try {
      selector = parseLabelSelector(labelSelectorString(c.labelSelector ?? {}));
    } catch {
      selector = () => false;
    } // the API server refuses such pods
    return {
      topologyKey: c.topologyKey,
      maxSkew: c.maxSkew ?? 1,
      whenUnsatisfiable: c.whenUnsatisfiable ?? 'DoNotSchedule',
      // Only pods of the same namespace count, and only when the constraint has a selector.
      matches: (p: KubeObject) => !!c.labelSelector && p.metadata.namespace === pod.metadata.namespace && selector(p as any),
    };
  });
}

/** Nodes for every unassigned pod, decided in one deterministic pass (oldest pod first, each
 *  choice counted in the load and spread of the next) so that kubelets agree even on pods created together. */
export function assignNodes(pods: KubeObject[], nodes: KubeObject[]): Map<string, string> {
  const load = new Map<string, number>();
  const placed: { pod: KubeObject; node: string }[] = [];
  for (const p of pods) {
    if (!p.spec?.nodeName || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1);
    placed.push({ pod: p, node: p.spec.nodeName });
  }
  const nodeByName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const ready = nodes
    .filter((n) => n.metadata.labels?.[KUBELET_LABEL] === 'true' && nodeIsReady(n) && !n.spec?.unschedulable)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const unassigned = pods
    .filter((p) => !p.spec?.nodeName && !p.metadata.deletionTimestamp)
    .sort(
      (a, b) =>
        String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
    );
  const out = new Map<string, string>();
  for (const pod of unassigned) {
    const spreads = spreadsOf(pod);
    // Matching pods per topology domain, for each constraint.
    const counts = spreads.map((s) => {
      const byDomain = new Map<string, number>();
      for (const x of placed) {
        const domain = nodeByName.get(x.node)?.metadata.labels?.[s.topologyKey];
        if (domain !== undefined && s.matches(x.pod)) byDomain.set(domain, (byDomain.get(domain) ?? 0) + 1);
      }
      return byDomain;
    });
    let candidates = ready.filter((n) => nodeFits(pod, n));
    spreads.forEach((s, i) => {
      if (s.whenUnsatisfiable !== 'DoNotSchedule') return;
      const domains = [...new Set(candidates.map((n) => n.metadata.labels?.[s.topologyKey]).filter((d): d is string => d !== undefined))];
      const min = Math.min(...domains.map((d) => counts[i]!.get(d) ?? 0));
      candidates = candidates.filter((n) => {
        const d = n.metadata.labels?.[s.topologyKey];
        return d !== undefined && (counts[i]!.get(d) ?? 0) + 1 - min <= s.maxSkew;
      });
    });
    const skew = (n: KubeObject) =>
      spreads.reduce((sum, s, i) => {
        const d = n.metadata.labels?.[s.topologyKey];
        return sum + (d === undefined ? 1e6 : (counts[i]!.get(d) ?? 0));
      }, 0);
    let best: KubeObject | undefined;
    for (const n of candidates) {
      if (!best) {
        best = n;
        continue;
      }
      const a = skew(n),
        b = skew(best);
      if (a < b || (a === b && (load.get(n.metadata.name) ?? 0) < (load.get(best.metadata.name) ?? 0))) best = n;
    }
    if (!best) continue;
    load.set(best.metadata.name, (load.get(best.metadata.name) ?? 0) + 1);
    placed.push({ pod, node: best.metadata.name });
    out.set(pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`, best.metadata.name);
  }
  return out;
}
