// Bucket: one bucket in a StorageCluster, with its own access key written to a Secret in the
// Bucket's namespace. Source of crds/bucket.yaml and of the operator's Bucket types.
import { conditionsSchema, customResourceDefinition, type CrdDefinition, type ObjectMeta } from './common.ts';
import { bucketNotificationsSchema } from './notifications.ts';
import { enumOf, integer, object, quantity, string, type Infer } from './schema.ts';

export const BUCKET_PLURAL = 'buckets';
export const BUCKET_FINALIZER = 'storage.cairn.dev/bucket';

// S3 bucket naming: 3-63 characters, lowercase letters, digits, dots and hyphens.
const bucketNamePattern = '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';

export const bucketSpecSchema = object({
  clusterRef: object({
    name: string({ minLength: 1, maxLength: 253, description: 'Name of the StorageCluster.' }).required(),
    namespace: string({ maxLength: 63, description: 'Defaults to the Bucket\'s namespace.' }),
  }, { description: 'The StorageCluster that holds the bucket. Immutable.' }).required().rule('self == oldSelf', 'spec.clusterRef is immutable: a bucket cannot move between clusters', { reason: 'FieldValueForbidden' }),
  bucketName: string({ pattern: bucketNamePattern, maxLength: 63, description: 'Name in the cluster (S3 bucket name); defaults to metadata.name. Immutable.' })
    .rule('self == oldSelf', 'spec.bucketName is immutable', { reason: 'FieldValueForbidden' }),
  replication: object({
    factor: integer({ minimum: 1, maximum: 7, description: 'Replication factor R; defaults to the cluster\'s. Changing it converges the data.' }),
  }, { description: 'How many copies of every object the cluster keeps.' }),
  quota: object({
    bytes: quantity({ description: 'Maximum stored bytes.' }),
    objects: integer({ minimum: 0, description: 'Maximum object count.' }),
  }, { description: 'Limits; writes beyond them are refused. Unset: no limit.' }),
  access: enumOf(['private', 'public-read'] as const, { description: 'private: signed requests only; public-read: anyone may GET objects.' }).default('private'),
  credentials: object({
    secretName: string({ minLength: 1, maxLength: 253, description: 'Secret to write AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_ENDPOINT, BUCKET_NAME into; defaults to <bucket>-credentials.' }),
  }, { description: 'Where the operator writes the bucket\'s access key.' }).default({}),
  notifications: bucketNotificationsSchema,
  reclaimPolicy: enumOf(['Retain', 'Delete'] as const, { description: 'On deletion of the Bucket: Retain keeps the data, Delete purges it.' }).default('Retain'),
}, { description: 'Desired state of a bucket in a Cairn cluster.' }).rule('has(self.bucketName) == has(oldSelf.bucketName)', 'spec.bucketName cannot be added or removed after creation', { reason: 'FieldValueForbidden' });

export type BucketSpec = Infer<typeof bucketSpecSchema>;

export const bucketStatusSchema = object({
  observedGeneration: integer({ description: 'The metadata.generation this status describes.' }),
  phase: enumOf(['Pending', 'Ready', 'Converging', 'Failed', 'Deleting'] as const, { description: 'Summary of the Ready condition, which says why.' }),
  conditions: conditionsSchema,
  bucketName: string({ description: 'The bucket\'s name in the cluster (S3 bucket name).' }),
  endpoint: string({ description: 'The in-cluster file API (S3) URL.' }),
  credentialsSecret: string({ description: 'The Secret holding the bucket\'s access key and endpoint.' }),
  accessKeyId: string({ description: 'The access key id of this bucket (the secret lives in the credentials Secret).' }),
  replicas: integer({ description: 'The replication factor every object of the bucket holds; after a change, the new one only once every existing object has it.' }),
  replication: object({
    factor: integer({ description: 'The replication factor asked for (spec, or the cluster\'s default).' }),
    underReplicatedChunks: integer({ description: 'Chunks (and metadata) of the bucket still below the factor.' }),
    surplusChunks: integer({ description: 'Copies beyond the factor still to be dropped (after the factor was lowered).' }),
    membersPending: integer({ description: 'Storage nodes that have not planned their repair with the current factor yet.' }),
  }, { description: 'Convergence of the bucket\'s objects to its replication factor.' }),
  usage: object({
    bytes: integer({ description: 'Bytes stored (one copy).' }),
    objects: integer({ description: 'Objects stored.' }),
  }, { description: 'What the bucket holds.' }),
  notificationRules: integer({ description: 'Notification rules in effect that the operator set from spec.notifications (absent: it set none).' }),
}, { description: 'Observed state of the bucket, written by the operator.' });

export type BucketStatus = Infer<typeof bucketStatusSchema>;

export interface Bucket {
  apiVersion: 'storage.cairn.dev/v1alpha1';
  kind: 'Bucket';
  metadata: ObjectMeta;
  spec: BucketSpec;
  status?: BucketStatus;
}

export const bucketDefinition: CrdDefinition = {
  kind: 'Bucket',
  plural: BUCKET_PLURAL,
  singular: 'bucket',
  shortNames: ['cb'],
  categories: ['cairn', 'storage'],
  spec: bucketSpecSchema,
  status: bucketStatusSchema,
  rules: [{
    rule: `has(self.spec.bucketName) || self.metadata.name.matches('${bucketNamePattern}')`,
    message: 'metadata.name is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens); set spec.bucketName',
  }],
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterRef.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
    { name: 'Objects', type: 'integer', jsonPath: '.status.usage.objects' },
    { name: 'Bytes', type: 'integer', jsonPath: '.status.usage.bytes' },
    { name: 'Secret', type: 'string', jsonPath: '.status.credentialsSecret', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const bucketCrd = customResourceDefinition(bucketDefinition);
