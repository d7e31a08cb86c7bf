// The nodes StatefulSet: chunk storage on one PVC per node. Its replicas come from the scaling
// decision (drain-gated), not straight from spec.nodes.replicas.
import type { Chart } from 'cdk8s';
import type { ConfigMap, Service } from 'cdk8s-plus-27';
import type { ClusterInputs } from './chart.ts';
import { childNames } from './names.ts';
import { cairnStatefulSet } from './statefulset.ts';
import { zoneLabelOf } from './node-facts.ts';

export function nodeStatefulSet(chart: Chart, inputs: ClusterInputs, service: Service, config: ConfigMap, configHash: string, facts: ConfigMap) {
  const c = inputs.cluster;
  return cairnStatefulSet(chart, inputs, {
    name: childNames(c.metadata.name).nodes,
    role: 'node',
    replicas: inputs.nodeReplicas,
    service,
    config,
    configHash,
    facts,
    // Immutable once the StatefulSet exists: a larger spec.nodes.storage.size grows the PVCs instead.
    storageSize: inputs.claimTemplateSize ?? String(c.spec.nodes.storage.size),
    storageClassName: c.spec.nodes.storage.storageClassName,
    // Placement puts the replicas of a chunk in distinct zones when it can: spread the node pods over
    // the zones so that it can (a soft constraint: a cluster in one zone schedules as before).
    topologySpread: c.spec.nodes.topologySpread ?? { topologyKey: zoneLabelOf(c), maxSkew: 1 },
    zones: c.spec.nodes.zones,
  });
}
