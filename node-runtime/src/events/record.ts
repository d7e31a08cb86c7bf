// S3 event records: the JSON AWS and MinIO send for a mutation, and the sequencer that orders the events of one key.
//
// One record per mutation goes into the outbox (outbox.ts) together with its routes (which targets
// get it, under which configuration id), decided once, when the write is acknowledged: a later
// change of the bucket's notification configuration does not re-route events already queued.
// Names carry the `s3:` prefix, as MinIO sends them and as notification configurations spell them.

/** The mutations Cairn reports. The wildcards of notification configurations (`s3:ObjectCreated:*`) cover these. */
export const EVENT_NAMES = [
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export interface S3EventRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: EventName;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: '1.0';
    configurationId?: string; // set per route when a target gets the record
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer: string };
  };
}

/** Which target gets an event, and the notification configuration id that routed it there. */
export interface Route {
  target: string;
  configurationId: string;
}

/** What the outbox holds for one mutation. */
export interface OutboxEvent {
  record: S3EventRecord;
  routes: Route[];
}

/** The body a target (Redis value, webhook POST) and the change feed carry: MinIO's shape, which holds AWS's `Records`. */
export interface EventMessage {
  EventName: EventName;
  Key: string;
  Records: [S3EventRecord];
}

/** What the coordinator of a write knows once the write is acknowledged. */
export interface Mutation {
  eventName: EventName;
  bucket: string;
  key: string;
  time: number; // ms since epoch, when the write was acknowledged
  /** The version's last-writer-wins stamp (meta/lww.ts): the sequencer is built from it. */
  stamp: { timestamp: number; writer: string };
  size?: number; // created objects only
  eTag?: string; // without quotes, as AWS sends it
  versionId?: string; // versioned buckets only
  region: string;
  principalId: string; // the access key (or owner) that made the request
  bucketOwner: string;
  sourceIp: string;
  requestId: string;
  node: string; // x-amz-id-2: the node that coordinated the write
}

/**
 * The sequencer: 16 hex digits of the timestamp's IEEE-754 bits, then the writer's UTF-8 bytes in
 * hex. For positive doubles the bit pattern sorts as the number does, so the string order of two
 * sequencers of one key is the last-writer-wins order of their versions (timestamp, then writer):
 * the later of two events of a key has the greater sequencer, even when different nodes
 * coordinated them and their outboxes deliver them independently. AWS's advice to compare
 * sequencers of different lengths by right-padding the shorter with zeros gives the same order.
 */
export function sequencer(stamp: { timestamp: number; writer: string }): string {
  if (!(stamp.timestamp > 0) || !Number.isFinite(stamp.timestamp)) throw new RangeError(`sequencer: bad timestamp ${stamp.timestamp}`);
  const bits = Buffer.alloc(8);
  bits.writeDoubleBE(stamp.timestamp);
  return bits.toString('hex').toUpperCase() + Buffer.from(stamp.writer, 'utf8').toString('hex').toUpperCase();
}

/**
 * An object key as AWS puts it in event records: form-URL-encoded (a space is `+`, a `+` is `%2B`,
 * as Java's URLEncoder does), with `/` left as it is. Consumers decode with unquote_plus.
 */
export function encodeKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The inverse of encodeKey (what a consumer does). */
export function decodeKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, '%20'));
}

/** The S3 event record of an acknowledged mutation. */
export function eventRecord(m: Mutation): S3EventRecord {
  const created = m.eventName.startsWith('s3:ObjectCreated:');
  const object: S3EventRecord['s3']['object'] = { key: encodeKey(m.key), sequencer: sequencer(m.stamp) };
  if (created && m.size !== undefined) object.size = m.size;
  if (created && m.eTag !== undefined) object.eTag = m.eTag.replace(/^"|"$/g, '');
  if (m.versionId !== undefined) object.versionId = m.versionId;
  return {
    // Lifecycle events carry 2.3 on AWS; the rest 2.1. The fields used here are the same in both.
    eventVersion: m.eventName.startsWith('s3:LifecycleExpiration:') ? '2.3' : '2.1',
    // AWS's value: consumers written for AWS (Lambda handlers, SDK helpers) check it.
    eventSource: 'aws:s3',
    awsRegion: m.region,
    eventTime: new Date(m.time).toISOString(),
    eventName: m.eventName,
    userIdentity: { principalId: m.principalId },
    requestParameters: { sourceIPAddress: m.sourceIp },
    responseElements: { 'x-amz-request-id': m.requestId, 'x-amz-id-2': m.node },
    s3: {
      s3SchemaVersion: '1.0',
      bucket: { name: m.bucket, ownerIdentity: { principalId: m.bucketOwner }, arn: `arn:aws:s3:::${m.bucket}` },
      object,
    },
  };
}

/** The message one target gets for an event: the record with the routing configuration's id. */
export function eventMessage(record: S3EventRecord, configurationId?: string): EventMessage {
  const s3 = configurationId === undefined ? record.s3 : { ...record.s3, configurationId };
  return {
    EventName: record.eventName,
    Key: `${record.s3.bucket.name}/${decodeKey(record.s3.object.key)}`,
    Records: [{ ...record, s3 }],
  };
}
