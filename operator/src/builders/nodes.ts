// The nodes StatefulSet: chunk storage on one PVC per node. Its replicas come from the scaling
// decision (drain-gated), not straight from spec.nodes.replicas.
import type { Chart } from 'cdk8s';
import type { ConfigMap, Service } from 'cdk8s-plus-27';
import type { ClusterInputs } from './chart.ts';
import { childNames } from './names.ts';
import { cairnStatefulSet } from './statefulset.ts';

export const ZONE_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';

export function nodeStatefulSet(chart: Chart, inputs: ClusterInputs, service: Service, config: ConfigMap, configHash: string) {
  const c = inputs.cluster;
  return cairnStatefulSet(chart, inputs, {
    name: childNames(c.metadata.name).nodes,
    role: 'node',
    replicas: inputs.nodeReplicas,
    service, config, configHash,
    storageSize: String(c.spec.nodes.storage.size),
    storageClassName: c.spec.nodes.storage.storageClassName,
    // Zones named in the spec are meant to be real failure domains: ask the scheduler to spread too.
    topologySpread: c.spec.nodes.topologySpread ?? (c.spec.nodes.zones?.length ? { topologyKey: ZONE_TOPOLOGY_KEY, maxSkew: 1 } : undefined),
  });
}
