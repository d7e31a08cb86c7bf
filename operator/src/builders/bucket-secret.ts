// The Secret an app mounts to reach its bucket: the bucket's scoped access key, the cluster's file-API
// endpoint and region, under the names the AWS SDKs and CLIs read. Owned by the Bucket, so it goes
// when the Bucket goes. Pure: the key comes from the reconciler (read back, or minted once).
import type { V1Secret } from '@kubernetes/client-node';
import type { Bucket } from '../api/bucket.ts';
import type { StorageCluster } from '../api/storagecluster.ts';
import { clusterLabels, fileApiEndpoint, ownerReference } from './names.ts';

export const BUCKET_LABEL = 'storage.cairn.dev/bucket';

export interface BucketKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The bucket's name in the cluster (S3 bucket name). */
export const bucketNameOf = (b: Bucket) => b.spec.bucketName ?? b.metadata.name;

export const credentialsSecretOf = (b: Bucket) => b.spec.credentials?.secretName ?? `${b.metadata.name}-credentials`;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export function bucketCredentialsSecret(b: Bucket, cluster: StorageCluster, key: BucketKey): V1Secret & { metadata: { name: string } } {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: credentialsSecretOf(b),
      namespace: b.metadata.namespace,
      labels: { ...clusterLabels(cluster, 'bucket-credentials'), [BUCKET_LABEL]: b.metadata.name },
      ownerReferences: [ownerReference(b)],
    },
    type: 'Opaque',
    data: {
      AWS_ACCESS_KEY_ID: b64(key.accessKeyId),
      AWS_SECRET_ACCESS_KEY: b64(key.secretAccessKey),
      S3_ENDPOINT: b64(fileApiEndpoint(cluster)),
      BUCKET_NAME: b64(bucketNameOf(b)),
      AWS_REGION: b64(cluster.spec.region),
    },
  };
}

/** The key a credentials Secret holds, if it holds a whole one. */
export function keyInSecret(s: V1Secret | undefined): BucketKey | undefined {
  const dec = (k: string) => (s?.data?.[k] ? Buffer.from(s.data[k], 'base64').toString('utf8') : undefined);
  const accessKeyId = dec('AWS_ACCESS_KEY_ID');
  const secretAccessKey = dec('AWS_SECRET_ACCESS_KEY');
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}
