// The node facts ConfigMap: what a node pod cannot learn by itself, kept current by the operator.
//   zone.<kubernetes node>  the node's zone label (spec.nodes.topologySpread.topologyKey, default
//                           topology.kubernetes.io/zone); '' when the node has none
//   volume.<pod>            the capacity of the pod's PVC in bytes (status.capacity: it grows
//                           once a resize finished)
// Node pods mount it and run `cairn server --zone-file .../zone.$(NODE_NAME) --volume-size-file
// .../volume.$(POD_NAME)`. Why a ConfigMap rather than the pod reading its Node: the pods need no
// API credentials nor a ClusterRole to read Nodes, and the file is there before the pod starts
// (the operator writes every Node's zone ahead), where an annotation put on a pod after it was
// scheduled reaches a downward-API file only at the kubelet's next sync, a minute or more later.
// The kubelet rewrites mounted ConfigMaps when they change, so a grown volume counts without a
// restart; the ConfigMap is not part of the settings hash, so a new fact never rolls the pods.
import type { Chart } from 'cdk8s';
import { ConfigMap } from 'cdk8s-plus-27';
import { quantityToBytes } from '../api/quantity.ts';
import type { StorageCluster } from '../api/storagecluster.ts';
import { childNames, clusterLabels } from './names.ts';

export const ZONE_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';
export const FACTS_DIR = '/etc/cairn/facts';
/** The data volume claim template of both StatefulSets: PVC `data-<statefulset>-<ordinal>`. */
export const DATA_CLAIM = 'data';

export interface NodeFacts {
  zones: Record<string, string>; // Kubernetes node name → zone
  volumes: Record<string, number>; // node pod name → volume capacity in bytes
}

export const noFacts = (): NodeFacts => ({ zones: {}, volumes: {} });
export const zoneKey = (node: string) => `zone.${node}`;
export const volumeKey = (pod: string) => `volume.${pod}`;

/** The node label whose value is a node pod's zone. */
export const zoneLabelOf = (c: StorageCluster) => c.spec.nodes.topologySpread?.topologyKey ?? ZONE_TOPOLOGY_KEY;

interface Named {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { capacity?: Record<string, string | number> };
}

/**
 * Pure: the facts from the Kubernetes Nodes and the cluster's PVCs. A claim whose capacity is not
 * known yet (not bound) is left out: the pod then counts its file system until it is.
 */
export function nodeFacts(c: StorageCluster, nodes: Named[], claims: Named[]): NodeFacts {
  const label = zoneLabelOf(c);
  const zones: Record<string, string> = {};
  for (const n of nodes) zones[n.metadata.name] = n.metadata.labels?.[label] ?? '';
  const prefix = `${DATA_CLAIM}-${childNames(c.metadata.name).nodes}-`;
  const volumes: Record<string, number> = {};
  for (const pvc of claims) {
    const ordinal = pvc.metadata.name.startsWith(prefix) ? pvc.metadata.name.slice(prefix.length) : '';
    const capacity = pvc.status?.capacity?.storage;
    if (!/^\d+$/.test(ordinal) || capacity === undefined) continue;
    try {
      volumes[`${childNames(c.metadata.name).nodes}-${ordinal}`] = quantityToBytes(capacity);
    } catch {
      /* not a quantity: no fact */
    }
  }
  return { zones, volumes };
}

export function nodeFactsConfigMap(chart: Chart, c: StorageCluster, facts: NodeFacts): ConfigMap {
  const data: Record<string, string> = {};
  for (const [node, zone] of Object.entries(facts.zones)) data[zoneKey(node)] = zone;
  for (const [pod, bytes] of Object.entries(facts.volumes)) data[volumeKey(pod)] = String(bytes);
  return new ConfigMap(chart, 'node-facts-configmap', {
    metadata: { name: childNames(c.metadata.name).nodeFacts, labels: clusterLabels(c, 'node-facts') },
    data,
  });
}
