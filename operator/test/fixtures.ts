// A defaulted, stored StorageCluster (and a Bucket in it) for builder and controller tests.
import { bucketSpecSchema, type Bucket, type BucketSpec } from '../src/api/bucket.ts';
import { applyDefaults } from '../src/api/schema.ts';
import { storageClusterSpecSchema, type StorageCluster, type StorageClusterSpec } from '../src/api/storagecluster.ts';
import type { ClusterInputs } from '../src/builders/chart.ts';

export function fixtureCluster(spec: Record<string, unknown> = {}, name = 'demo', namespace = 'storage'): StorageCluster {
  return {
    apiVersion: 'storage.cairn.dev/v1alpha1',
    kind: 'StorageCluster',
    metadata: { name, namespace, uid: '0b7e1c1e-1111-4222-8333-444455556666', generation: 1 },
    spec: applyDefaults<StorageClusterSpec>(storageClusterSpecSchema, spec),
  };
}

export function fixtureInputs(cluster = fixtureCluster(), over: Partial<ClusterInputs> = {}): ClusterInputs {
  return {
    cluster,
    nodeReplicas: cluster.spec.nodes.replicas,
    clusterSecret: 'cluster-secret-value',
    masterKey: Buffer.alloc(32, 7).toString('base64'),
    adminAccessKeyId: 'CAIRNADMINKEY0000000',
    adminSecretAccessKey: 'admin-secret-access-key',
    serviceMonitorAvailable: false,
    nodeFacts: { zones: {}, volumes: {} },
    ...over,
  };
}

export function fixtureBucket(spec: Record<string, unknown> = {}, name = 'photos', namespace = 'storage'): Bucket {
  return {
    apiVersion: 'storage.cairn.dev/v1alpha1',
    kind: 'Bucket',
    metadata: { name, namespace, uid: '5d1f7a2b-2222-4333-8444-555566667777', generation: 1 },
    spec: applyDefaults<BucketSpec>(bucketSpecSchema, { clusterRef: { name: 'demo' }, ...spec }),
  };
}
