// The I/O side of gated rollouts (decisions in rollout.ts): read each StatefulSet's pods, evaluate
// the gate for the pod that would go next, and set the partition on the desired StatefulSet before
// it is applied. Roots roll first (they hold no data: the next one may go once the others are
// ready); nodes start only when the roots are done, and each node waits for full redundancy.
import { request } from 'undici';
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { StorageCluster } from '../api/storagecluster.ts';
import type { KubeObject } from '../builders/chart.ts';
import { childNames, podSelector, selectorString, type PodRole } from '../builders/names.ts';
import { setPartition, TEMPLATE_HASH } from '../builders/rollout.ts';
import { collectionPath, resources, type KubeRest } from '../kube/rest.ts';
import type { AdminConnection } from './admin.ts';
import { maintenanceGate, planRollout, redundancyProblem, type MaintenanceBody, type RolloutPhase, type RolloutPod, type RolloutStep } from './rollout.ts';
import { ordinalOf } from './scaling.ts';

/** GET /maintenance of a member (cluster-port URL) with the cluster secret: its status and JSON body. */
export type MaintenanceProbe = (clusterUrl: string, secret: string) => Promise<{ status?: number; body?: MaintenanceBody }>;

export const probeMaintenance: MaintenanceProbe = async (url, secret) => {
  try {
    const res = await request(`${url.replace(/\/+$/, '')}/maintenance`, {
      headers: { authorization: `Bearer ${secret}` },
      headersTimeout: 3_000,
      bodyTimeout: 3_000,
    });
    const text = await res.body.text();
    let body: MaintenanceBody;
    try {
      body = JSON.parse(text) as MaintenanceBody;
    } catch {
      body = { reason: text.slice(0, 200) };
    }
    return { status: res.statusCode, body };
  } catch (e) {
    return { body: { reason: `unreachable: ${(e as Error).message}` } };
  }
};

export interface RolloutOutcome {
  role: PodRole;
  phase: RolloutPhase;
  partition: number;
  message: string;
  advanced?: number;
}

export interface RolloutContext {
  rest: KubeRest;
  probe: MaintenanceProbe;
  cluster: StorageCluster;
  children: KubeObject[];
  observed: { root?: V1StatefulSet; node?: V1StatefulSet };
  admin: AdminConnection;
  secret: string;
  now: Date;
}

const podOf = (p: V1Pod, sts: string): RolloutPod | undefined => {
  const ordinal = ordinalOf(p.metadata?.name ?? '', sts);
  if (ordinal === undefined) return undefined;
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    ordinal,
    revision: p.metadata?.labels?.['controller-revision-hash'],
    ready: ready?.status === 'True',
    terminating: !!p.metadata?.deletionTimestamp,
    createdAt: p.metadata?.creationTimestamp as unknown as string | undefined,
    readySince: ready?.status === 'True' ? (ready.lastTransitionTime as unknown as string | undefined) : undefined,
  };
};

/** Decide and set the partitions of both StatefulSets; what each rollout is doing, for status and Events. */
export async function ensureRollouts(x: RolloutContext): Promise<RolloutOutcome[]> {
  const out: RolloutOutcome[] = [];
  for (const role of ['root', 'node'] as const) {
    const c = x.cluster;
    const name = role === 'root' ? childNames(c.metadata.name).roots : childNames(c.metadata.name).nodes;
    const desired = x.children.find((o) => o.kind === 'StatefulSet' && o.metadata.name === name);
    const observed = x.observed[role];
    if (!desired || !observed) continue; // created with every pod held; nothing to roll yet
    const replicas = (desired.spec as { replicas: number }).replicas;
    const pods = (
      await x.rest.request<{ items: V1Pod[] }>('GET', collectionPath(resources.pods, c.metadata.namespace), {
        query: { labelSelector: selectorString(podSelector(c, role)) },
      })
    ).items;
    const step = planRollout({
      replicas,
      updateRevision: observed.status?.updateRevision,
      observedPartition: observed.spec?.updateStrategy?.rollingUpdate?.partition,
      templateChanging: observed.metadata?.annotations?.[TEMPLATE_HASH] !== desired.metadata.annotations?.[TEMPLATE_HASH],
      pods: pods.map((p) => podOf(p, name)).filter((p): p is RolloutPod => !!p),
      podReadyTimeoutMs: c.spec.rollout.podReadyTimeoutSeconds * 1000,
      now: x.now,
    });
    let outcome: RolloutOutcome = { role, phase: step.phase, partition: step.partition, message: step.message };
    if (step.phase === 'ReadyForNext') {
      const problem = role === 'root' ? rootGate(x) : await nodeGate(x, out[0], name, step);
      outcome = problem
        ? { role, phase: 'WaitingForPod', partition: step.partition, message: `before replacing ${name}-${step.next}: ${problem}` }
        : { role, phase: 'ReadyForNext', partition: step.next!, advanced: step.next, message: `replacing ${name}-${step.next}` };
    }
    setPartition(x.children, name, outcome.partition);
    out.push(outcome);
  }
  return out;
}

function rootGate(x: RolloutContext): string | undefined {
  return x.admin.client ? undefined : `the roots' admin API does not answer: ${x.admin.error}`;
}

/** Full redundancy before the next node goes: the roots are done, no member down, fresh repair passes count nothing, its own probe agrees. */
async function nodeGate(x: RolloutContext, roots: RolloutOutcome | undefined, sts: string, step: RolloutStep): Promise<string | undefined> {
  if (roots && roots.phase !== 'Steady') return 'the roots roll first';
  if (!x.admin.client) return `the roots' admin API does not answer: ${x.admin.error}`;
  const members = x.admin.status.members;
  const nodes = members.filter((m) => ordinalOf(m.name, sts) !== undefined);
  const settled = step.settledSince ? Date.parse(step.settledSince) : 0;
  const next = nodes.find((m) => m.name === `${sts}-${step.next}` && m.state !== 'down');
  let maintenance = { ok: true, reason: 'not a member: holds nothing' };
  if (next) {
    const probed = await x.probe(next.cluster, x.secret);
    maintenance = maintenanceGate(probed.status, probed.body);
  }
  return redundancyProblem({
    membersDown: members.filter((m) => m.state === 'down').map((m) => m.name),
    membersNotActive: nodes.filter((m) => m.state === 'joining' || m.state === 'draining').map((m) => m.name),
    underReplicatedChunks: x.admin.status.repair.underReplicatedChunks,
    stalePasses: nodes.filter((m) => m.state === 'active' && (m.repair.lastPassAt ?? 0) < settled).map((m) => m.name),
    maintenance,
  });
}
