// How soon a healthy reconcile comes back on its own: the safety net for missed watch events, and
// the only thing that refreshes the figures nothing watches (usage, objects, members' heartbeats).
// So even a Ready cluster or Bucket is looked at every STATUS_FRESHNESS_MS: what `kubectl get`
// shows is at most that old (docs/design.md, Status). Often while converging or draining.
export interface CadenceInput {
  ready: boolean; // Ready=True and nothing pending
  draining: boolean; // a scale-down waits on drained members
  rebalancing: boolean; // repair/rebalance in progress
  adminReachable: boolean; // the roots' admin API answered
  autoscaling?: boolean; // spec.autoscaling: used capacity changes without any watch event
}

export const CADENCE = {
  drainingMs: 3_000,
  convergingMs: 5_000,
  unreachableMs: 10_000,
  rebalancingMs: 15_000,
  autoscalingMs: 15_000,
  readyMs: 15_000,
} as const;

/** How old a figure in a StorageCluster's or Bucket's status may be (plus one reconcile). */
export const STATUS_FRESHNESS_MS = CADENCE.readyMs;

export function requeueAfter(s: CadenceInput): number {
  if (s.draining) return CADENCE.drainingMs;
  if (!s.adminReachable) return CADENCE.unreachableMs;
  if (!s.ready) return CADENCE.convergingMs;
  if (s.rebalancing) return CADENCE.rebalancingMs;
  if (s.autoscaling) return CADENCE.autoscalingMs;
  return CADENCE.readyMs;
}
