// Notification targets: where events go (a Redis list or stream, a webhook), behind the one interface a delivery worker drives.
//
// The specs are what StorageCluster spec.notifications.targets declares, with secrets already
// resolved by the caller: nothing here reads the environment or a Secret.
import type { TargetKind } from './arn.ts';
import type { EventMessage } from './record.ts';
import { checkRedisTarget, RedisTarget, type RedisTargetSpec } from './redis-target.ts';
import { checkWebhookTarget, WebhookTarget, type WebhookTargetSpec } from './webhook-target.ts';

export interface Target {
  readonly name: string;
  readonly kind: TargetKind;
  /** The most messages one send() carries. */
  readonly maxBatch: number;
  /**
   * Resolves once the target acknowledged every message. A rejection means "not known to be
   * delivered": the worker sends the same messages again (at least once).
   */
  send(messages: EventMessage[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export type TargetSpec = RedisTargetSpec | WebhookTargetSpec;
export type { RedisTargetSpec, WebhookTargetSpec };

/** A target for a declared spec; throws a RangeError naming the field for a spec it cannot use. */
export function createTarget(spec: TargetSpec): Target {
  return spec.kind === 'redis' ? new RedisTarget(spec) : new WebhookTarget(spec);
}

/** Throws a RangeError naming the field of a spec no target can be made of (nothing is connected). */
export function checkTargetSpec(spec: TargetSpec): void {
  if (spec.kind === 'redis') checkRedisTarget(spec);
  else if (spec.kind === 'webhook') checkWebhookTarget(spec);
  else throw new RangeError(`target ${JSON.stringify((spec as { name?: string }).name)}: kind must be redis or webhook`);
}

/** The names and kinds of declared targets, as notification configurations are checked against them. */
export function declaredTargets(specs: readonly TargetSpec[]): Map<string, TargetKind> {
  return new Map(specs.map((s) => [s.name, s.kind]));
}
