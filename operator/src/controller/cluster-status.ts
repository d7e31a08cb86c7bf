// StorageCluster status as a pure function of (spec, observed StatefulSets, the roots' admin
// ClusterStatus, the scaling plan). Conditions: Ready, Progressing, Degraded, Rebalancing and
// ScaleDownBlocked, each with a reason a person can act on (a lost cluster Secret: how to restore it).
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { ClusterStatus } from '../../../node-runtime/src/admin/types.ts';
import { formatBytes } from '../api/quantity.ts';
import type { StorageCluster, StorageClusterStatus } from '../api/storagecluster.ts';
import { childNames, fileApiEndpoint, podSelector, selectorString } from '../builders/names.ts';
import { setConditions, type ConditionInput } from './conditions.ts';
import { ordinalOf, type ScalingPlan } from './scaling.ts';
import type { RolloutOutcome } from './rollouts.ts';

export interface ObservedStatefulSet {
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  specReplicas: number;
  currentRevision?: string;
  updateRevision?: string;
  observedGeneration?: number;
  generation?: number;
}

export interface ObservedCluster {
  roots?: ObservedStatefulSet;
  nodes?: ObservedStatefulSet;
  admin?: ClusterStatus;
  adminError?: string;
  plan: ScalingPlan;
  desiredNodes: number; // spec or autoscaler
  scaleDownBlocked?: { member: string; message: string };
  autoscaling?: { desiredReplicas: number; lastScaleTime?: string };
  /** Why the spec cannot be carried out: the builders or the API server refused it. */
  invalidSpec?: string;
  /** The cluster Secret is gone while the pods run with its values: how to restore it (credentials.ts). */
  credentialsLost?: string;
  /** The node volumes against spec.nodes.storage.size (controller/volumes.ts); kept as it was when unknown. */
  volumes?: ConditionInput;
  /** What the gated rollouts of both StatefulSets are doing (controller/rollouts.ts). */
  rollouts?: RolloutOutcome[];
}

export function observeStatefulSet(o: V1StatefulSet | undefined): ObservedStatefulSet | undefined {
  if (!o) return undefined;
  return {
    specReplicas: o.spec?.replicas ?? 0,
    replicas: o.status?.replicas ?? 0,
    readyReplicas: o.status?.readyReplicas ?? 0,
    updatedReplicas: o.status?.updatedReplicas ?? 0,
    currentRevision: o.status?.currentRevision,
    updateRevision: o.status?.updateRevision,
    observedGeneration: o.status?.observedGeneration,
    generation: o.metadata?.generation,
  };
}

const rolledOut = (s?: ObservedStatefulSet) =>
  !!s &&
  (s.observedGeneration === undefined || s.generation === undefined || s.observedGeneration >= s.generation) &&
  s.replicas === s.specReplicas &&
  s.updatedReplicas >= s.specReplicas &&
  (!s.updateRevision || s.currentRevision === s.updateRevision);

export function computeClusterStatus(c: StorageCluster, o: ObservedCluster, now: Date): StorageClusterStatus {
  const n = childNames(c.metadata.name);
  const admin = o.admin;
  const nodeMembers = (admin?.members ?? []).filter((m) => ordinalOf(m.name, n.nodes) !== undefined);
  const count = (state: string) => nodeMembers.filter((m) => m.state === state).length;
  const down = (admin?.members ?? []).filter((m) => m.state === 'down');
  const draining = nodeMembers
    .filter((m) => m.state === 'draining')
    .map((m) => m.name)
    .sort();
  const repair = admin?.repair;
  const under = repair?.underReplicatedChunks ?? 0;
  const rebalancing = !!repair && (under > 0 || repair.misplacedChunks > 0 || repair.bytesRemaining > 0);
  const rootsReady = (o.roots?.readyReplicas ?? 0) >= c.spec.roots.replicas;
  const nodesReady = (o.nodes?.readyReplicas ?? 0) >= o.desiredNodes && o.plan.statefulSetReplicas === o.desiredNodes;
  const scaling = o.plan.phase !== 'Stable';
  const wasServing = c.status?.phase === 'Ready' || c.status?.phase === 'Degraded';

  // Ready: every pod ready, the roots answer, no member down, full redundancy, writes possible.
  let ready: ConditionInput;
  if (o.invalidSpec) ready = { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: o.invalidSpec };
  else if (o.credentialsLost) ready = { type: 'Ready', status: 'False', reason: 'ClusterSecretMissing', message: o.credentialsLost };
  else if (!o.roots || !o.nodes) ready = { type: 'Ready', status: 'False', reason: 'Creating', message: 'StatefulSets are being created' };
  else if (!rootsReady)
    ready = { type: 'Ready', status: 'False', reason: 'RootsNotReady', message: `${o.roots.readyReplicas}/${c.spec.roots.replicas} roots ready` };
  else if (!admin)
    ready = {
      type: 'Ready',
      status: 'False',
      reason: 'AdminUnreachable',
      message: `admin API of the roots did not answer: ${o.adminError ?? 'unknown error'}`,
    };
  else if (down.length) ready = { type: 'Ready', status: 'False', reason: 'MembersDown', message: `down: ${down.map((m) => m.name).join(', ')}` };
  else if (!nodesReady)
    ready = {
      type: 'Ready',
      status: 'False',
      reason: scaling ? 'Scaling' : 'NodesNotReady',
      message: `${o.nodes.readyReplicas}/${o.desiredNodes} nodes ready`,
    };
  else if (under > 0) ready = { type: 'Ready', status: 'False', reason: 'UnderReplicated', message: `${under} chunks below their replication factor` };
  else if (!admin.writeQuorumAvailable)
    ready = { type: 'Ready', status: 'False', reason: 'WriteQuorumLost', message: 'some bucket cannot reach its write quorum' };
  else
    ready = {
      type: 'Ready',
      status: 'True',
      reason: 'ClusterReady',
      message: `${o.nodes.readyReplicas} nodes and ${o.roots.readyReplicas} roots ready, full redundancy`,
    };

  // Progressing until every pod the StatefulSets want is there, updated and ready (what
  // `kubectl rollout status` waits for): pods that exist but are still starting are progress too.
  const rollingOut = !rolledOut(o.roots) || !rolledOut(o.nodes);
  const podsReady = (s?: ObservedStatefulSet) => !!s && s.readyReplicas >= s.specReplicas;
  const rolling = (o.rollouts ?? []).filter((r) => r.phase !== 'Steady' && r.phase !== 'Holding');
  const rollingMessage = rolling.map((r) => `${r.role === 'root' ? 'roots' : 'nodes'}: ${r.message}`).join('; ');
  const progressing: ConditionInput = scaling
    ? {
        type: 'Progressing',
        status: 'True',
        reason: o.plan.phase,
        message:
          o.plan.phase === 'Draining'
            ? `draining ${o.plan.waitingFor.join(', ')} before scale-down to ${o.desiredNodes}`
            : `nodes ${o.plan.statefulSetReplicas} → ${o.desiredNodes}`,
      }
    : !o.roots || !o.nodes
      ? { type: 'Progressing', status: 'True', reason: 'Creating', message: 'StatefulSets are being created' }
      : rolling.length
        ? { type: 'Progressing', status: 'True', reason: 'RollingOut', message: rollingMessage }
        : rollingOut
          ? { type: 'Progressing', status: 'True', reason: 'RollingOut', message: 'StatefulSets are rolling out' }
          : !podsReady(o.roots) || !podsReady(o.nodes)
            ? {
                type: 'Progressing',
                status: 'True',
                reason: 'WaitingForPods',
                message: `pods ready: roots ${o.roots.readyReplicas}/${o.roots.specReplicas}, nodes ${o.nodes.readyReplicas}/${o.nodes.specReplicas}`,
              }
            : { type: 'Progressing', status: 'False', reason: 'Stable', message: 'no rollout or scaling in progress' };

  const degradedWhy = o.credentialsLost
    ? { reason: 'ClusterSecretMissing', message: o.credentialsLost }
    : down.length
      ? { reason: 'MembersDown', message: `${down.length} member(s) down: ${down.map((m) => m.name).join(', ')}; data is being re-replicated` }
      : admin && !admin.writeQuorumAvailable
        ? { reason: 'WriteQuorumLost', message: 'some bucket cannot reach its write quorum' }
        : admin && under > 0
          ? { reason: 'UnderReplicated', message: `${under} chunks below their replication factor` }
          : o.roots && o.roots.readyReplicas < c.spec.roots.replicas && o.roots.readyReplicas > 0
            ? { reason: 'RootsUnavailable', message: `${o.roots.readyReplicas}/${c.spec.roots.replicas} roots ready` }
            : // A serving cluster that lost a pod (crash, eviction) is degraded even before the member times out.
              wasServing && o.nodes && o.nodes.readyReplicas < Math.min(o.nodes.specReplicas, o.desiredNodes)
              ? { reason: 'NodesUnavailable', message: `${o.nodes.readyReplicas}/${o.desiredNodes} nodes ready` }
              : undefined;
  const degraded: ConditionInput = degradedWhy
    ? { type: 'Degraded', status: 'True', ...degradedWhy }
    : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no member down, full redundancy' };

  const rebal: ConditionInput = !admin
    ? { type: 'Rebalancing', status: 'Unknown', reason: 'AdminUnreachable', message: 'cluster state unknown' }
    : rebalancing
      ? {
          type: 'Rebalancing',
          status: 'True',
          reason: 'Repairing',
          message: `${formatBytes(repair!.bytesRemaining)} to move, ${under} under-replicated, ${repair!.misplacedChunks} misplaced chunks${repair!.etaSeconds != null ? `, ETA ${Math.ceil(repair!.etaSeconds)} s` : ''}`,
        }
      : { type: 'Rebalancing', status: 'False', reason: 'Balanced', message: 'every chunk has its replicas in place' };

  const blocked: ConditionInput = o.scaleDownBlocked
    ? { type: 'ScaleDownBlocked', status: 'True', reason: 'DrainRefused', message: `${o.scaleDownBlocked.member}: ${o.scaleDownBlocked.message}` }
    : { type: 'ScaleDownBlocked', status: 'False', reason: 'NotBlocked', message: 'scale-down is not blocked' };

  const paused = (o.rollouts ?? []).filter((r) => r.phase === 'Paused');
  const rolloutPaused: ConditionInput = paused.length
    ? {
        type: 'RolloutPaused',
        status: 'True',
        reason: 'PodNotReady',
        message: paused.map((r) => `${r.role === 'root' ? 'roots' : 'nodes'}: ${r.message}`).join('; '),
      }
    : { type: 'RolloutPaused', status: 'False', reason: 'NotPaused', message: 'no rollout is waiting on a pod that does not come back' };
  const prevVolumes = c.status?.conditions?.find((x) => x.type === 'VolumesResized');
  const volumes: ConditionInput | undefined =
    o.volumes ?? (prevVolumes && { type: 'VolumesResized', status: prevVolumes.status, reason: prevVolumes.reason, message: prevVolumes.message });
  const conditions = setConditions(
    c.status?.conditions,
    [ready, progressing, degraded, rebal, blocked, ...(o.rollouts ? [rolloutPaused] : []), ...(volumes ? [volumes] : [])],
    now,
    c.metadata.generation,
  );
  const phase: StorageClusterStatus['phase'] = o.invalidSpec
    ? 'Failed'
    : o.credentialsLost
      ? 'Degraded'
      : ready.status === 'True'
        ? 'Ready'
        : degradedWhy
          ? 'Degraded'
          : scaling
            ? 'Scaling'
            : !o.roots || !o.nodes || (o.roots.readyReplicas === 0 && !admin)
              ? 'Creating'
              : 'Pending';

  const capacity = admin
    ? {
        totalBytes: admin.capacityBytes,
        usedBytes: admin.usedBytes,
        usedPercent: admin.capacityBytes > 0 ? Math.round((100 * admin.usedBytes) / admin.capacityBytes) : 0,
        summary: `${formatBytes(admin.usedBytes)}/${formatBytes(admin.capacityBytes)} (${admin.capacityBytes > 0 ? Math.round((100 * admin.usedBytes) / admin.capacityBytes) : 0}%)`,
      }
    : c.status?.capacity;

  return {
    observedGeneration: c.metadata.generation,
    phase,
    conditions,
    roots: {
      desired: c.spec.roots.replicas,
      replicas: o.roots?.replicas ?? 0,
      ready: o.roots?.readyReplicas ?? 0,
      selector: selectorString(podSelector(c, 'root')),
    },
    nodes: {
      desired: o.desiredNodes,
      replicas: o.nodes?.replicas ?? 0,
      ready: o.nodes?.readyReplicas ?? 0,
      selector: selectorString(podSelector(c, 'node')),
      ...(admin ? { active: count('active'), draining: draining.length, down: down.length, drainingMembers: draining } : {}),
    },
    ...(capacity ? { capacity } : {}),
    ...(repair
      ? {
          replication: { underReplicatedChunks: under, misplacedChunks: repair.misplacedChunks },
          rebalance: {
            bytesRemaining: repair.bytesRemaining,
            bytesMoved: repair.bytesMoved,
            rateBytesPerSec: Math.round(repair.rateBytesPerSec),
            ...(repair.etaSeconds != null ? { etaSeconds: Math.ceil(repair.etaSeconds) } : {}),
          },
        }
      : c.status?.replication
        ? { replication: c.status.replication }
        : {}),
    ...(o.autoscaling ? { autoscaling: o.autoscaling } : {}),
    ...(admin ? { zones: zonesOf(nodeMembers) } : c.status?.zones ? { zones: c.status.zones } : {}),
    endpoint: fileApiEndpoint(c),
    adminSecretName: n.adminSecret,
  };
}

/** The named zones of the node members, sorted, each with its members (as placement sees them). */
export function zonesOf(members: { name: string; zone: string; state: string }[]): { name: string; members: string[] }[] {
  const byZone = new Map<string, string[]>();
  for (const m of members) {
    if (!m.zone || m.state === 'drained') continue;
    byZone.set(m.zone, [...(byZone.get(m.zone) ?? []), m.name]);
  }
  return [...byZone].sort(([a], [b]) => a.localeCompare(b)).map(([name, ms]) => ({ name, members: ms.sort() }));
}
