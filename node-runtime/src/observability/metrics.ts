// Observability: every Prometheus metric of a node-runtime process, defined once per node.
//
// A node's composition root creates one NodeMetrics (its own registry, labelled with the node's
// name) and hands it to the parts that record: the S3 app, the RPC client, the repair and scrub
// workers and the collectors that set state gauges at scrape time (`registerCollector`), so gauges
// never go stale between scrapes. Several nodes in one process (tests) keep their metrics apart.
// Callers never create metrics of their own: they use the typed objects of their NodeMetrics.
// Label values are bounded (see docs/metrics.md): S3 operations come from a fixed list, members
// and RPC methods pass through `boundedLabel`, and no key, object or upload id is ever a label.
import type { Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { readFileSync } from 'node:fs';
import { logger } from '../util/log.ts';

const log = logger('metrics');

/** S3 operation names (AWS API names) allowed as the `operation` label; anything else is `Unknown`. */
export const s3Operations = [
  'ListBuckets',
  'CreateBucket',
  'HeadBucket',
  'DeleteBucket',
  'GetBucketLocation',
  'GetBucketVersioning',
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'ListMultipartUploads',
  'PutObject',
  'CopyObject',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'DeleteObjects',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'GetBucketAcl',
  'PutBucketAcl',
  'GetObjectAcl',
  'PutObjectAcl',
  'GetBucketPolicy',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'GetBucketPolicyStatus',
  'GetPublicAccessBlock',
  'PutPublicAccessBlock',
  'DeletePublicAccessBlock',
  'GetBucketOwnershipControls',
  'PutBucketOwnershipControls',
  'DeleteBucketOwnershipControls',
  'GetBucketEncryption',
  'PutBucketEncryption',
  'DeleteBucketEncryption',
  'PutBucketVersioning',
  'GetObjectTagging',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'PutObjectLegalHold',
  'GetObjectLockConfiguration',
  'PutObjectLockConfiguration',
  'GetBucketLifecycleConfiguration',
  'PutBucketLifecycleConfiguration',
  'DeleteBucketLifecycle',
  'GetBucketCors',
  'PutBucketCors',
  'DeleteBucketCors',
  'CorsPreflight',
  'GetBucketTagging',
  'PutBucketTagging',
  'DeleteBucketTagging',
  'PostObject',
  'GetObjectAttributes',
  'GetBucketNotificationConfiguration',
  'PutBucketNotificationConfiguration',
  'GetBucketChanges',
  'Unknown',
] as const;
export type S3Operation = (typeof s3Operations)[number];
const s3OperationSet: ReadonlySet<string> = new Set(s3Operations);

/** Map any string onto the fixed operation list (unknown names become `Unknown`, never a new series). */
export function s3Operation(name: string | undefined): S3Operation {
  return name && s3OperationSet.has(name) ? (name as S3Operation) : 'Unknown';
}

// Which build answers: a constant 1 with the version as a label (join on it in dashboards).
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const rpcBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const collectorTimeoutMs = 2_000;
const labelValuePattern = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,62}$/;

/** A state-gauge setter run just before each scrape. */
export type Collector = () => void | Promise<void>;

export class NodeMetrics {
  /** This node's registry (process_* and nodejs_* included); do not add metrics to it elsewhere. */
  readonly registry = new Registry();
  readonly #collectors = new Set<Collector>();
  readonly #labelGuards = new Map<string, Set<string>>();

  // ---- File API (S3) traffic: updated by `s3RequestMetrics()` (request-metrics.ts) ----
  readonly s3Requests: Counter<'operation' | 'code'>;
  readonly s3RequestDuration: Histogram<'operation'>;
  readonly s3TimeToFirstByte: Histogram<'operation'>;
  readonly s3BytesReceived: Counter<'operation'>;
  readonly s3BytesSent: Counter<'operation'>;
  readonly s3InFlight: Gauge;
  readonly s3Rejected: Counter<'reason'>;
  // ---- This node's storage: set by a collector (`collectNodeUsage`) ----
  readonly nodeCapacityBytes: Gauge;
  readonly nodeUsedBytes: Gauge;
  readonly chunksStored: Gauge;
  readonly objectsStored: Gauge;
  readonly nodeDiskFreeBytes: Gauge;
  readonly nodeDiskState: Gauge<'state'>;
  // ---- Durability and repair: set by a collector (`collectRepairProgress`) plus counters ----
  readonly chunksUnderReplicated: Gauge;
  readonly chunksMisplaced: Gauge;
  readonly repairBucketItems: Gauge<'bucket' | 'state'>;
  readonly repairQueueLength: Gauge;
  readonly repairQueueBytes: Gauge;
  readonly repairRate: Gauge;
  readonly repairBytesMoved: Counter;
  readonly repairItems: Counter<'kind' | 'result'>;
  readonly repairPasses: Counter<'kind' | 'chunks'>;
  readonly repairEntriesVisited: Counter<'kind'>;
  // ---- Background integrity: scrub and garbage collection ----
  readonly scrubPasses: Counter;
  readonly scrubChunksChecked: Counter;
  readonly scrubErrors: Counter<'reason'>;
  readonly gcRemovals: Counter<'kind'>;
  readonly gcBytesRemoved: Counter;
  // ---- Lifecycle (s3/lifecycle-worker.ts) ----
  readonly lifecyclePasses: Counter;
  readonly lifecycleVersionsScanned: Counter;
  readonly lifecycleActions: Counter<'action' | 'result'>;
  // ---- Membership: set by a collector on roots (`collectMembership`) ----
  readonly members: Gauge<'state'>;
  readonly memberState: Gauge<'member' | 'state'>;
  readonly memberHeartbeatAge: Gauge<'member'>;
  readonly clusterWriteQuorum: Gauge;
  readonly bucketsRegistered: Gauge;
  // ---- Quotas: refusals counted where they happen; usage and limits set by a collector on roots (`collectQuotas`) ----
  readonly quotaRefusals: Counter<'scope' | 'limit'>;
  readonly bucketUsedBytes: Gauge<'bucket'>;
  readonly bucketObjects: Gauge<'bucket'>;
  readonly bucketQuotaBytes: Gauge<'bucket'>;
  readonly bucketQuotaObjects: Gauge<'bucket'>;
  readonly userUsedBytes: Gauge<'user'>;
  readonly userObjects: Gauge<'user'>;
  readonly userBuckets: Gauge<'user'>;
  readonly userQuotaBytes: Gauge<'user'>;
  readonly userQuotaObjects: Gauge<'user'>;
  readonly userQuotaBuckets: Gauge<'user'>;
  // ---- Events: the outbox (events/outbox.ts) and the delivery workers (events/deliveries.ts), gauges set at scrape time ----
  readonly eventsOutboxBytes: Gauge;
  readonly eventsOutboxLimitBytes: Gauge;
  readonly eventsOutboxEntries: Gauge;
  readonly eventsOutboxAppended: Counter;
  readonly eventsOutboxDropped: Counter;
  readonly eventsOutboxAppendErrors: Counter;
  readonly eventsBacklog: Gauge<'target'>;
  readonly eventsOldestUndeliveredAge: Gauge<'target'>;
  readonly eventsDeliveryState: Gauge<'target' | 'state'>;
  readonly eventsDelivered: Counter<'target'>;
  readonly eventsDeliveryFailures: Counter<'target'>;
  readonly eventsDropped: Counter<'target'>;
  // ---- Replication to another S3 store (events/replication.ts): gauges set at scrape time ----
  readonly replicationBacklog: Gauge<'bucket'>;
  readonly replicationLag: Gauge<'bucket'>;
  readonly replicationBackfillRunning: Gauge<'bucket'>;
  readonly replicationObjects: Counter<'bucket' | 'result'>;
  // ---- Internal RPC (cluster port): updated by `timeRpc` (request-metrics.ts) ----
  readonly rpcDuration: Histogram<'peer' | 'method'>;
  readonly rpcErrors: Counter<'peer' | 'method'>;

  /** `node`: the member name every series is labelled with (`node="nodes-2"`), so dashboards can group by node without relabelling. */
  constructor(node?: string) {
    const registers = [this.registry];
    if (node !== undefined) this.registry.setDefaultLabels({ node });
    collectDefaultMetrics({ register: this.registry }); // process_* and nodejs_* (CPU, memory, fds, event loop, GC)
    new Gauge({
      name: 'cairn_build_info',
      help: 'Always 1; labels carry the Cairn version and the Node.js version.',
      labelNames: ['version', 'nodejs'] as const,
      registers,
    }).set({ version, nodejs: process.version }, 1);

    this.s3Requests = new Counter({
      name: 'cairn_s3_requests_total',
      help: 'S3 requests answered, by operation and HTTP status code (499 = client went away).',
      labelNames: ['operation', 'code'] as const,
      registers,
    });
    this.s3RequestDuration = new Histogram({
      name: 'cairn_s3_request_duration_seconds',
      help: 'S3 request latency from first request byte to the last response byte, by operation.',
      labelNames: ['operation'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.s3TimeToFirstByte = new Histogram({
      name: 'cairn_s3_time_to_first_byte_seconds',
      help: 'Time from request arrival to the response headers being sent, by operation.',
      labelNames: ['operation'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.s3BytesReceived = new Counter({
      name: 'cairn_s3_received_bytes_total',
      help: 'Bytes read from S3 clients (wire bytes: headers and body), by operation.',
      labelNames: ['operation'] as const,
      registers,
    });
    this.s3BytesSent = new Counter({
      name: 'cairn_s3_sent_bytes_total',
      help: 'Bytes written to S3 clients (wire bytes: headers and body), by operation.',
      labelNames: ['operation'] as const,
      registers,
    });

    this.s3InFlight = new Gauge({ name: 'cairn_s3_requests_in_flight', help: 'S3 requests in progress on this node (admitted, not yet answered).', registers });
    this.s3Rejected = new Counter({
      name: 'cairn_s3_rejected_total',
      help: 'S3 requests and connections refused with 503 SlowDown because the node was at capacity, by reason (connections | requests | memory). Not counted in cairn_s3_requests_total.',
      labelNames: ['reason'] as const,
      registers,
    });

    this.nodeCapacityBytes = new Gauge({ name: 'cairn_node_capacity_bytes', help: 'Storage capacity of this node (bytes).', registers });
    this.nodeUsedBytes = new Gauge({ name: 'cairn_node_used_bytes', help: 'Bytes used by chunks and metadata on this node.', registers });
    this.chunksStored = new Gauge({ name: 'cairn_chunks_stored', help: 'Chunk replicas stored on this node.', registers });
    this.nodeDiskFreeBytes = new Gauge({
      name: 'cairn_node_disk_free_bytes',
      help: "Bytes free on this node's data disk (below its reserve it takes no new chunks).",
      registers,
    });
    this.nodeDiskState = new Gauge({
      name: 'cairn_node_disk_state',
      help: "1 for the state of this node's data disk (ok | full: no new chunks, serves reads | failed: out of placement and readiness), 0 for the others.",
      labelNames: ['state'] as const,
      registers,
    });
    this.objectsStored = new Gauge({
      name: 'cairn_objects_stored',
      help: 'Live object versions in the metadata partitions this node holds (each replica counts; divide the sum by R).',
      registers,
    });

    this.chunksUnderReplicated = new Gauge({
      name: 'cairn_chunks_under_replicated',
      help: 'Chunks with fewer than R live replicas, counted by the node that repairs them.',
      registers,
    });
    this.chunksMisplaced = new Gauge({
      name: 'cairn_chunks_misplaced',
      help: 'Chunk replicas on this node that placement puts elsewhere (waiting to move).',
      registers,
    });
    this.repairBucketItems = new Gauge({
      name: 'cairn_repair_bucket_items',
      help: 'Per bucket, the items this node repairs that are below their R (state=under_replicated) and the surplus copies it holds waiting to be dropped (state=surplus), as its current repair pass planned them.',
      labelNames: ['bucket', 'state'] as const,
      registers,
    });
    this.repairQueueLength = new Gauge({ name: 'cairn_repair_queue_length', help: 'Repair/rebalance work items queued on this node.', registers });
    this.repairQueueBytes = new Gauge({
      name: 'cairn_repair_queue_bytes',
      help: 'Bytes still to copy for queued repair/rebalance work on this node.',
      registers,
    });
    this.repairRate = new Gauge({
      name: 'cairn_repair_rate_bytes_per_second',
      help: 'Current repair/rebalance copy rate of this node (bytes/s, smoothed by the worker).',
      registers,
    });
    this.repairBytesMoved = new Counter({ name: 'cairn_repair_bytes_moved_total', help: 'Bytes copied by repair/rebalance on this node.', registers });
    this.repairItems = new Counter({
      name: 'cairn_repair_items_total',
      help: 'Repair work items finished, by kind (chunk|meta) and result (ok|error).',
      labelNames: ['kind', 'result'] as const,
      registers,
    });
    this.repairPasses = new Counter({
      name: 'cairn_repair_passes_total',
      help: 'Repair passes, by kind (full: trusts no digest | incremental) and whether the chunk phase ran (chunks=true|false).',
      labelNames: ['kind', 'chunks'] as const,
      registers,
    });
    this.repairEntriesVisited = new Counter({
      name: 'cairn_repair_entries_visited_total',
      help: 'Entries repair passes read (partition records pushed, reference index records, local chunks planned), by pass kind.',
      labelNames: ['kind'] as const,
      registers,
    });

    this.scrubPasses = new Counter({ name: 'cairn_scrub_passes_total', help: 'Completed scrub passes over every chunk of this node.', registers });
    this.scrubChunksChecked = new Counter({ name: 'cairn_scrub_chunks_checked_total', help: 'Chunks read and hash-verified by scrub.', registers });
    this.scrubErrors = new Counter({
      name: 'cairn_scrub_errors_total',
      help: 'Scrub findings, by reason (corrupt: hash mismatch | missing: referenced but absent | io: read error).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.gcRemovals = new Counter({
      name: 'cairn_gc_removals_total',
      help: 'Items removed by garbage collection, by kind (chunk | version: old versions and tombstones | upload: aborted/expired multipart).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.gcBytesRemoved = new Counter({ name: 'cairn_gc_removed_bytes_total', help: 'Chunk bytes freed by garbage collection.', registers });
    this.lifecyclePasses = new Counter({
      name: 'cairn_lifecycle_passes_total',
      help: 'Lifecycle passes started over the buckets whose rules this member runs.',
      registers,
    });
    this.lifecycleVersionsScanned = new Counter({
      name: 'cairn_lifecycle_scanned_versions_total',
      help: 'Versions and delete markers the lifecycle worker read and decided on.',
      registers,
    });
    this.lifecycleActions = new Counter({
      name: 'cairn_lifecycle_actions_total',
      help: 'Lifecycle actions, by action (expire-current | delete-noncurrent | remove-delete-marker | abort-upload) and result (done | noop: already done | locked: kept by object lock | failed: retried next pass).',
      labelNames: ['action', 'result'] as const,
      registers,
    });

    this.members = new Gauge({
      name: 'cairn_members',
      help: 'Members of the cluster map by state (reported by roots; use max by (state) across roots).',
      labelNames: ['state'] as const,
      registers,
    });
    this.memberState = new Gauge({
      name: 'cairn_member_state',
      help: '1 for the current state of each member (member = member name), 0 for the other states.',
      labelNames: ['member', 'state'] as const,
      registers,
    });
    this.memberHeartbeatAge = new Gauge({
      name: 'cairn_member_heartbeat_age_seconds',
      help: 'Seconds since the last heartbeat of each member, as seen by this root.',
      labelNames: ['member'] as const,
      registers,
    });
    this.clusterWriteQuorum = new Gauge({
      name: 'cairn_cluster_write_quorum_available',
      help: '1 when every bucket can reach its write quorum W, else 0 (reported by roots).',
      registers,
    });
    this.bucketsRegistered = new Gauge({ name: 'cairn_buckets', help: 'Buckets in the registry (reported by roots).', registers });

    this.quotaRefusals = new Counter({
      name: 'cairn_quota_refusals_total',
      help: 'Writes and bucket creations refused with QuotaExceeded or TooManyBuckets by this coordinator, by scope (bucket | user) and limit (bytes | objects | buckets).',
      labelNames: ['scope', 'limit'] as const,
      registers,
    });
    this.bucketUsedBytes = new Gauge({
      name: 'cairn_bucket_used_bytes',
      help: 'Bytes of the live objects of each bucket, one copy (reported by roots; use max by (bucket)).',
      labelNames: ['bucket'] as const,
      registers,
    });
    this.bucketObjects = new Gauge({
      name: 'cairn_bucket_objects',
      help: 'Live objects of each bucket (reported by roots).',
      labelNames: ['bucket'] as const,
      registers,
    });
    this.bucketQuotaBytes = new Gauge({
      name: 'cairn_bucket_quota_bytes',
      help: 'The byte quota of each bucket that has one (reported by roots).',
      labelNames: ['bucket'] as const,
      registers,
    });
    this.bucketQuotaObjects = new Gauge({
      name: 'cairn_bucket_quota_objects',
      help: 'The object quota of each bucket that has one (reported by roots).',
      labelNames: ['bucket'] as const,
      registers,
    });
    this.userUsedBytes = new Gauge({
      name: 'cairn_user_used_bytes',
      help: 'Bytes in the buckets of each user that has a quota (reported by roots).',
      labelNames: ['user'] as const,
      registers,
    });
    this.userObjects = new Gauge({
      name: 'cairn_user_objects',
      help: 'Objects in the buckets of each user that has a quota (reported by roots).',
      labelNames: ['user'] as const,
      registers,
    });
    this.userBuckets = new Gauge({
      name: 'cairn_user_buckets',
      help: 'Buckets owned by each user that has a quota (reported by roots).',
      labelNames: ['user'] as const,
      registers,
    });
    this.userQuotaBytes = new Gauge({
      name: 'cairn_user_quota_bytes',
      help: 'The byte quota of each user that has one (reported by roots).',
      labelNames: ['user'] as const,
      registers,
    });
    this.userQuotaObjects = new Gauge({
      name: 'cairn_user_quota_objects',
      help: 'The object quota of each user that has one (reported by roots).',
      labelNames: ['user'] as const,
      registers,
    });
    this.userQuotaBuckets = new Gauge({
      name: 'cairn_user_quota_buckets',
      help: 'The bucket quota of each user that has one (reported by roots).',
      labelNames: ['user'] as const,
      registers,
    });

    this.eventsOutboxBytes = new Gauge({ name: 'cairn_events_outbox_bytes', help: 'Bytes of the event outbox on disk.', registers });
    this.eventsOutboxLimitBytes = new Gauge({
      name: 'cairn_events_outbox_limit_bytes',
      help: 'The outbox bound: past it the oldest events are dropped.',
      registers,
    });
    this.eventsOutboxEntries = new Gauge({
      name: 'cairn_events_outbox_entries',
      help: 'Entries retained in the outbox (delivered ones included, for the change feed).',
      registers,
    });
    this.eventsOutboxAppended = new Counter({ name: 'cairn_events_outbox_appended_total', help: 'Events written to the outbox.', registers });
    this.eventsOutboxDropped = new Counter({
      name: 'cairn_events_outbox_dropped_total',
      help: 'Events dropped because the outbox was full before every consumer had read them.',
      registers,
    });
    this.eventsOutboxAppendErrors = new Counter({
      name: 'cairn_events_outbox_append_errors_total',
      help: 'Events that could not be written to the outbox (disk errors): lost.',
      registers,
    });
    this.eventsBacklog = new Gauge({
      name: 'cairn_events_backlog',
      help: "Outbox entries a target's worker has not passed yet (entries for other targets included).",
      labelNames: ['target'] as const,
      registers,
    });
    this.eventsOldestUndeliveredAge = new Gauge({
      name: 'cairn_events_oldest_undelivered_age_seconds',
      help: 'Age of the oldest event a target has not acknowledged yet (0 when caught up).',
      labelNames: ['target'] as const,
      registers,
    });
    this.eventsDeliveryState = new Gauge({
      name: 'cairn_events_delivery_state',
      help: "A target worker's state: 1 for the state it is in.",
      labelNames: ['target', 'state'] as const,
      registers,
    });
    this.eventsDelivered = new Counter({
      name: 'cairn_events_delivered_total',
      help: 'Events a target acknowledged.',
      labelNames: ['target'] as const,
      registers,
    });
    this.eventsDeliveryFailures = new Counter({
      name: 'cairn_events_delivery_failures_total',
      help: 'Failed delivery attempts (each is retried).',
      labelNames: ['target'] as const,
      registers,
    });
    this.replicationBacklog = new Gauge({
      name: 'cairn_replication_backlog',
      help: 'Outbox entries this member has not replicated yet (changes of other buckets included).',
      labelNames: ['bucket'] as const,
      registers,
    });
    this.replicationLag = new Gauge({
      name: 'cairn_replication_lag_seconds',
      help: 'Age of the oldest change of the bucket this member has not copied yet (0 when caught up).',
      labelNames: ['bucket'] as const,
      registers,
    });
    this.replicationBackfillRunning = new Gauge({
      name: 'cairn_replication_backfill_running',
      help: '1 while this member copies what the bucket held before its replication rule.',
      labelNames: ['bucket'] as const,
      registers,
    });
    this.replicationObjects = new Counter({
      name: 'cairn_replication_objects_total',
      help: 'Keys replicated: copied, deleted, skipped (not replicated: SSE-C, or a delete with deletes off), failed (attempts, retried).',
      labelNames: ['bucket', 'result'] as const,
      registers,
    });
    this.eventsDropped = new Counter({
      name: 'cairn_events_dropped_total',
      help: "Outbox entries dropped (outbox full) before this target's worker read them; not all were routed to it.",
      labelNames: ['target'] as const,
      registers,
    });

    this.rpcDuration = new Histogram({
      name: 'cairn_rpc_request_duration_seconds',
      help: 'Internal RPC latency as seen by the caller, by peer (member name) and method.',
      labelNames: ['peer', 'method'] as const,
      buckets: rpcBuckets,
      registers,
    });
    this.rpcErrors = new Counter({
      name: 'cairn_rpc_errors_total',
      help: 'Internal RPC calls that failed (transport error, timeout or 5xx), by peer and method.',
      labelNames: ['peer', 'method'] as const,
      registers,
    });
  }

  /**
   * Run `fn` before every scrape to set state gauges (capacity, membership, queue lengths) from
   * the owner's live state. Returns a function that unregisters it (call it on stop).
   * A collector that throws or takes longer than 2 s is logged and skipped; the scrape still succeeds.
   */
  registerCollector(fn: Collector): () => void {
    this.#collectors.add(fn);
    return () => {
      this.#collectors.delete(fn);
    };
  }

  async #runCollectors(): Promise<void> {
    await Promise.all(
      [...this.#collectors].map(async (fn) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(fn),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`collector took longer than ${collectorTimeoutMs} ms`)), collectorTimeoutMs);
            }),
          ]);
        } catch (e) {
          log.warn({ err: e }, 'metrics collector failed; its gauges keep their last values');
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  /** The Prometheus text exposition of this node, after running every collector. */
  async text(): Promise<string> {
    await this.#runCollectors();
    return this.registry.metrics();
  }

  /** Express handler for `GET /metrics` (mount on the cluster port: `app.get('/metrics', metrics.handler)`). */
  readonly handler = async (_req: Request, res: Response): Promise<void> => {
    try {
      const body = await this.text();
      res.status(200).type(this.registry.contentType).send(body);
    } catch (e) {
      log.error({ err: e }, 'metrics scrape failed');
      res.status(500).type('text/plain').send('metrics scrape failed\n');
    }
  };

  /**
   * Pass a label value through unchanged while the label has seen fewer than `max` distinct values
   * and the value looks like a name (≤ 63 chars, no spaces); otherwise return `other`, so a bug that
   * feeds ids into a label can never explode the series count. Used for `peer` and `method`.
   */
  boundedLabel(label: string, value: string, max = 64): string {
    let seen = this.#labelGuards.get(label);
    if (!seen) this.#labelGuards.set(label, (seen = new Set()));
    if (seen.has(value)) return value;
    if (!labelValuePattern.test(value) || seen.size >= max) {
      if (!seen.has('other')) log.warn({ label, value: value.slice(0, 80), max }, 'label value rejected to keep cardinality bounded; using "other"');
      seen.add('other');
      return 'other';
    }
    seen.add(value);
    return value;
  }

  /** Forget label values of members that left (call from the membership collector). */
  forgetLabelValue(label: string, value: string): void {
    this.#labelGuards.get(label)?.delete(value);
  }
}

/**
 * The operator's metrics (defined in operator/, named after controller-runtime's). Listed here so
 * the dashboard/alert test and docs/metrics.md know them; the operator must export exactly these.
 */
export const operatorMetrics = [
  {
    name: 'cairn_operator_reconcile_total',
    type: 'counter',
    labels: ['controller', 'result'],
    help: 'Reconciles by controller and result (success | requeue | error | terminal).',
  },
  { name: 'cairn_operator_reconcile_errors_total', type: 'counter', labels: ['controller'], help: 'Reconciles that returned an error.' },
  { name: 'cairn_operator_reconcile_time_seconds', type: 'histogram', labels: ['controller'], help: 'Reconcile duration.' },
  { name: 'cairn_operator_workqueue_depth', type: 'gauge', labels: ['controller'], help: 'Keys waiting in the controller work queue.' },
] as const;
