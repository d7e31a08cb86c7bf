// The objects the Kubernetes path of `npm start` applies, and how it reads the running cluster back
// (pure: objects in, objects out). The operator Pods mirror the e2e harness (operator/test/e2e),
// which is what the chart's Deployment runs: `cairn operator` with leader election on a Lease.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { claimDir } from '../kube/kubelet/volumes.ts';
import type { LocalProcess } from './home.ts';
import { repoRoot } from './home.ts';

export const OPERATOR_NS = 'cairn-system';
export const FIELD_MANAGER = 'cairn-local';
const API_PORT = 9000;
const CLUSTER_PORT = 9100;
const CLUSTER_LABEL = 'storage.cairn.dev/cluster';
const ROLE_LABEL = 'storage.cairn.dev/role';

export type KObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

export function yamlObjects(file: string): KObject[] {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, file), 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
  return docs.map((d) => d.toJS()).filter(Boolean);
}

/** REST path of an object (plurals here are all kind + s: namespaces, storageclusters, buckets, ...). */
export function pathOf(obj: KObject): string {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const plural = obj.kind.toLowerCase() + (obj.kind.endsWith('s') ? 'es' : 's');
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return obj.metadata.namespace ? `${base}/namespaces/${obj.metadata.namespace}/${plural}/${obj.metadata.name}` : `${base}/${plural}/${obj.metadata.name}`;
}

export interface SizeFlags {
  roots?: number;
  nodes?: number;
  replicas?: number;
}

/** examples/storagecluster.yaml and examples/bucket.yaml with the sizing flags laid over them. */
export function exampleObjects(flags: SizeFlags): { objects: KObject[]; cluster: KObject; bucket: KObject } {
  const objects = [...yamlObjects('examples/storagecluster.yaml'), ...yamlObjects('examples/bucket.yaml')];
  const cluster = objects.find((o) => o.kind === 'StorageCluster');
  const bucket = objects.find((o) => o.kind === 'Bucket');
  if (!cluster || !bucket) throw new Error('examples/storagecluster.yaml and examples/bucket.yaml must hold a StorageCluster and a Bucket');
  const spec = cluster.spec;
  if (flags.roots !== undefined) spec.roots = { ...spec.roots, replicas: flags.roots };
  if (flags.nodes !== undefined) spec.nodes = { ...spec.nodes, replicas: flags.nodes };
  if (flags.replicas !== undefined) {
    spec.replication = { ...spec.replication, factor: flags.replicas };
    bucket.spec.replication = { ...bucket.spec.replication, factor: flags.replicas };
  } else if (flags.nodes !== undefined && (spec.replication?.factor ?? 2) > flags.nodes) {
    // Fewer nodes than the example's factor: lower it rather than have the API server refuse the spec.
    spec.replication = { ...spec.replication, factor: flags.nodes };
    bucket.spec.replication = { ...bucket.spec.replication, factor: Math.min(bucket.spec.replication?.factor ?? flags.nodes, flags.nodes) };
  }
  return { objects, cluster, bucket };
}

/** One operator replica as a Pod (the same container the chart's Deployment runs). */
export function operatorPod(name: string, kubeconfig: string, opts: { logLevel?: string; readinessPeriodSeconds?: number } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: OPERATOR_NS, labels: { app: 'cairn-operator' } },
    spec: {
      terminationGracePeriodSeconds: 10,
      containers: [
        {
          name: 'operator',
          image: 'cairn:dev',
          command: ['cairn'],
          args: ['operator', '--metrics-bind-address=$(POD_IP):8080', '--lease-namespace=$(POD_NAMESPACE)'],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            // The process kubelet runs pods on this machine: the operator reads the same kubeconfig.
            { name: 'KUBECONFIG', value: kubeconfig },
            ...(opts.logLevel ? [{ name: 'CAIRN_LOG_LEVEL', value: opts.logLevel }] : []),
          ],
          ports: [{ name: 'metrics', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: opts.readinessPeriodSeconds ?? 2 },
          // Generous: on a loaded 2-core machine the first start (imports) can take many seconds.
          livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, initialDelaySeconds: 30, periodSeconds: 5, failureThreshold: 6 },
        },
      ],
    },
  };
}

export const clusterSelector = (name: string) => `${CLUSTER_LABEL}=${name}`;

/** The pid in a process kubelet's containerID (process://<node>/<pid>). */
export function podPid(pod: any): number | undefined {
  const id: string | undefined = pod.status?.containerStatuses?.[0]?.containerID;
  const m = id?.match(/^process:\/\/[^/]+\/(\d+)$/);
  return m ? Number(m[1]) : undefined;
}

export const podReady = (pod: any) => (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

/** A StatefulSet pod's ordinal, for a stable order: roots then nodes, each by ordinal. */
const ordinal = (pod: any) => Number(pod.metadata.name.match(/-(\d+)$/)?.[1] ?? 0);

/** The storage pods of a cluster as cluster.json processes: URLs on the pod IP, data = its PVC dir. */
export function podProcesses(pods: any[], kubeDir: string): LocalProcess[] {
  const roleOf = (p: any): string => p.metadata.labels?.[ROLE_LABEL] ?? 'node';
  return [...pods]
    .filter((p) => p.status?.podIP && !p.metadata.deletionTimestamp)
    .sort((a, b) => (roleOf(a) === roleOf(b) ? ordinal(a) - ordinal(b) : roleOf(a) === 'root' ? -1 : 1))
    .map((p) => {
      const claim = (p.spec.volumes ?? []).find((v: any) => v.name === 'data' && v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
      return {
        name: p.metadata.name,
        role: roleOf(p),
        pid: podPid(p),
        api: `http://${p.status.podIP}:${API_PORT}`,
        cluster: `http://${p.status.podIP}:${CLUSTER_PORT}`,
        dataDir: claim ? claimDir(kubeDir, p.metadata.namespace, claim) : '',
      };
    });
}

export function decodeSecret(secret: any): Record<string, string> {
  return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]));
}
