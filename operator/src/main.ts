// The operator process (`cairn operator ...`): leader election on a Lease, the StorageCluster and
// Bucket controllers while leading, and an HTTP server with /metrics, /healthz and /readyz.
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createAdminClient } from '../../node-runtime/src/admin/client.ts';
import { startTracing, stopTracing } from '../../node-runtime/src/observability/tracing.ts';
import { logger } from '../../node-runtime/src/util/log.ts';
import type { AdminClientFactory } from './controller/admin.ts';
import { createControllers, type Controllers } from './controller/manager.ts';
import { createOperatorMetrics } from './controller/metrics.ts';
import { loadKubeConfig } from './kube/config.ts';
import { LeaderElector } from './kube/lease.ts';
import { KubeRest } from './kube/rest.ts';

export interface OperatorOptions {
  kubeconfig?: string; // default: KUBECONFIG, ~/.kube/config, or in-cluster
  namespace?: string; // watch one namespace; default all
  metricsHost?: string; // default 0.0.0.0
  metricsPort?: number; // default 8080; 0 = any free port
  leaderElect?: boolean; // default true
  leaseNamespace?: string; // default POD_NAMESPACE or "default"
  leaseName?: string; // default cairn-operator
  identity?: string; // default <POD_NAME or hostname>_<random>
  workers?: number; // concurrent reconciles per controller, default 2
  adminFactory?: AdminClientFactory;
  /** Leader election timings; tests only (the chart and `cairn operator` use the defaults of kube/lease.ts). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryMs?: number;
}

export interface Operator {
  /** Where /metrics, /healthz and /readyz are served. */
  url: string;
  isLeader(): boolean;
  controllers(): Controllers | undefined;
  /** Stop controllers, release the lease, close the server. */
  stop(): Promise<void>;
}

export async function startOperator(opts: OperatorOptions = {}): Promise<Operator> {
  // Unique per process (as client-go's hostname_uuid): a restarted pod must not think it still holds the lease.
  const identity = opts.identity ?? `${process.env.POD_NAME ?? hostname()}_${randomUUID().slice(0, 8)}`;
  const log = logger('operator', { identity });
  const kc = loadKubeConfig(opts.kubeconfig);
  const metrics = createOperatorMetrics();
  const rest = new KubeRest(kc, metrics.kubeRequest);
  const adminFactory = opts.adminFactory ?? createAdminClient;

  let controllers: Controllers | undefined;
  let stopping: Promise<void> | undefined;
  let controllersStopped: Promise<void> = Promise.resolve();
  const startControllers = () => {
    controllers = createControllers({ kc, rest, adminFactory, log, metrics, namespace: opts.namespace, workers: opts.workers });
    controllers.start();
  };
  // Every stop waits for the same in-flight shutdown, so no reconcile outlives stop().
  const stopControllers = () => {
    const c = controllers;
    controllers = undefined;
    if (c) controllersStopped = controllersStopped.then(() => c.stop());
    return controllersStopped;
  };

  const elector =
    opts.leaderElect === false
      ? undefined
      : new LeaderElector({
          rest,
          log,
          identity,
          namespace: opts.leaseNamespace ?? process.env.POD_NAMESPACE ?? 'default',
          name: opts.leaseName ?? 'cairn-operator',
          leaseDurationMs: opts.leaseDurationMs,
          renewDeadlineMs: opts.renewDeadlineMs,
          retryMs: opts.retryMs,
          onStartedLeading: startControllers,
          // Losing the lease stops reconciling at once; campaigning goes on (level-triggered, no state to lose).
          onStoppedLeading: () => {
            void stopControllers();
          },
        });
  if (elector) metrics.trackLeader(elector.name, () => elector.leading);

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.setHeader('content-type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    } else if (path === '/healthz') {
      res.end('ok');
    } else if (path === '/readyz') {
      // A standby replica is ready (it is healthy and waiting for the lease); a leader is ready
      // when its informers have synced and heard from the API server recently.
      const leading = elector ? elector.leading : true;
      const h = controllers?.healthy() ?? { ok: !leading, detail: { controllers: 'not started' } };
      res.statusCode = h.ok ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ready: h.ok, leader: leading, informers: h.detail }));
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await listen(server, opts.metricsHost ?? '0.0.0.0', opts.metricsPort ?? 8080);
  const addr = server.address() as { address: string; port: number };
  const url = `http://${addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address}:${addr.port}`;
  log.info({ url, leaderElection: elector ? { lease: `${elector.namespace}/${elector.name}`, ...elector.timings } : false }, 'operator started');

  if (elector) elector.start();
  else startControllers();

  return {
    url,
    isLeader: () => (elector ? elector.leading : true),
    controllers: () => controllers,
    stop() {
      stopping ??= (async () => {
        await elector?.stop(); // releases the lease: the standby takes over at once
        await stopControllers();
        await new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections();
        await rest.close();
        log.info('operator stopped');
      })();
      return stopping;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};

/** `cairn operator [flags]`: runs until SIGTERM/SIGINT, then releases the lease and exits. */
export async function runOperator(argv: string[]): Promise<void> {
  const cmd = new Command('cairn operator')
    .description('Run the Cairn Kubernetes operator (StorageCluster and Bucket controllers).')
    .option('--kubeconfig <path>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--namespace <ns>', 'watch only this namespace (default: all)')
    .option('--metrics-bind-address <host:port>', 'address of /metrics, /healthz, /readyz', '0.0.0.0:8080')
    .option('--no-leader-elect', 'run without leader election (single replica)')
    .option('--lease-namespace <ns>', 'namespace of the leader election Lease (default: POD_NAMESPACE or default)')
    .option('--lease-name <name>', 'name of the leader election Lease', 'cairn-operator')
    .option('--workers <n>', 'concurrent reconciles per controller', positiveInt, 2)
    .exitOverride();
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return; // --help: printed, nothing to run
    throw e;
  }
  const o = cmd.opts<{
    kubeconfig?: string;
    namespace?: string;
    metricsBindAddress: string;
    leaderElect: boolean;
    leaseNamespace?: string;
    leaseName: string;
    workers: number;
  }>();
  const m = /^(.*):(\d+)$/.exec(o.metricsBindAddress);
  if (!m) throw new Error(`--metrics-bind-address must be host:port, got ${o.metricsBindAddress}`);
  // OTLP trace export (a span per reconcile) only when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise
  // the SDK is never loaded. Process-wide, so here and not in startOperator (tests run several),
  // and before it, so the first reconciles are traced too.
  await startTracing({ serviceName: 'cairn-operator', attributes: process.env.POD_NAME ? { 'k8s.pod.name': process.env.POD_NAME } : {} }).catch((e) =>
    logger('operator').error({ err: e instanceof Error ? e.message : String(e) }, 'tracing not started; running without it'),
  );
  const op = await startOperator({
    kubeconfig: o.kubeconfig,
    namespace: o.namespace,
    metricsHost: m[1] || '0.0.0.0',
    metricsPort: Number(m[2]),
    leaderElect: o.leaderElect,
    leaseNamespace: o.leaseNamespace,
    leaseName: o.leaseName,
    workers: o.workers,
  }).catch(async (e) => {
    await stopTracing();
    throw e;
  });
  await new Promise<void>((resolve) => {
    const shutdown = () => {
      process.off('SIGTERM', shutdown);
      process.off('SIGINT', shutdown);
      resolve();
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });
  await op.stop();
  await stopTracing(); // flushes the spans of the last reconciles
}
