// Gated rolling updates (pure decision). The StatefulSets roll with RollingUpdate and a partition
// the operator moves: the StatefulSet controller replaces, highest ordinal first, only the pods at or
// above the partition, and the operator lowers it by one only when the pod it would take next may go:
// every other pod is ready (the one replaced before it came back) and the cluster is at full
// redundancy again (the gate, evaluated by the reconciler: no member down, nothing under-replicated
// in a repair pass planned after that pod came back, and the next pod's /maintenance probe). Why the
// partition rather than OnDelete: the StatefulSet controller keeps doing the replacing (and `kubectl
// rollout status` keeps working); the operator only decides when, and a partition it stops moving
// (operator gone, cluster degraded) simply holds the rollout where it is.
//
// Level-triggered from the pods: which pods run an older revision, which are ready, since when.
// A new template is applied with the partition at `replicas` (nothing restarts on apply); the next
// reconcile starts the gated walk down. Within one rollout the partition never goes back up, so a pod
// the controller is replacing is never recreated at the old revision.

export interface RolloutPod {
  ordinal: number;
  revision?: string; // controller-revision-hash label
  ready: boolean;
  terminating: boolean;
  createdAt?: string; // RFC 3339
  readySince?: string; // Ready condition's lastTransitionTime, when ready
}

export interface RolloutInput {
  replicas: number; // the StatefulSet's spec.replicas as it will be applied
  updateRevision?: string; // the StatefulSet's status.updateRevision
  observedPartition?: number; // spec.updateStrategy.rollingUpdate.partition as it is now
  templateChanging: boolean; // this apply changes the pod template (the revision is not known yet)
  pods: RolloutPod[];
  podReadyTimeoutMs: number;
  now: Date;
}

export type RolloutPhase = 'Steady' | 'Holding' | 'WaitingForPod' | 'Paused' | 'ReadyForNext';

export interface RolloutStep {
  phase: RolloutPhase;
  /** The partition if the gate for `next` stays closed. */
  partition: number;
  /** The ordinal the rollout takes next once the gate opens (partition becomes it). */
  next?: number;
  /** Ready pods since this time (ISO): repair passes must have started after it. */
  settledSince?: string;
  message: string;
}

export function planRollout(i: RolloutInput): RolloutStep {
  const n = i.replicas;
  if (i.templateChanging || !i.updateRevision)
    return { phase: 'Holding', partition: n, message: 'new pod template applied; the rollout starts at the next reconcile' };
  const byOrdinal = new Map(i.pods.filter((p) => p.ordinal < n).map((p) => [p.ordinal, p]));
  const outdated = [...Array(n).keys()].filter((o) => {
    const p = byOrdinal.get(o);
    return !!p && p.revision !== i.updateRevision;
  });
  if (outdated.length === 0) return { phase: 'Steady', partition: n, message: 'every pod runs the current revision' };
  const k = Math.max(...outdated);
  // Monotonic within a rollout: never above what is applied now (a pod being replaced stays replaced).
  const hold = Math.min(k + 1, i.observedPartition ?? n);
  // The pods already replaced must be back, ready; the others must be ready too (k may be broken:
  // replacing it is what the rollout is for).
  const notReady = [...Array(n).keys()].filter((o) => o !== k && !(byOrdinal.get(o)?.ready && !byOrdinal.get(o)?.terminating));
  if (notReady.length) {
    // A replaced pod that has had its time and is still not ready: the rollout stops there and says so.
    const late = notReady
      .map((o) => byOrdinal.get(o))
      .find((p) => p && p.ordinal > k && p.createdAt && i.now.getTime() - Date.parse(p.createdAt) > i.podReadyTimeoutMs);
    if (late)
      return {
        phase: 'Paused',
        partition: hold,
        message: `pod ${late.ordinal} runs the new revision but has not been ready for ${Math.round(i.podReadyTimeoutMs / 1000)} s; the rollout waits for it`,
      };
    return { phase: 'WaitingForPod', partition: hold, message: `waiting for pod(s) ${notReady.join(', ')} to be ready before replacing pod ${k}` };
  }
  const settledSince =
    [...byOrdinal.values()]
      .filter((p) => p.ordinal !== k)
      .map((p) => p.readySince ?? '')
      .sort()
      .pop() || undefined;
  return { phase: 'ReadyForNext', partition: hold, next: k, settledSince, message: `pod ${k} is next` };
}

/** The cluster-side gate for the next pod of the nodes: each reason a wait, none = go. */
export interface RedundancyView {
  membersDown: string[];
  membersNotActive: string[]; // node members joining/draining (not a steady cluster)
  underReplicatedChunks: number;
  /** Data members whose last repair pass started before the pods settled (their counts are stale). */
  stalePasses: string[];
  /** The next pod's own verdict (/maintenance). */
  maintenance: { ok: boolean; reason: string };
}

export function redundancyProblem(v: RedundancyView): string | undefined {
  if (v.membersDown.length) return `members down: ${v.membersDown.join(', ')}`;
  if (v.membersNotActive.length) return `members not active: ${v.membersNotActive.join(', ')}`;
  if (v.stalePasses.length) return `waiting for a repair pass after the last restart on ${v.stalePasses.join(', ')}`;
  if (v.underReplicatedChunks > 0) return `${v.underReplicatedChunks} chunks under-replicated`;
  if (!v.maintenance.ok) return `its maintenance probe says: ${v.maintenance.reason}`;
  return undefined;
}

/**
 * A node's /maintenance answer as a gate. 200: go. 412 because it holds chunks still being repaired:
 * wait. 412 only because restarting it stops writes to buckets whose R cannot lose a member (R ≤ 2,
 * W = R) while no other member is unavailable: go — a rolling restart takes one node at a time, as
 * the PodDisruptionBudget already allows; refusing would leave such clusters unable to upgrade, and
 * durability is guarded by the redundancy checks. Anything else (unreachable, unknown): wait.
 */
/** What /maintenance answers (observability/health.ts), details only to callers with the cluster secret. */
export interface MaintenanceBody {
  reason?: string;
  details?: { underReplicatedChunks?: number; buckets?: string[]; otherMembersUnavailable?: number };
}

export function maintenanceGate(status: number | undefined, body: MaintenanceBody | undefined): { ok: boolean; reason: string } {
  if (status === 200) return { ok: true, reason: body?.reason ?? 'safe' };
  const d = body?.details;
  if (status === 412 && d && !d.underReplicatedChunks && Array.isArray(d.buckets) && d.otherMembersUnavailable === 0) {
    return { ok: true, reason: `writes to ${d.buckets.length} bucket(s) pause while it restarts (${body?.reason ?? 'write quorum'})` };
  }
  return { ok: false, reason: body?.reason ?? (status === undefined ? 'no answer' : `HTTP ${status}`) };
}
