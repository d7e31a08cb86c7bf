// The configuration of one node, read once at the edge. `cairn server` turns flags (and their
// CAIRN_* environment twins) into NodeOptions; in-process callers (tests, tools) pass them directly.
// The few tunables without a flag (timings tests shorten to seconds) come from the environment here
// and nowhere else, and reach the layers as arguments. Only what is per process by nature reads its
// own variables: the log level (util/log.ts) and the OpenTelemetry exporter (observability/tracing.ts).
import type { Role } from '../cluster/types.ts';
import type { ServerTimeouts } from './listen.ts';
import type { AdmissionLimits } from './admission.ts';

export interface NodeOptions {
  dataDir: string;
  roles?: Role[]; // default ['root', 'node']
  name?: string; // default: the node id
  api?: string; // HOST:PORT of the file API, default 0.0.0.0:9000 (port 0 = any)
  cluster?: string; // HOST:PORT of the cluster port, default 0.0.0.0:9100
  advertise?: string; // host others use to reach this process; default the api host
  console?: string; // HOST:PORT of the web console, default <api host>:9001; 'off' = none (needs a cluster secret)
  /** Console sign-in through an OpenID Connect issuer too; a person is the user with their verified e-mail. */
  consoleOidc?: { issuer: string; clientId: string; clientSecret?: string; redirectUri?: string };
  roots?: string[]; // cluster-port URLs of roots to join
  zone?: string;
  /** A file holding this node's zone (e.g. the zone of its Kubernetes node, kept by the operator); read at start, waited for. `zone` wins. */
  zoneFile?: string;
  /** A file holding the size of the data volume in bytes (a PVC's capacity, kept current by the operator); capacity is the smaller of it and the file system's. */
  volumeSizeFile?: string;
  weight?: number;
  secret?: string; // cluster secret (internal RPC + admin auth)
  masterKey?: string; // 32 bytes, hex or base64; default: derived from the secret, else kept in dataDir
  accessKey?: string; // root S3 key pair; generated and kept in dataDir when absent
  secretKey?: string;
  keysFile?: string; // users' key pairs: JSON [{user, accessKeyId, secretAccessKey, displayName?, email?}]
  replicas?: number; // default R for new buckets
  chunkSize?: number;
  region?: string;
  failureTimeoutMs?: number; // cluster settings recorded by a root (self-healing); env CAIRN_FAILURE_TIMEOUT_MS
  gcGraceMs?: number;
  repairBandwidthBytes?: number;
  repairConcurrency?: number;
  /** Memory for chunk buffers of this node (uploads, repair copies, read-ahead); env CAIRN_BUFFER_MEMORY (MiB), default 48 MiB. */
  bufferMemoryBytes?: number;
  /** Write chunk files around the page cache where the file system allows it (chunks/store.ts); env
   *  CAIRN_DIRECT_IO=0 turns it off; default on. */
  directIo?: boolean;
  /** Heartbeat period to the roots; env CAIRN_HEARTBEAT_MS, default 1 s. */
  heartbeatMs?: number;
  /** Safety-net period of the repair worker (it also runs on every map change); env CAIRN_REPAIR_INTERVAL_MS, default 30 s. */
  repairIntervalMs?: number;
  /** Period of the repair pass that trusts no partition digest and walks everything; env CAIRN_REPAIR_FULL_INTERVAL_MS, default 6 h. */
  repairFullIntervalMs?: number;
  /** Pause between scrub passes; env CAIRN_SCRUB_INTERVAL_MS, default 24 h. */
  scrubIntervalMs?: number;
  /** Scrub read rate; env CAIRN_SCRUB_BYTES_PER_SEC, default 64 MiB/s. */
  scrubBytesPerSec?: number;
  /** Age after which an unfinished multipart upload is abandoned; env CAIRN_UPLOAD_EXPIRY_MS, default 7 days. */
  uploadExpiryMs?: number;
  /** Pause between lifecycle passes (s3/lifecycle-worker.ts); env CAIRN_LIFECYCLE_INTERVAL_MS, default 1 h. */
  lifecycleIntervalMs?: number;
  /** Length of a lifecycle "day", for tests only (as RGW's rgw_lc_debug_interval); env CAIRN_LIFECYCLE_DAY_MS. */
  lifecycleDayMs?: number;
  /** Free bytes on the data disk below which no new chunk is stored here (chunks/disk.ts); env
   *  CAIRN_DISK_RESERVE_BYTES, default 1 % of the disk within 256 MiB – 8 GiB. */
  diskReserveBytes?: number;
  /** Limits on slow clients, both ports (listen.ts); env CAIRN_IDLE_TIMEOUT_MS (default 30 s),
   *  CAIRN_HEADERS_TIMEOUT_MS (20 s), CAIRN_REQUEST_TIMEOUT_MS (1 h). */
  timeouts?: Partial<ServerTimeouts>;
  /** What the file API takes at once before answering 503 SlowDown (admission.ts); env
   *  CAIRN_MAX_CONNECTIONS (default 4096), CAIRN_MAX_REQUESTS (256), CAIRN_MAX_MEMORY_WAITERS (32),
   *  CAIRN_MAX_MEMORY_WAIT_MS (250). */
  admission?: Partial<AdmissionLimits>;
  /** A file declaring the cluster's notification targets (JSON or YAML, node/targets-file.ts); every member gets the same. */
  notificationTargets?: string;
  /** How long the event outbox keeps delivered events for the change feed; env CAIRN_EVENTS_RETAIN_MS, default 24 h. */
  eventsRetainMs?: number;
  /** The event outbox's bound on disk: past it the oldest events are dropped (and counted); env CAIRN_EVENTS_MAX_BYTES, default 256 MiB. */
  eventsMaxBytes?: number;
  /** Longest wait between delivery attempts to a failing target; env CAIRN_EVENTS_RETRY_MAX_MS, default 60 s. */
  eventsRetryMaxMs?: number;
  /** Quiet time after which the node gives back the memory its bursts left (at-rest.ts); env
   *  CAIRN_REST_AFTER_MS, default 10 s; 0 keeps it. */
  restAfterMs?: number;
}

/** The buffer memory of a node unless told otherwise. */
export const DEFAULT_BUFFER_MEMORY_MIB = 48;

/** `opts` with every unset tunable taken from the environment (once, at start). */
export function withEnvironment(opts: NodeOptions, env: NodeJS.ProcessEnv = process.env): NodeOptions {
  const ms = (name: string) => {
    const n = Number(env[name]);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  };
  return {
    ...opts,
    failureTimeoutMs: opts.failureTimeoutMs ?? ms('CAIRN_FAILURE_TIMEOUT_MS'),
    heartbeatMs: opts.heartbeatMs ?? ms('CAIRN_HEARTBEAT_MS'),
    repairIntervalMs: opts.repairIntervalMs ?? ms('CAIRN_REPAIR_INTERVAL_MS'),
    repairFullIntervalMs: opts.repairFullIntervalMs ?? ms('CAIRN_REPAIR_FULL_INTERVAL_MS'),
    scrubIntervalMs: opts.scrubIntervalMs ?? ms('CAIRN_SCRUB_INTERVAL_MS'),
    scrubBytesPerSec: opts.scrubBytesPerSec ?? ms('CAIRN_SCRUB_BYTES_PER_SEC'),
    uploadExpiryMs: opts.uploadExpiryMs ?? ms('CAIRN_UPLOAD_EXPIRY_MS'),
    lifecycleIntervalMs: opts.lifecycleIntervalMs ?? ms('CAIRN_LIFECYCLE_INTERVAL_MS'),
    lifecycleDayMs: opts.lifecycleDayMs ?? ms('CAIRN_LIFECYCLE_DAY_MS'),
    diskReserveBytes: opts.diskReserveBytes ?? ms('CAIRN_DISK_RESERVE_BYTES'),
    eventsRetainMs: opts.eventsRetainMs ?? ms('CAIRN_EVENTS_RETAIN_MS'),
    eventsMaxBytes: opts.eventsMaxBytes ?? ms('CAIRN_EVENTS_MAX_BYTES'),
    eventsRetryMaxMs: opts.eventsRetryMaxMs ?? ms('CAIRN_EVENTS_RETRY_MAX_MS'),
    restAfterMs: opts.restAfterMs ?? (env.CAIRN_REST_AFTER_MS?.trim() === '0' ? 0 : ms('CAIRN_REST_AFTER_MS')),
    bufferMemoryBytes: opts.bufferMemoryBytes ?? bufferMemoryMiB(env.CAIRN_BUFFER_MEMORY) * 1024 * 1024,
    directIo: opts.directIo ?? (env.CAIRN_DIRECT_IO === undefined || env.CAIRN_DIRECT_IO === '' ? undefined : !/^(0|false|off|no)$/i.test(env.CAIRN_DIRECT_IO)),
    admission: definedOnly({
      maxConnections: ms('CAIRN_MAX_CONNECTIONS'),
      maxRequests: ms('CAIRN_MAX_REQUESTS'),
      maxMemoryWaiters: ms('CAIRN_MAX_MEMORY_WAITERS'),
      maxMemoryWaitMs: ms('CAIRN_MAX_MEMORY_WAIT_MS'),
      ...definedOnly(opts.admission ?? {}),
    }),
    timeouts: definedOnly({
      idleMs: ms('CAIRN_IDLE_TIMEOUT_MS'),
      headersMs: ms('CAIRN_HEADERS_TIMEOUT_MS'),
      requestMs: ms('CAIRN_REQUEST_TIMEOUT_MS'),
      ...definedOnly(opts.timeouts ?? {}),
    }),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** CAIRN_BUFFER_MEMORY in MiB (default 48); anything but a positive number is an error, not a silent default. */
export function bufferMemoryMiB(v: string | undefined): number {
  if (v === undefined || v === '') return DEFAULT_BUFFER_MEMORY_MIB;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`CAIRN_BUFFER_MEMORY must be a positive number of MiB, got ${v}`);
  return n;
}
