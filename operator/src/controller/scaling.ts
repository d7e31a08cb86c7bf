// Safe scaling of the nodes StatefulSet, as a pure decision from (desired replicas, current
// StatefulSet, the roots' view of the members). Scale-up raises the StatefulSet at once.
// Scale-down marks the highest ordinals draining through the admin API and lowers the StatefulSet
// only when every one of them reports `drained` (the cluster's authoritative signal that its data
// has R replicas elsewhere), then forgets them once their pods are gone. A `down` member may be
// removed only when nothing is under-replicated. Nothing here is remembered between reconciles:
// the members' states are the plan.
import type { StorageClusterSpec } from '../api/storagecluster.ts';

export interface NodeMember {
  name: string;
  state: 'joining' | 'active' | 'draining' | 'drained' | 'down';
  capacityBytes: number;
  usedBytes: number;
}

export interface ScalingInput {
  desired: number; // spec.nodes.replicas, or the autoscaler's answer
  statefulSetReplicas?: number; // the nodes StatefulSet's spec.replicas (undefined: not created yet)
  podsPresent: number; // the nodes StatefulSet's status.replicas (pods that still exist)
  members?: NodeMember[]; // node members from the admin API; undefined when unreachable
  underReplicatedChunks: number;
  nodePrefix: string; // "<cluster>-nodes"
}

export type ScalingPhase = 'Stable' | 'ScalingUp' | 'Draining' | 'ScalingDown' | 'WaitingForAdmin';

export interface ScalingPlan {
  statefulSetReplicas: number;
  drain: string[]; // mark these members draining
  undrain: string[]; // a cancelled scale-down: bring these back
  forget: string[]; // drained/down members whose pods are gone
  phase: ScalingPhase;
  waitingFor: string[]; // members still draining (for the status message)
}

export function ordinalOf(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix + '-')) return undefined;
  const rest = name.slice(prefix.length + 1);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

export function decideScaling(s: ScalingInput): ScalingPlan {
  const current = s.statefulSetReplicas ?? s.desired;
  const byOrdinal = new Map<number, NodeMember>();
  for (const m of s.members ?? []) {
    const o = ordinalOf(m.name, s.nodePrefix);
    if (o !== undefined) byOrdinal.set(o, m);
  }
  const forget = [...byOrdinal]
    .filter(([o, m]) => o >= current && o >= s.podsPresent && o >= s.desired && (m.state === 'drained' || m.state === 'down'))
    .map(([, m]) => m.name);

  if (s.desired >= current) {
    const undrain = [...byOrdinal].filter(([o, m]) => o < s.desired && (m.state === 'draining' || m.state === 'drained')).map(([, m]) => m.name);
    return { statefulSetReplicas: s.desired, drain: [], undrain, forget, phase: s.desired > current ? 'ScalingUp' : 'Stable', waitingFor: [] };
  }

  // Scale-down: every ordinal in [desired, current) must be safe to remove first.
  if (!s.members) return { statefulSetReplicas: current, drain: [], undrain: [], forget: [], phase: 'WaitingForAdmin', waitingFor: [] };
  const drain: string[] = [];
  const waitingFor: string[] = [];
  for (let o = current - 1; o >= s.desired; o--) {
    const m = byOrdinal.get(o);
    if (!m || m.state === 'drained') continue; // never joined (holds nothing) or drained
    if (m.state === 'down') {
      if (s.underReplicatedChunks > 0) waitingFor.push(m.name);
      continue;
    }
    if (m.state === 'draining') {
      waitingFor.push(m.name);
      continue;
    }
    drain.push(m.name);
    waitingFor.push(m.name);
  }
  const undrain = [...byOrdinal].filter(([o, m]) => o < s.desired && (m.state === 'draining' || m.state === 'drained')).map(([, m]) => m.name);
  if (waitingFor.length) return { statefulSetReplicas: current, drain, undrain, forget, phase: 'Draining', waitingFor };
  return { statefulSetReplicas: s.desired, drain: [], undrain, forget, phase: 'ScalingDown', waitingFor: [] };
}

/**
 * Operator-driven autoscaling on used capacity: scale up at once to bring usage under the target,
 * scale down one node at a time and only when usage on one node fewer would still be under the
 * target (hysteresis, so it does not flap). Clamped to [min, max] and never below R.
 */
export function autoscaleReplicas(spec: StorageClusterSpec, current: number, usage?: { usedBytes: number; capacityBytes: number }): number {
  const a = spec.autoscaling;
  if (!a) return spec.nodes.replicas;
  const floor = Math.max(a.minReplicas, spec.replication.factor);
  const clamp = (n: number) => Math.min(a.maxReplicas, Math.max(floor, n));
  if (!usage || usage.capacityBytes <= 0 || current <= 0) return clamp(current || a.minReplicas);
  const perNode = usage.capacityBytes / current;
  const target = a.targetUsedPercent / 100;
  const needed = Math.ceil(usage.usedBytes / (perNode * target));
  if (needed > current) return clamp(needed);
  if (current > floor && usage.usedBytes / (perNode * (current - 1)) < target) return clamp(current - 1);
  return clamp(current);
}
