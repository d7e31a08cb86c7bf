// Services: one headless Service per StatefulSet (stable pod DNS; not-ready addresses published so
// roots and joining nodes find each other before they are ready) and the file-API Service.
import { JsonPatch, type Chart } from 'cdk8s';
import { Service, ServiceType } from 'cdk8s-plus-27';
import { patchRendered, type ClusterInputs } from './chart.ts';
import { API_PORT, CLUSTER_PORT, CLUSTER_LABEL, childNames, clusterLabels, podSelector, type PodRole } from './names.ts';

export const HEADLESS_LABEL = 'storage.cairn.dev/headless';

export function headlessService(chart: Chart, inputs: ClusterInputs, role: PodRole): Service {
  const c = inputs.cluster;
  const n = childNames(c.metadata.name);
  const component = role === 'root' ? 'roots' : 'nodes';
  const name = role === 'root' ? n.roots : n.nodes;
  const svc = new Service(chart, `${component}-headless`, {
    metadata: { name, labels: { ...clusterLabels(c, component), [HEADLESS_LABEL]: 'true' } },
    clusterIP: 'None',
    ports: [{ name: 'api', port: API_PORT, targetPort: API_PORT }, { name: 'cluster', port: CLUSTER_PORT, targetPort: CLUSTER_PORT }],
  });
  for (const [k, v] of Object.entries(podSelector(c, role))) svc.selectLabel(k, v);
  patchRendered(chart, 'Service', name, JsonPatch.add('/spec/publishNotReadyAddresses', true));
  return svc;
}

/** The file API: every pod of the cluster (roots and nodes) answers any request. */
export function fileApiService(chart: Chart, inputs: ClusterInputs): Service {
  const c = inputs.cluster;
  const svc = new Service(chart, 'file-api', {
    metadata: { name: childNames(c.metadata.name).fileApi, labels: clusterLabels(c, 'file-api') },
    type: c.spec.service.type as ServiceType,
    ports: [{ name: 'api', port: c.spec.service.port, targetPort: API_PORT }],
  });
  svc.selectLabel(CLUSTER_LABEL, c.metadata.name);
  return svc;
}
