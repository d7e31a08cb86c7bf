// Event notifications in the CRDs: the targets a StorageCluster declares (spec.notifications) and the
// rules a Bucket routes its events with (spec.notifications). Target names and event names are
// checked here only as far as the API server can (shape, uniqueness); that a rule names a declared
// target of the right kind and a known event is the node runtime's check, reported on the Bucket.
import { array, integer, object, string } from './schema.ts';

/** A target name: a DNS label (the node runtime's TARGET_NAME), as it appears in the ARN. */
const TARGET_NAME = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
export const MAX_TARGETS = 16;
export const MAX_BUCKET_RULES = 100;

const secretKeyRef = (what: string) =>
  object(
    {
      name: string({ minLength: 1, maxLength: 253, description: "Name of a Secret in the StorageCluster's namespace." }).required(),
      key: string({ minLength: 1, maxLength: 253, description: 'Key of the Secret that holds the value.' }).required(),
    },
    { description: `The Secret key holding ${what}; mounted into the pods as a file (read at pod start: restart the pods after rotating it).` },
  );

const redisTarget = object(
  {
    address: string({ minLength: 1, pattern: '^[^\\s:/]+:[0-9]{1,5}$', description: 'host:port of the Redis server.' }).required(),
    list: string({ minLength: 1, description: 'Append each event to this list (RPUSH). Exactly one of list and stream.' }),
    stream: string({ minLength: 1, description: 'Add each event to this stream (XADD, field "event"). Exactly one of list and stream.' }),
    streamMaxLen: integer({ minimum: 1, description: 'Trim the stream to about this many entries (XADD MAXLEN ~).' }),
    db: integer({ minimum: 0, maximum: 15, description: 'Redis database number; default 0.' }),
    username: string({ minLength: 1, description: 'ACL user name (Redis 6+); default: the default user.' }),
    passwordSecretRef: secretKeyRef('the Redis password'),
  },
  { description: 'A Redis list or stream.' },
).rule('has(self.list) != has(self.stream)', 'a redis target has exactly one of list and stream');

const webhookTarget = object(
  {
    url: string({ minLength: 1, pattern: '^https?://', description: 'http:// or https:// URL that each event is POSTed to (any 2xx is delivery).' }).required(),
    bearerTokenSecretRef: secretKeyRef('a bearer token sent as Authorization: Bearer'),
  },
  { description: 'An HTTP endpoint.' },
);

export const notificationTargetsSchema = object(
  {
    targets: array(
      object(
        {
          name: string({
            pattern: TARGET_NAME,
            maxLength: 63,
            description: "The target's name (a DNS label): Bucket rules and S3 ARNs (arn:cairn:sqs::<name>:<redis|webhook>) name it.",
          }).required(),
          redis: redisTarget,
          webhook: webhookTarget,
          timeoutSeconds: integer({
            minimum: 1,
            maximum: 300,
            description: 'Bound on every delivery attempt (connect and command, or request); default 5 s for redis, 10 s for webhooks.',
          }),
        },
        { description: 'One target: exactly one of redis and webhook.' },
      ).rule('has(self.redis) != has(self.webhook)', 'a target is exactly one of redis and webhook'),
      {
        maxItems: MAX_TARGETS,
        description:
          'Where bucket events may be sent. Every pod delivers the events of the writes it coordinated; undelivered events wait on its volume (docs/events.md).',
      },
    ).with({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
  },
  { description: 'Event notification targets of the cluster (docs/events.md). A change restarts the pods one at a time.' },
);

export const bucketNotificationsSchema = array(
  object(
    {
      id: string({ minLength: 1, maxLength: 255, description: "The rule's id, sent as s3.configurationId in each record; default rule-<n>." }),
      target: string({ pattern: TARGET_NAME, maxLength: 63, description: "A target declared in the StorageCluster's spec.notifications.targets." }).required(),
      events: array(string({ pattern: '^s3:[A-Za-z]+:[A-Za-z*]+$', description: 'An S3 event name or wildcard.' }), {
        minItems: 1,
        listType: 'set',
        description:
          'Events routed: s3:ObjectCreated:* (Put, Post, Copy, CompleteMultipartUpload), s3:ObjectRemoved:* (Delete, DeleteMarkerCreated), s3:LifecycleExpiration:*.',
      }).required(),
      prefix: string({ maxLength: 1024, description: 'Only keys that start with this.' }),
      suffix: string({ maxLength: 1024, description: 'Only keys that end with this.' }),
    },
    { description: 'One rule: the events of matching keys go to one target.' },
  ),
  {
    maxItems: MAX_BUCKET_RULES,
    description:
      "Where the bucket's events go, as S3's PutBucketNotificationConfiguration sets them (this list replaces that configuration; [] turns notifications off; removing the field turns off what the operator set). Unset: left as the bucket's owner sets it over S3.",
  },
);
