// StorageCluster reconcile: read the object and what exists, compute the whole desired state, and
// converge with an ordered chain of ensureX steps (credentials → children by kind → members →
// status). Level-triggered: nothing is remembered between calls except the queue's backoff. A
// cluster whose cluster Secret is lost is held as it runs and reported Degraded (credentials.ts).
import type { V1CustomResourceDefinition, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import type { Logger } from '../../../node-runtime/src/util/log.ts';
import { applyDefaults } from '../api/schema.ts';
import { storageClusterSpecSchema, type StorageCluster, type StorageClusterSpec, type StorageClusterStatus } from '../api/storagecluster.ts';
import { desiredClusterChildren, type ClusterInputs, type KubeObject } from '../builders/children.ts';
import { CLUSTER_LABEL, COMPONENT_LABEL, childNames, clusterLabels, fileApiEndpoint, selectorString } from '../builders/names.ts';
import { nodeFacts, type NodeFacts } from '../builders/node-facts.ts';
import { notificationTargetsFile } from '../builders/notifications.ts';
import type { Applier } from '../kube/apply.ts';
import type { EventRecorder } from '../kube/events.ts';
import { collectionPath, isInvalid, isNotFound, KubeApiError, objectPath, PATCH_MERGE, resources, type KubeRest, type ResourceRef } from '../kube/rest.ts';
import type { KubeObject as CachedObject } from '../kube/watcher.ts';
import { adminErrorOf, connectAdmin, type AdminClientFactory, type AdminConnection } from './admin.ts';
import { requeueAfter } from './cadence.ts';
import { computeClusterStatus, observeStatefulSet } from './cluster-status.ts';
import { clusterCredentials, type Credentials } from './credentials.ts';
import { TerminalError, type ReconcileResult } from './queue.ts';
import { autoscaleReplicas, decideScaling, ordinalOf, type ScalingPlan } from './scaling.ts';
import { sameJson } from './same-json.ts';
import { claimView, planVolumes, type VolumePlan } from './volumes.ts';
import { ensureRollouts, probeMaintenance, type MaintenanceProbe, type RolloutOutcome } from './rollouts.ts';

export interface ReconcilerDeps {
  rest: KubeRest;
  applier: Applier;
  events: EventRecorder;
  adminFactory: AdminClientFactory;
  log: Logger;
  now?: () => Date;
  /** A node's /maintenance probe (default: over HTTP with the cluster secret). */
  maintenance?: MaintenanceProbe;
  /** The Kubernetes Nodes (a watch cache); without it, or before it synced, the reconciler lists them. */
  nodes?: () => CachedObject[] | undefined;
}

const SERVICE_MONITOR_CRD = 'servicemonitors.monitoring.coreos.com';
const CHILD_KINDS = ['ConfigMap', 'Secret', 'Service', 'StatefulSet', 'PodDisruptionBudget', 'ServiceMonitor'];

export class ClusterReconciler {
  private readonly d: ReconcilerDeps;
  private serviceMonitorCrd?: { exists: boolean; checkedAt: number };

  constructor(deps: ReconcilerDeps) {
    this.d = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const log = this.d.log.child({ storagecluster: key });
    let raw: StorageCluster;
    try {
      raw = await this.d.rest.request<StorageCluster>('GET', objectPath(resources.storageClusters, namespace, name));
    } catch (e) {
      if (isNotFound(e)) return {}; // deleted: owner references garbage-collect the children
      throw e;
    }
    if (raw.metadata.deletionTimestamp) return {};
    const cluster: StorageCluster = { ...raw, spec: applyDefaults<StorageClusterSpec>(storageClusterSpecSchema, raw.spec ?? {}) };
    const now = this.d.now?.() ?? new Date();

    const n = childNames(name);
    const [rootsSts, nodesSts] = await Promise.all([n.roots, n.nodes].map((sts) => this.getOptional<V1StatefulSet>(resources.statefulSets, namespace, sts)));
    // The StatefulSets (owned by this StorageCluster) exist only once its Secret was applied before them.
    const creds = await this.ensureCredentials(cluster, !!(rootsSts || nodesSts));
    if ('lost' in creds) return this.holdWithoutCredentials(raw, cluster, { rootsSts, nodesSts }, creds.lost, log, now);
    const admin = await connectAdmin(this.d.adminFactory, cluster, creds.clusterSecret);
    if (!admin.client) log.debug({ err: admin.error }, 'admin API unreachable');

    const desiredNodes = this.desiredNodes(cluster, nodesSts, admin);
    const plan = decideScaling({
      desired: desiredNodes,
      statefulSetReplicas: nodesSts?.spec?.replicas,
      podsPresent: nodesSts?.status?.replicas ?? 0,
      members: admin.client ? admin.status.members : undefined,
      underReplicatedChunks: admin.client ? admin.status.repair.underReplicatedChunks : 0,
      nodePrefix: n.nodes,
    });

    // A spec the schema let through but the builders cannot use, or a child the API server refuses
    // (422): the cluster cannot converge until the spec changes, so say why and touch no member.
    const serviceMonitorAvailable = await this.serviceMonitorAvailable(cluster);
    let invalidSpec: string | undefined;
    let children: KubeObject[] = [];
    const claims = await this.nodeClaims(cluster);
    try {
      const nodeFacts = await this.observeNodeFacts(cluster, claims);
      // The claim template of an existing StatefulSet is immutable: it keeps its size, the PVCs grow (ensureVolumes).
      const claimTemplateSize = nodesSts?.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage as string | undefined;
      children = desiredClusterChildren({
        cluster,
        nodeReplicas: plan.statefulSetReplicas,
        ...creds,
        serviceMonitorAvailable,
        nodeFacts,
        claimTemplateSize,
      } satisfies ClusterInputs);
    } catch (e) {
      invalidSpec = (e as Error).message; // the builders are pure: what they refuse is the spec's doing
    }
    // Gated rolling updates: the partitions each StatefulSet is applied with.
    const rollouts = invalidSpec
      ? []
      : await ensureRollouts({
          rest: this.d.rest,
          probe: this.d.maintenance ?? probeMaintenance,
          cluster,
          children,
          observed: { root: rootsSts, node: nodesSts },
          admin,
          secret: creds.clusterSecret,
          now,
        });
    invalidSpec ??= await this.ensureChildren(children);
    if (!invalidSpec && !cluster.spec.console.enabled) await this.ensureGone(resources.services, namespace, childNames(name).console);
    if (!invalidSpec) await this.recordRollouts(raw, rollouts, log);
    if (!invalidSpec) await this.checkNotificationSecrets(raw, cluster);
    const volumes = invalidSpec ? undefined : await this.ensureVolumes(cluster, claims, raw, log);

    const blocked = admin.client && !invalidSpec ? await this.ensureMembers(cluster, plan, admin, log) : undefined;
    if (!invalidSpec) this.recordScaling(cluster, plan, nodesSts?.spec?.replicas);

    const status = computeClusterStatus(
      cluster,
      {
        roots: observeStatefulSet(rootsSts),
        nodes: observeStatefulSet(nodesSts),
        admin: admin.client ? admin.status : undefined,
        adminError: admin.client ? undefined : admin.error,
        plan,
        desiredNodes,
        scaleDownBlocked: blocked,
        volumes: volumes?.condition,
        rollouts,
        invalidSpec,
        ...(cluster.spec.autoscaling
          ? {
              autoscaling: {
                desiredReplicas: desiredNodes,
                lastScaleTime:
                  desiredNodes !== (raw.status?.autoscaling?.desiredReplicas ?? desiredNodes) ? now.toISOString() : raw.status?.autoscaling?.lastScaleTime,
              },
            }
          : {}),
      },
      now,
    );
    await this.ensureStatus(raw, status);
    this.recordPhase(raw, status);
    if (invalidSpec) {
      // Not retried hot: the next change of the spec (or of a child) brings the key back.
      await this.d.events.record(raw, 'Warning', 'InvalidSpec', invalidSpec);
      throw new TerminalError('InvalidSpec', invalidSpec);
    }

    // A rollout waits on things no watch reports (repair passes, probes): look again soon.
    const ready = status.phase === 'Ready' && rollouts.every((r) => r.phase === 'Steady');
    return {
      requeueAfterMs: requeueAfter({
        ready,
        draining: plan.phase === 'Draining',
        rebalancing: status.conditions?.find((c) => c.type === 'Rebalancing')?.status === 'True',
        adminReachable: !!admin.client,
        autoscaling: !!cluster.spec.autoscaling,
      }),
    };
  }

  /**
   * The cluster and admin Secrets' values: read back if they exist, generated once otherwise; a
   * cluster Secret lost while the cluster exists (`initialized`) is never made again (credentials.ts).
   */
  private async ensureCredentials(c: StorageCluster, initialized: boolean): Promise<Credentials | { lost: string }> {
    const n = childNames(c.metadata.name);
    const ns = c.metadata.namespace ?? 'default';
    const [clusterSecret, adminSecret] = await Promise.all([n.clusterSecret, n.adminSecret].map((s) => this.getOptional<V1Secret>(resources.secrets, ns, s)));
    return clusterCredentials({ namespace: ns, clusterName: c.metadata.name, clusterSecretName: n.clusterSecret, clusterSecret, adminSecret, initialized });
  }

  /**
   * Without its cluster Secret the cluster is left as it runs: no child applied (the pods' template
   * names the Secret), no member drained, no admin call (it needs the secret). The status says
   * Degraded with how to restore the Secret; a restored one is seen through the watch or the requeue.
   */
  private async holdWithoutCredentials(
    raw: StorageCluster,
    cluster: StorageCluster,
    sts: { rootsSts?: V1StatefulSet; nodesSts?: V1StatefulSet },
    lost: string,
    log: Logger,
    now: Date,
  ): Promise<ReconcileResult> {
    if (raw.status?.phase !== 'Degraded' || !raw.status.conditions?.some((c) => c.reason === 'ClusterSecretMissing'))
      log.error({ reason: lost }, 'cluster Secret lost: holding the cluster as it runs');
    const replicas = sts.nodesSts?.spec?.replicas ?? cluster.spec.nodes.replicas;
    const status = computeClusterStatus(
      cluster,
      {
        roots: observeStatefulSet(sts.rootsSts),
        nodes: observeStatefulSet(sts.nodesSts),
        adminError: 'the cluster Secret is gone',
        credentialsLost: lost,
        desiredNodes: replicas,
        plan: { phase: 'Stable', statefulSetReplicas: replicas, drain: [], undrain: [], forget: [], waitingFor: [] },
      },
      now,
    );
    await this.ensureStatus(raw, status);
    this.recordPhase(raw, status);
    return { requeueAfterMs: 15_000 };
  }

  /** The node pods' PVCs (made by the StatefulSet controller from our claim template, with its labels). */
  private async nodeClaims(c: StorageCluster): Promise<CachedObject[]> {
    const selector = selectorString({ [CLUSTER_LABEL]: c.metadata.name, [COMPONENT_LABEL]: clusterLabels(c, 'nodes')[COMPONENT_LABEL]! });
    return (
      await this.d.rest.request<{ items: CachedObject[] }>('GET', collectionPath(resources.persistentVolumeClaims, c.metadata.namespace), {
        query: { labelSelector: selector },
      })
    ).items;
  }

  /** Zones of the Kubernetes nodes and capacities of the node PVCs, for the node facts ConfigMap. */
  private async observeNodeFacts(c: StorageCluster, claims: CachedObject[]): Promise<NodeFacts> {
    const nodes = this.d.nodes?.() ?? (await this.d.rest.request<{ items: CachedObject[] }>('GET', collectionPath(resources.nodes))).items;
    return nodeFacts(c, nodes, claims);
  }

  /**
   * Grow the node PVCs to spec.nodes.storage.size where their StorageClass allows it (volumes.ts);
   * what cannot grow is a Warning Event and the VolumesResized condition. A merge patch, not an
   * apply: the claims are the StatefulSet controller's objects, the operator changes one field.
   */
  private async ensureVolumes(c: StorageCluster, claims: CachedObject[], raw: StorageCluster, log: Logger): Promise<VolumePlan> {
    const classes = new Map<string, boolean | undefined>();
    for (const name of new Set(claims.map((x) => x.spec?.storageClassName).filter((x): x is string => !!x))) {
      const sc = await this.getOptional<{ allowVolumeExpansion?: boolean }>(resources.storageClasses, undefined, name);
      classes.set(name, sc ? sc.allowVolumeExpansion === true : undefined);
    }
    const size = c.spec.nodes.storage.size;
    const plan = planVolumes(size, claims.map(claimView), (name) => classes.get(name));
    for (const name of plan.grow) {
      try {
        await this.d.rest.request('PATCH', objectPath(resources.persistentVolumeClaims, c.metadata.namespace, name), {
          contentType: PATCH_MERGE,
          body: { spec: { resources: { requests: { storage: String(size) } } } },
        });
        log.info({ claim: name, size }, 'growing node volume');
        await this.d.events.record(raw, 'Normal', 'ResizingVolume', `growing ${name} to ${size}`);
      } catch (e) {
        if (isNotFound(e)) continue;
        if (!(e instanceof KubeApiError) || (e.status !== 403 && e.status !== 422)) throw e;
        plan.notAllowed.push({ claim: name, why: `the API server refused: ${e.message}` });
        plan.condition = {
          type: 'VolumesResized',
          status: 'False',
          reason: 'ExpansionNotAllowed',
          message: `cannot grow to ${size}: ${plan.notAllowed.map((n) => `${n.claim}: ${n.why}`).join('; ')}`,
        };
      }
    }
    if (plan.condition.reason === 'ExpansionNotAllowed' || plan.condition.reason === 'ShrinkNotSupported')
      await this.d.events.record(raw, 'Warning', plan.condition.reason, plan.condition.message);
    const was = raw.status?.conditions?.find((x) => x.type === 'VolumesResized');
    if (plan.condition.status === 'True' && was && was.status !== 'True') await this.d.events.record(raw, 'Normal', 'VolumesResized', plan.condition.message);
    return plan;
  }

  private desiredNodes(c: StorageCluster, nodesSts: V1StatefulSet | undefined, admin: AdminConnection): number {
    if (!c.spec.autoscaling) return c.spec.nodes.replicas;
    const prefix = childNames(c.metadata.name).nodes;
    const nodes = admin.client ? admin.status.members.filter((m) => ordinalOf(m.name, prefix) !== undefined && m.state === 'active') : [];
    // A node that does not know its volume's size yet (reports 0) would skew the ratio: decide later.
    const usage =
      nodes.length && nodes.every((m) => m.capacityBytes > 0)
        ? { usedBytes: nodes.reduce((a, m) => a + m.usedBytes, 0), capacityBytes: nodes.reduce((a, m) => a + m.capacityBytes, 0) }
        : undefined;
    return autoscaleReplicas(c.spec, nodes.length || (nodesSts?.spec?.replicas ?? c.spec.nodes.replicas), usage);
  }

  /**
   * Apply the children kind by kind (config and secrets before the pods that read them). A child the
   * API server refuses as invalid stops the chain; what it said is returned for the status.
   */
  private async ensureChildren(children: KubeObject[]): Promise<string | undefined> {
    for (const kind of CHILD_KINDS) {
      for (const obj of children.filter((o) => o.kind === kind)) {
        try {
          await this.d.applier.apply(obj);
        } catch (e) {
          if (!isInvalid(e)) throw e;
          const said = (e.body as { message?: string } | undefined)?.message ?? e.message;
          return `the API server refused ${obj.kind} ${obj.metadata.name}: ${said}`;
        }
      }
    }
    return undefined;
  }

  /** A child the spec no longer asks for (e.g. the console's Service once the console is off). */
  private async ensureGone(r: ResourceRef, ns: string, name: string): Promise<void> {
    try {
      await this.d.rest.request('DELETE', objectPath(r, ns, name));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Undrain, drain and forget members as the scaling plan says; a refused drain is reported, not retried hot. */
  private async ensureMembers(
    c: StorageCluster,
    plan: ScalingPlan,
    admin: Extract<AdminConnection, { status: unknown }>,
    log: Logger,
  ): Promise<{ member: string; message: string } | undefined> {
    for (const m of plan.undrain) {
      await admin.client.undrain(m);
      log.info({ member: m }, 'scale-down cancelled: member undrained');
    }
    let blocked: { member: string; message: string } | undefined;
    for (const m of plan.drain) {
      try {
        await admin.client.drain(m);
        log.info({ member: m }, 'draining member before scale-down');
        await this.d.events.record(c, 'Normal', 'Draining', `draining ${m} before removing its pod`);
      } catch (e) {
        const err = adminErrorOf(e);
        if (err.status !== 409) throw e;
        blocked = { member: m, message: err.message };
        log.warn({ member: m, reason: err.message }, 'drain refused; scale-down blocked');
        await this.d.events.record(c, 'Warning', 'ScaleDownBlocked', `${m}: ${err.message}`);
        break;
      }
    }
    for (const m of plan.forget) {
      await admin.client.forget(m);
      log.info({ member: m }, 'forgot removed member');
      await this.d.events.record(c, 'Normal', 'MemberRemoved', `${m} drained and removed from the cluster map`);
    }
    return blocked;
  }

  private async recordRollouts(c: StorageCluster, rollouts: RolloutOutcome[], log: Logger): Promise<void> {
    for (const r of rollouts) {
      if (r.advanced !== undefined) {
        log.info({ role: r.role, ordinal: r.advanced }, 'rolling update: next pod');
        await this.d.events.record(c, 'Normal', 'RollingUpdate', r.message);
      }
      if (r.phase === 'Paused') await this.d.events.record(c, 'Warning', 'RolloutPaused', `${r.role === 'root' ? 'roots' : 'nodes'}: ${r.message}`);
    }
  }

  private recordScaling(c: StorageCluster, plan: ScalingPlan, before: number | undefined): void {
    if (before === undefined || before === plan.statefulSetReplicas) return;
    const reason = plan.statefulSetReplicas > before ? 'ScaledUp' : 'ScaledDown';
    void this.d.events.record(c, 'Normal', reason, `nodes StatefulSet ${before} → ${plan.statefulSetReplicas}`);
  }

  private recordPhase(before: StorageCluster, status: StorageClusterStatus): void {
    const was = before.status?.phase;
    if (was === status.phase) return;
    const ready = status.conditions?.find((x) => x.type === 'Ready');
    if (status.phase === 'Ready') void this.d.events.record(before, 'Normal', 'Ready', `cluster ready at ${fileApiEndpoint(before)}`);
    else if (status.phase === 'Degraded')
      void this.d.events.record(before, 'Warning', 'Degraded', status.conditions?.find((x) => x.type === 'Degraded')?.message ?? ready?.message ?? '');
  }

  private async ensureStatus(raw: StorageCluster, status: StorageClusterStatus): Promise<void> {
    if (sameJson(raw.status, status)) return; // no write, no watch event, no self-triggered loop
    await this.d.applier.applyStatus(resources.storageClusters, raw, status);
  }

  private async serviceMonitorAvailable(c: StorageCluster): Promise<boolean> {
    if (!c.spec.monitoring.serviceMonitor) return false;
    const cached = this.serviceMonitorCrd;
    if (cached && Date.now() - cached.checkedAt < 5 * 60_000) return cached.exists;
    const exists = !!(await this.getOptional<V1CustomResourceDefinition>(resources.crds, undefined, SERVICE_MONITOR_CRD));
    this.serviceMonitorCrd = { exists, checkedAt: Date.now() };
    return exists;
  }

  /** A Secret key a notification target names that is not there keeps the pods from starting: say which. */
  private async checkNotificationSecrets(raw: StorageCluster, c: StorageCluster): Promise<void> {
    const ns = c.metadata.namespace;
    for (const s of notificationTargetsFile(c)?.secrets ?? []) {
      const secret = await this.getOptional<V1Secret>(resources.secrets, ns, s.secret);
      if (secret?.data?.[s.key] !== undefined || secret?.stringData?.[s.key] !== undefined) continue;
      await this.d.events.record(
        raw,
        'Warning',
        'NotificationSecretMissing',
        `spec.notifications.targets names key ${s.key} of Secret ${ns}/${s.secret}, which ${secret ? 'lacks it' : 'does not exist'}: pods cannot start until it does`,
      );
    }
  }

  private async getOptional<T>(r: ResourceRef, ns: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.d.rest.request<T>('GET', objectPath(r, ns, name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
