// The cdk8s scaffolding every builder shares: one Chart per reconcile (namespace, labels, no name
// hashes), rendered with chart.toJson() (never App.synth in a reconciler), then owner references
// added and cdk8s' internal selector label removed, so the objects are plain and stable.
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { App, Chart, JsonPatch } from 'cdk8s';
import type { StorageCluster } from '../api/storagecluster.ts';
import { ownerReference } from './names.ts';
import type { NodeFacts } from './node-facts.ts';

/** A rendered child: any kind, always with its kind, apiVersion and name. */
export interface KubeObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta & { name: string };
  [k: string]: unknown;
}

/** What the cluster builders need beyond the spec: values the reconciler owns and keeps. */
export interface ClusterInputs {
  cluster: StorageCluster; // defaulted spec, stored object (has uid)
  nodeReplicas: number; // decided by the scaling decision (drain-gated)
  clusterSecret: string; // generated once, kept in the cluster Secret
  masterKey: string; // base64, 32 bytes: generated once (or derived, for a cluster from before), kept beside it
  adminAccessKeyId: string;
  adminSecretAccessKey: string;
  serviceMonitorAvailable: boolean; // the monitoring.coreos.com CRD exists
  nodeFacts: NodeFacts; // zones of the Kubernetes nodes, sizes of the node volumes
  claimTemplateSize?: string; // the existing nodes StatefulSet's claim template size (immutable)
}

export function newChart(c: StorageCluster): Chart {
  return new Chart(new App(), c.metadata.name, { namespace: c.metadata.namespace ?? 'default', disableResourceNameHashes: true });
}

// JSON patches applied to the rendered plain object. Not ApiObject.addJsonPatch: the typed L1
// toJson() drops what it does not model (e.g. string quantities inside volumeClaimTemplates).
const postPatches = new WeakMap<Chart, Map<string, JsonPatch[]>>();

export function patchRendered(chart: Chart, kind: string, name: string, ...ops: JsonPatch[]): void {
  const byObject = postPatches.get(chart) ?? new Map<string, JsonPatch[]>();
  postPatches.set(chart, byObject);
  byObject.set(`${kind}/${name}`, [...(byObject.get(`${kind}/${name}`) ?? []), ...ops]);
}

const CDK8S_SELECTOR = 'cdk8s.io/metadata.addr';

function stripCdk8sLabels(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripCdk8sLabels);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== CDK8S_SELECTOR) out[k] = stripCdk8sLabels(x);
    return out;
  }
  return v;
}

/** Plain objects of a chart, each owned (controller: true) by `owner`. */
export function render(chart: Chart, owner: StorageCluster): KubeObject[] {
  const ref = ownerReference(owner);
  const patches = postPatches.get(chart);
  return (chart.toJson() as KubeObject[]).map((o) => {
    const ops = patches?.get(`${o.kind}/${o.metadata.name}`);
    const obj = stripCdk8sLabels(ops ? JsonPatch.apply(o, ...ops) : o) as KubeObject;
    obj.metadata.ownerReferences = [ref];
    return obj;
  });
}
