// The `cairn` command. `cairn server` runs one root and/or node process from flags or env (what a
// container runs); the admin commands (status, drain, bucket, keys) talk to a running cluster.
// Every server flag also reads env CAIRN_<FLAG_IN_UPPER_SNAKE>, e.g. --chunk-size ← CAIRN_CHUNK_SIZE.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { NodeOptions } from '../node/config.ts';
import { registerAdminCommands } from './admin-commands.ts';
import { registerWatchCommand } from './watch.ts';
import { registerRebalanceCommands } from './rebalance.ts';
import { ADMIN_URL_ENV, SECRET_ENV } from './connect.ts';
import type { Role } from '../cluster/types.ts';
import { parseZones, zoneForOrdinal } from '../cluster/zones.ts';
import { logger, setLogLevel } from '../util/log.ts';

const log = logger('cli');

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

export function parseRoles(v: string): Role[] {
  const roles = [
    ...new Set(
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (roles.length === 0 || roles.some((r) => r !== 'root' && r !== 'node')) throw new InvalidArgumentError('role must be root, node or root,node');
  return roles as Role[];
}

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('weight must be a positive number');
  return n;
}

function urls(v: string): string[] {
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const u of list) {
    try {
      new URL(u);
    } catch {
      throw new InvalidArgumentError(`not a URL: ${u}`);
    }
  }
  return list;
}

function zoneList(v: string): string[] {
  try {
    return parseZones(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

const opt = (flags: string, description: string, env: string) => new Option(flags, description).env(env);

export function serverCommand(): Command {
  return new Command('server')
    .description('run one Cairn root and/or node process')
    .addOption(
      opt('--role <roles>', 'root, node or root,node', 'CAIRN_ROLE')
        .argParser(parseRoles)
        .default(['root', 'node'] as Role[], 'root,node'),
    )
    .addOption(opt('--name <name>', 'member name (default: the node id)', 'CAIRN_NAME'))
    .addOption(opt('--data <dir>', 'data directory (chunks, metadata, identity)', 'CAIRN_DATA').makeOptionMandatory())
    .addOption(opt('--api <host:port>', 'file API (S3) listen address', 'CAIRN_API').default('0.0.0.0:9000'))
    .addOption(opt('--cluster <host:port>', 'cluster port listen address (RPC, admin, metrics, health)', 'CAIRN_CLUSTER').default('0.0.0.0:9100'))
    .addOption(opt('--console <host:port>', 'web console listen address (default: the --api host, port 9001); off = no console', 'CAIRN_CONSOLE'))
    .addOption(
      opt('--console-oidc-issuer <url>', 'OpenID Connect issuer for console sign-in (people map to users by verified e-mail)', 'CAIRN_CONSOLE_OIDC_ISSUER'),
    )
    .addOption(opt('--console-oidc-client-id <id>', "the console's client id at that issuer", 'CAIRN_CONSOLE_OIDC_CLIENT_ID'))
    .addOption(
      opt('--console-oidc-client-secret <secret>', "the console's client secret (none: a public client, PKCE only)", 'CAIRN_CONSOLE_OIDC_CLIENT_SECRET'),
    )
    .addOption(
      opt('--console-oidc-redirect <url>', 'the callback URL registered at the issuer (default: http://<Host>/oidc/callback)', 'CAIRN_CONSOLE_OIDC_REDIRECT'),
    )
    .addOption(opt('--advertise <host>', 'address other members and clients use (default: the --api host)', 'CAIRN_ADVERTISE'))
    .addOption(opt('--roots <urls>', 'cluster-port URLs of the roots to join, comma separated', 'CAIRN_ROOTS').argParser(urls))
    .addOption(opt('--zone <zone>', 'failure domain of this member', 'CAIRN_ZONE'))
    .addOption(
      opt('--zones <list>', 'zones of a StatefulSet, comma separated: without --zone, member <name>-<i> runs in zone i mod n', 'CAIRN_ZONES').argParser(
        zoneList,
      ),
    )
    .addOption(
      opt(
        '--zone-file <path>',
        "a file holding this member's zone (kept by the operator: the zone of the Kubernetes node); waited for at start",
        'CAIRN_ZONE_FILE',
      ),
    )
    .addOption(
      opt(
        '--volume-size-file <path>',
        "a file holding the data volume's size in bytes (kept by the operator: the PVC's capacity); capacity is the smaller of it and the file system's",
        'CAIRN_VOLUME_SIZE_FILE',
      ),
    )
    .addOption(opt('--weight <w>', 'capacity weight for placement', 'CAIRN_WEIGHT').argParser(positive))
    .addOption(opt('--secret <secret>', 'cluster secret for internal RPC and admin', SECRET_ENV))
    .addOption(opt('--access-key <id>', 'root S3 access key id (generated and kept in --data when absent)', 'CAIRN_ACCESS_KEY'))
    .addOption(opt('--secret-key <secret>', 'root S3 secret key', 'CAIRN_SECRET_KEY'))
    .addOption(opt('--keys-file <file>', "users' key pairs: JSON [{user, accessKeyId, secretAccessKey, displayName?, email?}]", 'CAIRN_KEYS_FILE'))
    .addOption(
      opt(
        '--master-key <key>',
        '32-byte cluster master key, hex or base64: seals secret keys and SSE-S3 data keys (default: derived from --secret, else made once and kept in --data); back it up',
        'CAIRN_MASTER_KEY',
      ),
    )
    .addOption(opt('--replicas <n>', 'default replication factor R for new buckets', 'CAIRN_REPLICAS').argParser(int('replicas', 1, 16)))
    .addOption(opt('--chunk-size <bytes>', 'chunk size in bytes', 'CAIRN_CHUNK_SIZE').argParser(int('chunk-size', 4096, 64 * 1024 * 1024)))
    .addOption(opt('--region <region>', 'S3 region name', 'CAIRN_REGION'))
    .addOption(
      opt('--failure-timeout-ms <ms>', 'heartbeat silence before a member is down (cluster setting, recorded by a root)', 'CAIRN_FAILURE_TIMEOUT_MS').argParser(
        int('failure-timeout-ms', 100, 86_400_000),
      ),
    )
    .addOption(
      opt(
        '--gc-grace-ms <ms>',
        'age before an unreferenced chunk is collected; must exceed the longest upload (cluster setting)',
        'CAIRN_GC_GRACE_MS',
      ).argParser(int('gc-grace-ms', 0, 30 * 86_400_000)),
    )
    .addOption(
      opt('--repair-bandwidth <bytes/s>', 'per-node repair copy rate, 0 = unlimited (cluster setting)', 'CAIRN_REPAIR_BANDWIDTH').argParser(
        int('repair-bandwidth', 0, Number.MAX_SAFE_INTEGER),
      ),
    )
    .addOption(
      opt('--repair-concurrency <n>', 'chunk copies in flight per node (cluster setting)', 'CAIRN_REPAIR_CONCURRENCY').argParser(
        int('repair-concurrency', 1, 256),
      ),
    )
    .addOption(
      opt(
        '--disk-reserve <bytes>',
        'free space on the data disk below which no new chunks are stored here (default 1 % of the disk, 256 MiB to 8 GiB)',
        'CAIRN_DISK_RESERVE_BYTES',
      ).argParser(int('disk-reserve', 0, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      opt(
        '--buffer-memory <MiB>',
        'memory for chunk buffers: 3/4 for uploads and repair copies, 1/4 for read-ahead (default 48)',
        'CAIRN_BUFFER_MEMORY',
      ).argParser(int('buffer-memory', 4, 65_536)),
    )
    .addOption(
      opt(
        '--notification-targets <file>',
        "the cluster's notification targets (JSON or YAML: redis and webhook targets; the same file on every member)",
        'CAIRN_NOTIFICATION_TARGETS',
      ),
    )
    .addOption(
      opt('--events-retain-ms <ms>', 'how long delivered events stay in the outbox for the change feed (default 24 h)', 'CAIRN_EVENTS_RETAIN_MS').argParser(
        int('events-retain-ms', 1000, 365 * 86_400_000),
      ),
    )
    .addOption(
      opt(
        '--events-max-bytes <bytes>',
        'bound of the event outbox on disk; past it the oldest events are dropped and counted (default 256 MiB)',
        'CAIRN_EVENTS_MAX_BYTES',
      ).argParser(int('events-max-bytes', 8 << 20, Number.MAX_SAFE_INTEGER)),
    )
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      let zone = o.zone as string | undefined;
      const zones = o.zones as string[] | undefined;
      if (zone === undefined && zones?.length) {
        // One pod template for every pod of a StatefulSet: each derives its zone from its ordinal.
        try {
          zone = zoneForOrdinal(String(o.name ?? ''), zones);
        } catch (e) {
          cmd.error(`error: ${(e as Error).message}`);
        }
      }
      const opts: NodeOptions = {
        dataDir: o.data as string,
        roles: o.role as Role[],
        name: o.name as string | undefined,
        api: o.api as string,
        cluster: o.cluster as string,
        advertise: o.advertise as string | undefined,
        console: o.console as string | undefined,
        ...(o.consoleOidcIssuer
          ? {
              consoleOidc: {
                issuer: o.consoleOidcIssuer as string,
                clientId: (o.consoleOidcClientId as string | undefined) ?? cmd.error('error: --console-oidc-issuer needs --console-oidc-client-id'),
                clientSecret: o.consoleOidcClientSecret as string | undefined,
                redirectUri: o.consoleOidcRedirect as string | undefined,
              },
            }
          : {}),
        roots: o.roots as string[] | undefined,
        zone,
        zoneFile: o.zoneFile as string | undefined,
        volumeSizeFile: o.volumeSizeFile as string | undefined,
        weight: o.weight as number | undefined,
        secret: o.secret as string | undefined,
        accessKey: o.accessKey as string | undefined,
        secretKey: o.secretKey as string | undefined,
        masterKey: o.masterKey as string | undefined,
        keysFile: o.keysFile as string | undefined,
        replicas: o.replicas as number | undefined,
        chunkSize: o.chunkSize as number | undefined,
        region: o.region as string | undefined,
        failureTimeoutMs: o.failureTimeoutMs as number | undefined,
        gcGraceMs: o.gcGraceMs as number | undefined,
        repairBandwidthBytes: o.repairBandwidth as number | undefined,
        repairConcurrency: o.repairConcurrency as number | undefined,
        bufferMemoryBytes: o.bufferMemory !== undefined ? (o.bufferMemory as number) * 1024 * 1024 : undefined,
        diskReserveBytes: o.diskReserve as number | undefined,
        notificationTargets: o.notificationTargets as string | undefined,
        eventsRetainMs: o.eventsRetainMs as number | undefined,
        eventsMaxBytes: o.eventsMaxBytes as number | undefined,
      };
      await runServer(opts);
    });
}

async function runServer(opts: NodeOptions): Promise<void> {
  // Imported lazily: admin commands (status, drain) should not pay for loading the whole server.
  const { startNode } = await import('../node/start.ts');
  let node: Awaited<ReturnType<typeof startNode>>;
  try {
    node = await startNode(opts);
  } catch (e) {
    log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'could not start');
    process.exit(1);
  }
  // OTLP trace export only when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise the SDK is never loaded.
  const { startTracing, stopTracing } = await import('../observability/tracing.ts');
  await startTracing({ serviceName: 'cairn-node', attributes: { 'service.instance.id': node.id, 'cairn.node': node.name } }).catch((e) =>
    log.error({ err: e instanceof Error ? e.message : String(e) }, 'tracing not started; serving without it'),
  );
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'stopping');
    // Spans of the last requests are flushed after the servers closed.
    node
      .stop()
      .then(() => stopTracing())
      .then(
        () => process.exit(0),
        (e) => {
          log.error({ err: String(e) }, 'unclean stop');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // Supervisors that cannot always signal us (a test harness killed with SIGKILL) hold our stdin
  // open instead: when it closes, the parent is gone and so should we be.
  // Our stdout then usually went with the parent: logging to a dead pipe would block, so go quiet.
  if (process.env.CAIRN_EXIT_ON_STDIN_CLOSE === '1') {
    const orphaned = () => {
      setLogLevel('silent');
      shutdown('SIGTERM');
    };
    process.stdin.once('end', orphaned);
    process.stdin.once('close', () => {
      if (signals === 0) orphaned();
    });
    process.stdin.resume();
  }
  log.info(
    {
      id: node.id,
      name: node.name,
      roles: node.roles,
      endpoint: node.endpoint,
      cluster: node.clusterUrl,
      region: node.region,
      accessKey: node.accessKey,
      dataDir: node.dataDir,
      // How this process's sources loaded (node-runtime/bin/stripped-sources.js): stripped at the
      // image build, or by Node as they loaded (which keeps its TypeScript compiler in memory).
      sources: (globalThis as Record<symbol, unknown>)[Symbol.for('cairn.strippedSources')],
    },
    'serving',
  );
}

export function buildProgram(): Command {
  const program = new Command('cairn').description('Cairn: self-healing, S3-compatible distributed file store').showHelpAfterError();
  program.addCommand(serverCommand());
  registerAdminCommands(program);
  registerWatchCommand(program);
  registerRebalanceCommands(program);
  program.addHelpText(
    'after',
    `
Environment:
  CAIRN_HOME            where \`npm start\` keeps its cluster (default ./.cairn); admin commands talk to
                        the cluster in $CAIRN_HOME/local/cluster.json unless --admin is given
  ${ADMIN_URL_ENV}       cluster port URL for admin commands (like --admin)
  ${SECRET_ENV}  the cluster secret (like --secret, for admin commands and \`cairn server\`)
  CAIRN_<FLAG>          every \`cairn server\` flag, e.g. CAIRN_DATA, CAIRN_ROOTS (see cairn server --help)`,
  );
  return program;
}

await buildProgram().parseAsync(process.argv);
