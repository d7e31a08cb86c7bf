// One OpenTelemetry span per reconcile (`reconcile`, attributes: controller, namespace, name,
// result), so a slow or failing reconcile shows up next to the node spans it caused.
//
// The span helpers come from the node runtime's observability library rather than a copy here:
// the operator and the node runtime ship as one image and one `cairn` command, the operator already
// uses the runtime's logger and admin client, and tracing.ts is a stateless library over
// @opentelemetry/api (no node-runtime state). Sharing it means one reading of the OTEL_* settings,
// one "no SDK unless OTEL_EXPORTER_OTLP_ENDPOINT is set" rule, and identical span conventions.
import { withSpan } from '../../../node-runtime/src/observability/tracing.ts';
import { TerminalError, type ReconcileOutcome, type ReconcileResult } from './queue.ts';

export const RECONCILE_SPAN = 'reconcile';

/** Pure: the outcome the work queue will record for a reconcile that returned `result` or threw `error`. */
export function reconcileOutcome(result: ReconcileResult | void, error?: unknown): ReconcileOutcome {
  if (error !== undefined) return error instanceof TerminalError ? 'terminal' : 'error';
  return result?.requeueAfterMs !== undefined ? 'requeue' : 'success';
}

/** Wrap a reconciler so every call of it is one `reconcile` span. Keys are `namespace/name`. */
export function tracedReconcile(
  controller: string,
  reconcile: (key: string) => Promise<ReconcileResult | void>,
): (key: string) => Promise<ReconcileResult | void> {
  return (key) => {
    const slash = key.indexOf('/');
    const attrs = {
      'cairn.controller': controller,
      'cairn.key': key,
      'k8s.namespace.name': key.slice(0, Math.max(0, slash)),
      'cairn.name': key.slice(slash + 1),
    };
    return withSpan(RECONCILE_SPAN, attrs, async (span) => {
      try {
        const result = await reconcile(key);
        span.setAttribute('cairn.result', reconcileOutcome(result));
        return result;
      } catch (e) {
        span.setAttribute('cairn.result', reconcileOutcome(undefined, e ?? new Error('undefined thrown')));
        throw e;
      }
    });
  };
}
