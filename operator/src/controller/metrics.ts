// The operator's Prometheus metrics (controller-runtime's names under the cairn_operator_ prefix).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReconcileOutcome } from './queue.ts';

export interface OperatorMetrics {
  registry: Registry;
  observe(controller: string, outcome: ReconcileOutcome, seconds: number): void;
  trackDepth(controller: string, depth: () => number): void;
  /** One request to the Kubernetes API (client-go's rest_client_requests_total; code 0 = no answer). */
  kubeRequest(method: string, resource: string, code: number): void;
  /** Whether this replica leads (controller-runtime's leader_election_master_status). */
  trackLeader(lease: string, leading: () => boolean): void;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cairn_operator_' });
  const total = new Counter({
    name: 'cairn_operator_reconcile_total',
    help: 'Reconciles by controller and result (success, requeue, error, terminal).',
    labelNames: ['controller', 'result'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'cairn_operator_reconcile_errors_total',
    help: 'Reconciles that failed.',
    labelNames: ['controller'],
    registers: [registry],
  });
  const time = new Histogram({
    name: 'cairn_operator_reconcile_time_seconds',
    help: 'Time per reconcile.',
    labelNames: ['controller'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const depths = new Map<string, () => number>();
  new Gauge({
    name: 'cairn_operator_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    labelNames: ['controller'],
    registers: [registry],
    collect() {
      for (const [c, d] of depths) this.set({ controller: c }, d());
    },
  });
  const requests = new Counter({
    name: 'cairn_operator_rest_client_requests_total',
    help: 'Requests to the Kubernetes API by method, resource and status code (0: no answer).',
    labelNames: ['method', 'resource', 'code'],
    registers: [registry],
  });
  const leases = new Map<string, () => boolean>();
  new Gauge({
    name: 'cairn_operator_leader_election_master_status',
    help: '1 while this replica holds the leader election Lease.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      for (const [name, leading] of leases) this.set({ name }, leading() ? 1 : 0);
    },
  });
  return {
    registry,
    kubeRequest(method, resource, code) {
      requests.inc({ method, resource, code: String(code) });
    },
    trackLeader(lease, leading) {
      leases.set(lease, leading);
    },
    observe(controller, outcome, seconds) {
      total.inc({ controller, result: outcome });
      if (outcome === 'error' || outcome === 'terminal') errors.inc({ controller });
      time.observe({ controller }, seconds);
    },
    trackDepth(controller, depth) {
      depths.set(controller, depth);
    },
  };
}
