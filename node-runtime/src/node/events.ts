// This member's events (docs/events.md): its durable outbox under the data dir, the recorder the
// ObjectService calls for every acknowledged mutation, and a delivery worker per declared target,
// started with the node and stopped before the outbox closes. The targets come from the file given
// at start; a target no longer declared lets its backlog go (its outbox cursor is dropped).
import type { MutationListener } from '../data/mutations.ts';
import type { TargetKind } from '../events/arn.ts';
import { Deliveries, targetConsumer } from '../events/deliveries.ts';
import { Outbox } from '../events/outbox.ts';
import type { OutboxEvent } from '../events/record.ts';
import { eventRecorder } from '../events/recorder.ts';
import { createTarget, declaredTargets } from '../events/targets.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import { logger } from '../util/log.ts';
import { loadTargets } from './targets-file.ts';

const log = logger('events');

export interface NodeEventsOptions {
  dir: string;
  node: string;
  metrics: NodeMetrics;
  targetsFile?: string;
  retainMs?: number;
  maxBytes?: number;
  retryMaxMs?: number;
}

export interface NodeEvents {
  outbox: Outbox<OutboxEvent>;
  /** The targets declared on the cluster, by name. */
  declared: ReadonlyMap<string, TargetKind>;
  deliveries?: Deliveries;
  /** The ObjectService's mutation listener. */
  recorder(region: () => string): MutationListener;
  stop(): Promise<void>;
}

export async function startEvents(o: NodeEventsOptions): Promise<NodeEvents> {
  // Read before anything is opened: a bad targets file stops the start with its reason.
  const specs = o.targetsFile ? await loadTargets(o.targetsFile) : [];
  const outbox = await Outbox.open<OutboxEvent>({
    dir: o.dir,
    metrics: o.metrics,
    ...(o.retainMs !== undefined ? { retainMs: o.retainMs } : {}),
    ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
  });
  const declared = declaredTargets(specs);
  for (const c of outbox.consumers()) {
    const target = c.startsWith('target:') ? c.slice('target:'.length) : undefined;
    if (target !== undefined && !declared.has(target)) {
      outbox.removeConsumer(targetConsumer(target));
      log.warn({ target }, 'target no longer declared: its undelivered events are let go');
    }
  }
  let deliveries: Deliveries | undefined;
  try {
    deliveries = specs.length
      ? new Deliveries({ outbox, targets: specs.map(createTarget), metrics: o.metrics, retry: o.retryMaxMs ? { maxMs: o.retryMaxMs } : {} }).start()
      : undefined;
  } catch (e) {
    await outbox.close();
    throw e;
  }
  if (specs.length) log.info({ targets: specs.map((s) => `${s.name} (${s.kind})`) }, 'delivering events');
  return {
    outbox,
    declared,
    deliveries,
    recorder: (region) => eventRecorder({ outbox, region, node: o.node }),
    async stop() {
      await deliveries?.stop();
      await outbox.close();
    },
  };
}
