// The cluster settings every pod reads as environment (envFrom). A hash of them goes on the pod
// templates so a settings change rolls the pods.
import { createHash } from 'node:crypto';
import type { Chart } from 'cdk8s';
import { ConfigMap } from 'cdk8s-plus-27';
import { quantityToBytes } from '../api/quantity.ts';
import type { StorageCluster } from '../api/storagecluster.ts';
import { childNames, clusterLabels } from './names.ts';

export function clusterSettings(c: StorageCluster): Record<string, string> {
  return {
    CAIRN_CLUSTER_NAME: c.metadata.name,
    CAIRN_REGION: c.spec.region,
    CAIRN_CHUNK_SIZE: String(quantityToBytes(c.spec.chunkSize)),
    CAIRN_DEFAULT_REPLICAS: String(c.spec.replication.factor),
    CAIRN_FAILURE_TIMEOUT_MS: String(c.spec.rebalance.failureTimeoutSeconds * 1000),
    CAIRN_REPAIR_BANDWIDTH: String(quantityToBytes(c.spec.rebalance.bandwidth)),
    CAIRN_REPAIR_CONCURRENCY: String(c.spec.rebalance.concurrency),
  };
}

export function settingsHash(settings: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(Object.entries(settings).sort())).digest('hex').slice(0, 16);
}

export function clusterConfigMap(chart: Chart, c: StorageCluster, settings: Record<string, string>): ConfigMap {
  return new ConfigMap(chart, 'config', { metadata: { name: childNames(c.metadata.name).config, labels: clusterLabels(c, 'config') }, data: settings });
}
