// PodDisruptionBudgets: voluntary evictions take at most one root and one node at a time
// (cdk8s-plus-27 has no PDB construct; the bundled L1 KubePodDisruptionBudget is used).
import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import type { StorageCluster } from '../api/storagecluster.ts';
import { childNames, clusterLabels, podSelector, type PodRole } from './names.ts';

export function podDisruptionBudget(chart: Chart, c: StorageCluster, role: PodRole): k8s.KubePodDisruptionBudget {
  const n = childNames(c.metadata.name);
  const component = role === 'root' ? 'roots' : 'nodes';
  return new k8s.KubePodDisruptionBudget(chart, `${component}-pdb`, {
    metadata: { name: role === 'root' ? n.roots : n.nodes, labels: clusterLabels(c, component) },
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: podSelector(c, role) } },
  });
}
