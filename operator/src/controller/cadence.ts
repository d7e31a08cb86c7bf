// How soon a healthy reconcile comes back on its own (the safety net for missed watch events):
// often while the cluster converges or drains, rarely when everything is Ready.
export interface CadenceInput {
  ready: boolean;          // Ready=True and nothing pending
  draining: boolean;       // a scale-down waits on drained members
  rebalancing: boolean;    // repair/rebalance in progress
  adminReachable: boolean; // the roots' admin API answered
  autoscaling?: boolean;   // spec.autoscaling: used capacity changes without any watch event
}

export const CADENCE = { drainingMs: 3_000, convergingMs: 5_000, unreachableMs: 10_000, rebalancingMs: 15_000, autoscalingMs: 15_000, readyMs: 60_000 } as const;

export function requeueAfter(s: CadenceInput): number {
  if (s.draining) return CADENCE.drainingMs;
  if (!s.adminReachable) return CADENCE.unreachableMs;
  if (!s.ready) return CADENCE.convergingMs;
  if (s.rebalancing) return CADENCE.rebalancingMs;
  if (s.autoscaling) return CADENCE.autoscalingMs;
  return CADENCE.readyMs;
}
