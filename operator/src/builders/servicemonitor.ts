// A prometheus-operator ServiceMonitor scraping /metrics on the cluster port of every pod, through
// the headless Services. Plain object: built only when the monitoring.coreos.com CRD exists.
import type { StorageCluster } from '../api/storagecluster.ts';
import type { KubeObject } from './chart.ts';
import { CLUSTER_LABEL, childNames, clusterLabels, ownerReference } from './names.ts';
import { HEADLESS_LABEL } from './services.ts';

export function serviceMonitor(c: StorageCluster): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: {
      name: childNames(c.metadata.name).serviceMonitor,
      namespace: c.metadata.namespace ?? 'default',
      labels: { ...clusterLabels(c, 'monitoring'), ...(c.spec.monitoring.labels ?? {}) },
      ownerReferences: [ownerReference(c)],
    },
    spec: {
      selector: { matchLabels: { [CLUSTER_LABEL]: c.metadata.name, [HEADLESS_LABEL]: 'true' } },
      endpoints: [{ port: 'cluster', path: '/metrics', interval: c.spec.monitoring.interval }],
    },
  };
}
