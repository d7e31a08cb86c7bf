// The operator's Prometheus metrics (controller-runtime's names under the cairn_operator_ prefix).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReconcileOutcome } from './queue.ts';

export interface OperatorMetrics {
  registry: Registry;
  observe(controller: string, outcome: ReconcileOutcome, seconds: number): void;
  trackDepth(controller: string, depth: () => number): void;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cairn_operator_' });
  const total = new Counter({ name: 'cairn_operator_reconcile_total', help: 'Reconciles by controller and result (success, requeue, error, terminal).', labelNames: ['controller', 'result'], registers: [registry] });
  const errors = new Counter({ name: 'cairn_operator_reconcile_errors_total', help: 'Reconciles that failed.', labelNames: ['controller'], registers: [registry] });
  const time = new Histogram({ name: 'cairn_operator_reconcile_time_seconds', help: 'Time per reconcile.', labelNames: ['controller'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  const depths = new Map<string, () => number>();
  new Gauge({
    name: 'cairn_operator_workqueue_depth', help: 'Keys waiting in the work queue.', labelNames: ['controller'], registers: [registry],
    collect() { for (const [c, d] of depths) this.set({ controller: c }, d()); },
  });
  return {
    registry,
    observe(controller, outcome, seconds) {
      total.inc({ controller, result: outcome });
      if (outcome === 'error' || outcome === 'terminal') errors.inc({ controller });
      time.observe({ controller }, seconds);
    },
    trackDepth(controller, depth) { depths.set(controller, depth); },
  };
}
