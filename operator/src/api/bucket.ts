// Bucket: one bucket in a StorageCluster, with its own access key written to a Secret in the
// Bucket's namespace. Source of crds/bucket.yaml and of the operator's Bucket types.
import { conditionsSchema, customResourceDefinition, type CrdDefinition, type ObjectMeta } from './common.ts';
import { bucketNotificationsSchema } from './notifications.ts';
import { array, boolean, enumOf, integer, object, quantity, string, type Infer } from './schema.ts';

export const BUCKET_PLURAL = 'buckets';
export const BUCKET_FINALIZER = 'storage.cairn.dev/bucket';

// S3 bucket naming: 3-63 characters, lowercase letters, digits, dots and hyphens.
const bucketNamePattern = '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';

/** A Bucket named from another: namespace/name; the namespace defaults to the naming Bucket's. */
const bucketRefSchema = object(
  {
    name: string({ minLength: 1, maxLength: 253, description: 'Name of the Bucket.' }).required(),
    namespace: string({ minLength: 1, maxLength: 63, description: "Namespace of the Bucket; defaults to this Bucket's namespace." }),
  },
  {
    description:
      'The Bucket whose user (the key in its credentials Secret) is granted access. It must use the same StorageCluster; one that does not exist yet is granted access once it does.',
  },
);

// The namespace as written, '' when left to default: two entries naming one Bucket the same way are duplicates.
const refNamespace = (v: string) => `(has(${v}.bucketRef.namespace) ? ${v}.bucketRef.namespace : '')`;

export const MAX_SHARES = 32;

export const bucketSpecSchema = object(
  {
    clusterRef: object(
      {
        name: string({ minLength: 1, maxLength: 253, description: 'Name of the StorageCluster.' }).required(),
        namespace: string({ maxLength: 63, description: "Defaults to the Bucket's namespace." }),
      },
      { description: 'The StorageCluster that holds the bucket. Immutable.' },
    )
      .required()
      .rule('self == oldSelf', 'spec.clusterRef is immutable: a bucket cannot move between clusters', { reason: 'FieldValueForbidden' }),
    bucketName: string({
      pattern: bucketNamePattern,
      maxLength: 63,
      description: 'Name in the cluster (S3 bucket name); defaults to metadata.name. Immutable.',
    }).rule('self == oldSelf', 'spec.bucketName is immutable', { reason: 'FieldValueForbidden' }),
    replication: object(
      {
        factor: integer({ minimum: 1, maximum: 7, description: "Replication factor R; defaults to the cluster's. Changing it converges the data." }),
        to: object(
          {
            endpoint: string({
              pattern: '^https?://[^/?#@]+/?$',
              maxLength: 2048,
              description: "http(s)://host[:port] of the other store's S3 API.",
            }).required(),
            bucket: string({ pattern: bucketNamePattern, maxLength: 63, description: 'The bucket there (it must exist).' }).required(),
            region: string({ minLength: 1, description: 'Region to sign for there.' }).default('us-east-1'),
            credentialsSecret: object(
              {
                name: string({ minLength: 1, maxLength: 253, description: "Name of a Secret in the Bucket's namespace." }).required(),
              },
              {
                description:
                  "Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the other store (another Cairn Bucket's credentials Secret has this shape). Read at every reconcile: a rotated key is used within a minute.",
              },
            ).required(),
            prefix: string({ maxLength: 1024, description: 'Only keys that start with this.' }),
            deletes: boolean({ description: 'Delete there what is deleted here; default false (the copy keeps what was deleted).' }).default(false),
          },
          {
            description:
              'Copy every object, asynchronously, to a bucket of another S3-compatible store (docs/events.md): new and changed objects as they come, existing ones when the rule is added. status.replicationTo shows backlog and lag.',
          },
        ),
      },
      { description: 'How many copies of every object the cluster keeps, and where else they are copied to.' },
    ),
    quota: object(
      {
        bytes: quantity({ description: 'Maximum stored bytes.' }),
        objects: integer({ minimum: 0, description: 'Maximum object count.' }),
      },
      { description: 'Limits; writes beyond them are refused. Unset: no limit.' },
    ),
    access: enumOf(['private', 'public-read'] as const, { description: 'private: signed requests only; public-read: anyone may GET objects.' }).default(
      'private',
    ),
    sharedWith: array(
      object(
        {
          bucketRef: bucketRefSchema.required(),
          access: enumOf(['read', 'read-write'] as const, {
            description: "read: get and list every object; read-write: also put and delete objects. Neither may change the bucket's settings, ACLs or policy.",
          }).required(),
        },
        { description: "A grant of access to this bucket's objects to another Bucket's user." },
      ),
      {
        maxItems: MAX_SHARES,
        description:
          "Other Buckets whose users may read, or read and write, every object of this bucket: how teams share data. An app holding the other Bucket's credentials Secret uses this bucket by its name. status.sharedWith lists the grants in effect; the GrantsApplied condition says which wait for their Bucket.",
      },
    ).rule(
      `self.all(x, self.exists_one(y, y.bucketRef.name == x.bucketRef.name && ${refNamespace('y')} == ${refNamespace('x')}))`,
      'spec.sharedWith names a Bucket more than once',
      { reason: 'FieldValueDuplicate' },
    ),
    encryption: object(
      {
        default: enumOf(['AES256', 'None'] as const, {
          description:
            'AES256: every new object is encrypted at rest (SSE-S3; a request may still bring its own key, SSE-C); None: only objects whose request asks for it.',
        }).required(),
      },
      { description: "Default encryption of new objects. Unset: left as the bucket's owner sets it over S3 (PutBucketEncryption)." },
    ),
    credentials: object(
      {
        secretName: string({
          minLength: 1,
          maxLength: 253,
          description: 'Secret to write AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_ENDPOINT, BUCKET_NAME into; defaults to <bucket>-credentials.',
        }),
      },
      { description: "Where the operator writes the bucket's access key." },
    ).default({}),
    notifications: bucketNotificationsSchema,
    reclaimPolicy: enumOf(['Retain', 'Delete'] as const, { description: 'On deletion of the Bucket: Retain keeps the data, Delete purges it.' }).default(
      'Retain',
    ),
  },
  { description: 'Desired state of a bucket in a Cairn cluster.' },
).rule('has(self.bucketName) == has(oldSelf.bucketName)', 'spec.bucketName cannot be added or removed after creation', { reason: 'FieldValueForbidden' });

export type BucketSpec = Infer<typeof bucketSpecSchema>;

export const bucketStatusSchema = object(
  {
    observedGeneration: integer({ description: 'The metadata.generation this status describes.' }),
    phase: enumOf(['Pending', 'Ready', 'Converging', 'Failed', 'Deleting'] as const, { description: 'Summary of the Ready condition, which says why.' }),
    conditions: conditionsSchema,
    bucketName: string({ description: "The bucket's name in the cluster (S3 bucket name)." }),
    endpoint: string({ description: 'The in-cluster file API (S3) URL.' }),
    credentialsSecret: string({ description: "The Secret holding the bucket's access key and endpoint." }),
    accessKeyId: string({ description: 'The access key id of this bucket (the secret lives in the credentials Secret).' }),
    replicas: integer({
      description: 'The replication factor every object of the bucket holds; after a change, the new one only once every existing object has it.',
    }),
    replication: object(
      {
        factor: integer({ description: "The replication factor asked for (spec, or the cluster's default)." }),
        underReplicatedChunks: integer({ description: 'Chunks (and metadata) of the bucket still below the factor.' }),
        surplusChunks: integer({ description: 'Copies beyond the factor still to be dropped (after the factor was lowered).' }),
        membersPending: integer({ description: 'Storage nodes that have not planned their repair with the current factor yet.' }),
      },
      { description: "Convergence of the bucket's objects to its replication factor." },
    ),
    usage: object(
      {
        bytes: integer({ description: 'Bytes stored (one copy).' }),
        objects: integer({ description: 'Objects stored.' }),
      },
      { description: 'What the bucket holds.' },
    ),
    owner: string({
      description: "The cluster user that owns the bucket: this Bucket's own (bucket.<namespace>.<name>), whose key the credentials Secret holds.",
    }),
    encryption: enumOf(['AES256', 'None'] as const, { description: "The bucket's default encryption of new objects, as the cluster holds it." }),
    sharedWith: array(
      object(
        {
          bucketRef: object(
            {
              namespace: string({ description: 'Namespace of the Bucket.' }),
              name: string({ description: 'Name of the Bucket.' }),
            },
            { description: 'The Bucket granted access.' },
          ),
          user: string({ description: 'Its user in the cluster.' }),
          access: enumOf(['read', 'read-write'] as const, { description: "What its user may do with this bucket's objects." }),
        },
        { description: 'A grant in effect.' },
      ),
      { description: 'Grants in effect on this bucket (spec.sharedWith, as the cluster holds them).' },
    ),
    sharedBy: array(
      object(
        {
          bucketName: string({ description: "The shared bucket's name in the cluster (S3 bucket name)." }),
          bucketRef: object(
            {
              namespace: string({ description: 'Namespace of the Bucket.' }),
              name: string({ description: 'Name of the Bucket.' }),
            },
            { description: 'The Bucket that shares it.' },
          ),
          access: enumOf(['read', 'read-write'] as const, { description: "What this Bucket's key may do with its objects." }),
        },
        { description: 'A bucket shared with this Bucket.' },
      ),
      { description: "Other buckets this Bucket's key may read, or read and write, because their Buckets share them with it." },
    ),
    replicationTo: object(
      {
        endpoint: string({ description: 'The other store.' }),
        bucket: string({ description: 'The bucket there.' }),
        backlog: integer({ description: "Changes recorded by the members and not copied yet (summed over members; other buckets' changes may be counted)." }),
        lagSeconds: integer({ description: 'Age of the oldest change not copied yet (0: caught up).' }),
        backfill: enumOf(['done', 'running', 'unknown'] as const, {
          description: 'Copy of what the bucket held before the rule: running, done, or unknown (the member running it did not answer).',
        }),
      },
      { description: 'Replication to another store (spec.replication.to), as the cluster reports it.' },
    ),
    notificationRules: integer({ description: 'Notification rules in effect that the operator set from spec.notifications (absent: it set none).' }),
  },
  { description: 'Observed state of the bucket, written by the operator.' },
);

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
  rules: [
    {
      rule: `has(self.spec.bucketName) || self.metadata.name.matches('${bucketNamePattern}')`,
      message: 'metadata.name is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens); set spec.bucketName',
    },
    {
      // Only metadata.name is visible to CEL: sharing with itself through an explicit namespace is left to the operator.
      rule: '!has(self.spec.sharedWith) || self.spec.sharedWith.all(s, has(s.bucketRef.namespace) || s.bucketRef.name != self.metadata.name)',
      message: 'spec.sharedWith names this Bucket itself: its owner may do anything already',
    },
  ],
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterRef.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
    { name: 'Objects', type: 'integer', jsonPath: '.status.usage.objects' },
    { name: 'Bytes', type: 'integer', jsonPath: '.status.usage.bytes' },
    { name: 'Secret', type: 'string', jsonPath: '.status.credentialsSecret', priority: 1 },
    { name: 'Owner', type: 'string', jsonPath: '.status.owner', priority: 1 },
    { name: 'Encryption', type: 'string', jsonPath: '.status.encryption', priority: 1 },
    {
      name: 'Repl-Lag',
      type: 'integer',
      jsonPath: '.status.replicationTo.lagSeconds',
      priority: 1,
      description: 'Seconds the copy to spec.replication.to is behind',
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const bucketCrd = customResourceDefinition(bucketDefinition);
