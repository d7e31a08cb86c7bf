// The roots StatefulSet: membership authority and bucket registry; a small PVC keeps their state.
import type { Chart } from 'cdk8s';
import type { ConfigMap, Service } from 'cdk8s-plus-27';
import type { ClusterInputs } from './chart.ts';
import { childNames } from './names.ts';
import { cairnStatefulSet } from './statefulset.ts';

export const ROOT_STORAGE_SIZE = '1Gi';

export function rootStatefulSet(chart: Chart, inputs: ClusterInputs, service: Service, config: ConfigMap, configHash: string) {
  const c = inputs.cluster;
  return cairnStatefulSet(chart, inputs, {
    name: childNames(c.metadata.name).roots,
    role: 'root',
    replicas: c.spec.roots.replicas,
    service,
    config,
    configHash,
    storageSize: ROOT_STORAGE_SIZE,
    storageClassName: c.spec.nodes.storage.storageClassName,
  });
}
