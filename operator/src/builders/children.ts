// The whole desired state of a StorageCluster's children, as plain objects in apply order
// (config and secrets before the pods that read them). Pure: same inputs, same objects.
import type { ClusterInputs, KubeObject } from './chart.ts';
import { newChart, render } from './chart.ts';
import { clusterConfigMap, clusterSettings, settingsHash } from './configmap.ts';
import { nodeStatefulSet } from './nodes.ts';
import { nodeFactsConfigMap } from './node-facts.ts';
import { mountNotifications, notificationsConfigMap, notificationTargetsFile } from './notifications.ts';
import { markTemplates } from './rollout.ts';
import { podDisruptionBudget } from './pdb.ts';
import { rootStatefulSet } from './roots.ts';
import { childNames } from './names.ts';
import { adminSecret, clusterSecret } from './secrets.ts';
import { serviceMonitor } from './servicemonitor.ts';
import { consoleService, fileApiService, headlessService } from './services.ts';

export type { ClusterInputs, KubeObject } from './chart.ts';

const order = ['ConfigMap', 'Secret', 'Service', 'StatefulSet', 'PodDisruptionBudget', 'ServiceMonitor'];

export function desiredClusterChildren(inputs: ClusterInputs): KubeObject[] {
  const c = inputs.cluster;
  const chart = newChart(c);
  const settings = clusterSettings(c);
  // The targets are read once at pod start: a change of them rolls the pods like a setting does.
  const targets = notificationTargetsFile(c);
  const hash = settingsHash(targets ? { ...settings, notificationTargets: targets.text } : settings);
  const config = clusterConfigMap(chart, c, settings);
  if (targets) notificationsConfigMap(chart, c, targets.text);
  const facts = nodeFactsConfigMap(chart, c, inputs.nodeFacts);
  clusterSecret(chart, inputs);
  adminSecret(chart, inputs);
  const rootsSvc = headlessService(chart, inputs, 'root');
  const nodesSvc = headlessService(chart, inputs, 'node');
  fileApiService(chart, inputs);
  consoleService(chart, inputs);
  rootStatefulSet(chart, inputs, rootsSvc, config, hash);
  nodeStatefulSet(chart, inputs, nodesSvc, config, hash, facts);
  if (targets) for (const ss of [childNames(c.metadata.name).roots, childNames(c.metadata.name).nodes]) mountNotifications(chart, c, ss, targets.secrets);
  podDisruptionBudget(chart, c, 'root');
  podDisruptionBudget(chart, c, 'node');
  const objects = render(chart, c);
  if (c.spec.monitoring.serviceMonitor && inputs.serviceMonitorAvailable) objects.push(serviceMonitor(c));
  markTemplates(objects);
  return objects.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}
