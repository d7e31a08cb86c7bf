// Names, labels and addresses of everything a StorageCluster owns. Explicit, stable names (no
// hash suffixes) so that server-side apply always targets the same objects.
import type { StorageCluster } from '../api/storagecluster.ts';

export const API_PORT = 9000;
export const CLUSTER_PORT = 9100;
export const CONSOLE_PORT = 9001;
export const FIELD_MANAGER = 'cairn-operator';
export const CLUSTER_LABEL = 'storage.cairn.dev/cluster';
export const ROLE_LABEL = 'storage.cairn.dev/role';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';

export type PodRole = 'root' | 'node';

export function childNames(clusterName: string) {
  return {
    roots: `${clusterName}-roots`, // StatefulSet, headless Service, PDB
    nodes: `${clusterName}-nodes`, // StatefulSet, headless Service, PDB
    fileApi: clusterName, // the file-API (S3) Service
    console: `${clusterName}-console`, // the web console's Service
    config: `${clusterName}-config`,
    nodeFacts: `${clusterName}-node-facts`,
    notifications: `${clusterName}-notifications`, // ConfigMap: the notification targets file
    clusterSecret: `${clusterName}-cluster-secret`,
    adminSecret: `${clusterName}-admin`,
    serviceMonitor: clusterName,
  };
}

/** Labels on every child of a cluster. */
export function clusterLabels(c: StorageCluster, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'cairn',
    'app.kubernetes.io/instance': c.metadata.name,
    [COMPONENT_LABEL]: component,
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
    [CLUSTER_LABEL]: c.metadata.name,
  };
}

/** The labels that select the pods of one role (StatefulSet selector; immutable once created). */
export function podSelector(c: StorageCluster, role: PodRole): Record<string, string> {
  return { [CLUSTER_LABEL]: c.metadata.name, [ROLE_LABEL]: role };
}

export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Pod names of one role's StatefulSet by ordinal. */
export function podName(c: StorageCluster, role: PodRole, ordinal: number): string {
  const n = childNames(c.metadata.name);
  return `${role === 'root' ? n.roots : n.nodes}-${ordinal}`;
}

/** Cluster-port URLs of the roots through their headless Service's per-pod DNS names. */
export function rootUrls(c: StorageCluster): string[] {
  const n = childNames(c.metadata.name);
  const ns = c.metadata.namespace ?? 'default';
  return Array.from({ length: c.spec.roots.replicas }, (_, i) => `http://${n.roots}-${i}.${n.roots}.${ns}.svc.cluster.local:${CLUSTER_PORT}`);
}

/** The in-cluster file-API endpoint users and apps connect to. */
export function fileApiEndpoint(c: StorageCluster): string {
  return `http://${childNames(c.metadata.name).fileApi}.${c.metadata.namespace ?? 'default'}.svc.cluster.local:${c.spec.service.port}`;
}

export function ownerReference(owner: { apiVersion: string; kind: string; metadata: { name: string; uid?: string } }) {
  if (!owner.metadata.uid) throw new Error(`${owner.kind} ${owner.metadata.name} has no uid; owner references need the stored object`);
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}
