// How every controller of the local control plane runs: keys in the operator's work queue
// (operator/src/controller/queue.ts: coalescing, one reconcile per key at a time, per-key backoff,
// requeue-after), worked by a few workers once the controller's caches hold their first lists, and
// a periodic enqueue of every object as the safety net for missed events (controller-runtime's
// contract, as the operator follows it).
import { WorkQueue, type ReconcileResult } from '../../../operator/src/controller/queue.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

// kube-controller-manager's default --concurrent-*-syncs.
const WORKERS = 5;

/** A work queue for one controller. Conflicts (409 on a stale cache) are routine here, so the first
 *  retry comes after 200 ms rather than the operator's 800 ms; failures are logged at debug. */
export function workQueue(name: string): WorkQueue {
  const log = logger('controller', { controller: name });
  return new WorkQueue({
    backoff: { baseMs: 200 },
    onDone: (key, outcome, _s, err) => {
      if (err) log.debug({ key, outcome, err: String((err as Error)?.message ?? err) }, 'reconcile failed; retrying');
    },
  });
}

/**
 * Start: wait for the caches' first lists (a plan from a half-filled cache would see objects as
 * missing), then run the workers, enqueue every object, and again every `resyncMs`. Stop: no new
 * keys, and wait for the reconciles under way.
 */
export function controllerLoop(o: { caches: { waitSynced(): Promise<void> }[]; queues: [WorkQueue, Reconcile][]; enqueueAll?: () => void; resyncMs?: number }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  return {
    async start(): Promise<void> {
      await Promise.all(o.caches.map((c) => c.waitSynced()));
      running = Promise.all(o.queues.map(([queue, reconcile]) => queue.run(WORKERS, reconcile)));
      if (!o.enqueueAll) return;
      o.enqueueAll();
      if (o.resyncMs) {
        timer = setInterval(o.enqueueAll, o.resyncMs);
        timer.unref();
      }
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      for (const [queue] of o.queues) queue.stop();
      await running;
    },
  };
}
