// Services: one headless Service per StatefulSet (stable pod DNS; not-ready addresses published so
// roots and joining nodes find each other before they are ready), the file-API Service and the
// console's.
import { JsonPatch, type Chart } from 'cdk8s';
import { Service, type ServiceType } from 'cdk8s-plus-27';
import { patchRendered, type ClusterInputs } from './chart.ts';
import { API_PORT, CLUSTER_PORT, CLUSTER_LABEL, CONSOLE_PORT, childNames, clusterLabels, podSelector, type PodRole } from './names.ts';

export const HEADLESS_LABEL = 'storage.cairn.dev/headless';

export function headlessService(chart: Chart, inputs: ClusterInputs, role: PodRole): Service {
  const c = inputs.cluster;
  const n = childNames(c.metadata.name);
  const component = role === 'root' ? 'roots' : 'nodes';
  const name = role === 'root' ? n.roots : n.nodes;
  const svc = new Service(chart, `${component}-headless`, {
    metadata: { name, labels: { ...clusterLabels(c, component), [HEADLESS_LABEL]: 'true' } },
    clusterIP: 'None',
    ports: [
      { name: 'api', port: API_PORT, targetPort: API_PORT },
      { name: 'cluster', port: CLUSTER_PORT, targetPort: CLUSTER_PORT },
    ],
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

/** The web console: every pod serves it, so any pod answers (sessions work on all of them). */
export function consoleService(chart: Chart, inputs: ClusterInputs): Service | undefined {
  const c = inputs.cluster;
  if (!c.spec.console.enabled) return undefined;
  const svc = new Service(chart, 'console', {
    metadata: { name: childNames(c.metadata.name).console, labels: clusterLabels(c, 'console') },
    type: c.spec.console.service.type as ServiceType,
    ports: [{ name: 'console', port: c.spec.console.service.port, targetPort: CONSOLE_PORT }],
  });
  svc.selectLabel(CLUSTER_LABEL, c.metadata.name);
  return svc;
}
