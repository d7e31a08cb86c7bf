// Standard conditions (metav1.Condition): set one by type, keeping lastTransitionTime unless the
// status actually changed, so status updates do not churn.
import type { Condition } from '../api/common.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function setConditions(previous: Condition[] | undefined, next: ConditionInput[], now: Date, generation?: number): Condition[] {
  const old = new Map((previous ?? []).map((c) => [c.type, c]));
  return next.map((c) => {
    const prev = old.get(c.type);
    const lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : now.toISOString();
    return { ...c, lastTransitionTime, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  });
}
