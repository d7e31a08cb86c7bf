// The cluster settings every pod reads as environment (envFrom). A hash of them goes on the pod
// templates so a settings change rolls the pods.
import { createHash } from 'node:crypto';
import type { Chart } from 'cdk8s';
import { ConfigMap } from 'cdk8s-plus-27';
import { quantityToBytes } from '../api/quantity.ts';
import type { StorageCluster } from '../api/storagecluster.ts';
import { childNames, clusterLabels } from './names.ts';

// Names are the node runtime's env forms of its `cairn server` flags (CAIRN_<FLAG>); the repair
// settings are read by the node runtime's repair workers when present.
export const CHUNK_SIZE_RANGE = { min: 4096, max: 64 * 1024 * 1024 };

export function clusterSettings(c: StorageCluster): Record<string, string> {
  const chunkSize = quantityToBytes(c.spec.chunkSize);
  if (chunkSize < CHUNK_SIZE_RANGE.min || chunkSize > CHUNK_SIZE_RANGE.max) throw new Error(`spec.chunkSize ${c.spec.chunkSize} is outside 4Ki..64Mi`);
  return {
    CAIRN_CLUSTER_NAME: c.metadata.name,
    CAIRN_REGION: c.spec.region,
    CAIRN_CHUNK_SIZE: String(chunkSize),
    CAIRN_REPLICAS: String(c.spec.replication.factor),
    CAIRN_FAILURE_TIMEOUT_MS: String(c.spec.rebalance.failureTimeoutSeconds * 1000),
    CAIRN_REPAIR_BANDWIDTH: String(quantityToBytes(c.spec.rebalance.bandwidth)),
    CAIRN_REPAIR_CONCURRENCY: String(c.spec.rebalance.concurrency),
    CAIRN_REPAIR_INTERVAL_MS: String(c.spec.rebalance.passIntervalSeconds * 1000),
  };
}

export function settingsHash(settings: Record<string, string>): string {
  return createHash('sha256')
    .update(JSON.stringify(Object.entries(settings).sort()))
    .digest('hex')
    .slice(0, 16);
}

export function clusterConfigMap(chart: Chart, c: StorageCluster, settings: Record<string, string>): ConfigMap {
  return new ConfigMap(chart, 'config', { metadata: { name: childNames(c.metadata.name).config, labels: clusterLabels(c, 'config') }, data: settings });
}
