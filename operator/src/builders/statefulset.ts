// A Cairn StatefulSet (roots or nodes): the shared pod template, parallel pod management (roots
// must find each other before any is ready), and the /data claim template added by JSON patch.
import { JsonPatch } from 'cdk8s';
import { LabelSelector, PodManagementPolicy, StatefulSet, type ConfigMap, type Service } from 'cdk8s-plus-27';
import type { Chart } from 'cdk8s';
import { patchRendered, type ClusterInputs } from './chart.ts';
import { clusterLabels, podSelector, type PodRole } from './names.ts';
import { cairnContainer, dataClaimTemplate, DATA_DIR, RUN_AS } from './podtemplate.ts';

export interface StatefulSetParams {
  name: string;
  role: PodRole;
  replicas: number;
  service: Service;
  config: ConfigMap;
  configHash: string;
  storageSize: string;
  storageClassName?: string;
  topologySpread?: { topologyKey: string; maxSkew: number };
  /** The node facts ConfigMap (node pods only). */
  facts?: ConfigMap;
  /** Zones the pods may run in: a required node affinity on the topology key. */
  zones?: string[];
}

export function cairnStatefulSet(chart: Chart, inputs: ClusterInputs, p: StatefulSetParams): StatefulSet {
  const c = inputs.cluster;
  const component = p.role === 'root' ? 'roots' : 'nodes';
  const labels = clusterLabels(c, component);
  const selector = podSelector(c, p.role);
  const ss = new StatefulSet(chart, component, {
    metadata: { name: p.name, labels },
    service: p.service,
    replicas: p.replicas,
    podManagementPolicy: PodManagementPolicy.PARALLEL,
    select: false,
    automountServiceAccountToken: false,
    podMetadata: { labels: { ...labels, ...selector }, annotations: { 'storage.cairn.dev/config-hash': p.configHash } },
    securityContext: { ensureNonRoot: true, user: RUN_AS, group: RUN_AS, fsGroup: RUN_AS },
    containers: [cairnContainer(chart, inputs, p.role, p.config, p.facts)],
  });
  ss.select(LabelSelector.of({ labels: selector }));
  patchRendered(
    chart,
    'StatefulSet',
    p.name,
    JsonPatch.add('/spec/volumeClaimTemplates', [dataClaimTemplate(p.storageSize, p.storageClassName, labels)]),
    JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', { name: 'data', mountPath: DATA_DIR }),
  );
  if (p.topologySpread) {
    patchRendered(
      chart,
      'StatefulSet',
      p.name,
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        {
          maxSkew: p.topologySpread.maxSkew,
          topologyKey: p.topologySpread.topologyKey,
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: selector },
        },
      ]),
    );
  }
  if (p.zones?.length && p.topologySpread) {
    patchRendered(
      chart,
      'StatefulSet',
      p.name,
      JsonPatch.add('/spec/template/spec/affinity', {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: p.topologySpread.topologyKey, operator: 'In', values: p.zones }] }],
          },
        },
      }),
    );
  }
  return ss;
}
