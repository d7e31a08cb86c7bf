// The node's mutation listener: every write and delete its ObjectService acknowledges becomes an S3
// event record in the node's outbox, routed by the bucket's notification rules of that moment.
//
// It runs after the version reached its write quorum and before the client is answered, and waits
// for the record to be on disk (appends of concurrent writes share one fdatasync): a client that saw
// 2xx has its event in a durable outbox, so a crash after the answer loses nothing. The request's
// facts (operation, signer, address, id) come from its context (observability/request-id.ts); a
// mutation made by the node itself (an admin purge) has none and names `cairn` as its principal.
import type { AppliedMutation, MutationListener } from '../data/mutations.ts';
import { currentRequest } from '../observability/request-id.ts';
import { logger } from '../util/log.ts';
import { outboxEvent } from './notification-config.ts';
import type { Outbox } from './outbox.ts';
import type { EventName, OutboxEvent } from './record.ts';

const log = logger('events');

export interface RecorderOptions {
  outbox: Outbox<OutboxEvent>;
  region: () => string;
  /** This node's name: x-amz-id-2 of its records. */
  node: string;
}

/** The event name of a mutation: what the data path did, refined by the S3 operation that asked (a POST upload, a copy by re-encryption). */
export function eventNameOf(m: Pick<AppliedMutation, 'kind' | 'version'>, operation?: string): EventName {
  if (m.version.deleted) return 's3:ObjectRemoved:Delete';
  if (operation === 'PostObject') return 's3:ObjectCreated:Post';
  if (operation === 'CopyObject' || m.kind === 'Copy') return 's3:ObjectCreated:Copy';
  if (m.kind === 'CompleteMultipartUpload') return 's3:ObjectCreated:CompleteMultipartUpload';
  return 's3:ObjectCreated:Put';
}

export function eventRecorder(o: RecorderOptions): MutationListener {
  return async (m) => {
    const req = currentRequest();
    const { version: v, bucket } = m;
    const eventName = eventNameOf(m, req?.operation);
    const created = !v.deleted;
    const event = outboxEvent(
      {
        eventName,
        bucket: bucket.name,
        key: v.key,
        time: Date.now(),
        stamp: { timestamp: v.timestamp, writer: v.writer },
        ...(created ? { size: v.size, eTag: v.etag } : {}),
        region: o.region(),
        principalId: req ? (req.principal ?? 'anonymous') : 'cairn',
        bucketOwner: bucket.owner,
        sourceIp: req?.sourceIp ?? '',
        requestId: req?.requestId ?? '',
        node: o.node,
      },
      bucket.notifications ?? [],
    );
    try {
      await o.outbox.append(event);
    } catch (e) {
      // Counted by the outbox (cairn_events_outbox_append_errors_total); the write itself stands.
      log.error({ bucket: bucket.name, key: v.key, event: eventName, err: String((e as Error)?.message ?? e) }, 'event not recorded: the outbox refused it');
    }
  };
}
