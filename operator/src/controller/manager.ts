// Wires watches to work queues to reconcilers: StorageClusters and the StatefulSets and Secrets
// they own feed the cluster queue; Buckets, their Secrets, changes of their cluster and of the
// Buckets they relate to (bucket-relations.ts) feed the bucket queue. Events only enqueue keys;
// reconcilers read current state themselves.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../../node-runtime/src/util/log.ts';
import { BUCKET_PLURAL } from '../api/bucket.ts';
import { CLUSTER_LABEL, FIELD_MANAGER } from '../builders/names.ts';
import { Applier } from '../kube/apply.ts';
import { EventRecorder } from '../kube/events.ts';
import { resources, type KubeRest } from '../kube/rest.ts';
import { objectKey, Watcher, type KubeObject, type WatchEventType } from '../kube/watcher.ts';
import type { AdminClientFactory } from './admin.ts';
import { BucketReconciler } from './bucket-reconciler.ts';
import { concernsOthers, relatedBuckets } from './bucket-relations.ts';
import { ClusterReconciler } from './cluster-reconciler.ts';
import type { OperatorMetrics } from './metrics.ts';
import { WorkQueue, type ReconcileOutcome } from './queue.ts';
import { sameJson } from './same-json.ts';
import { tracedReconcile } from './tracing.ts';

export interface ControllerOptions {
  kc: KubeConfig;
  rest: KubeRest;
  adminFactory: AdminClientFactory;
  log: Logger;
  metrics: OperatorMetrics;
  namespace?: string; // watch one namespace; default all
  workers?: number;
  staleAfterMs?: number;
}

export interface Controllers {
  start(): void;
  stop(): Promise<void>;
  /** Informers synced and heard from recently (for /readyz). */
  healthy(): { ok: boolean; detail: Record<string, unknown> };
  clusterQueue: WorkQueue;
  bucketQueue: WorkQueue;
}

const managedBy = `app.kubernetes.io/managed-by=${FIELD_MANAGER}`;

function ownerKey(o: KubeObject, kind: string): string | undefined {
  const ref = (o.metadata.ownerReferences ?? []).find((r) => r.kind === kind && r.apiVersion?.startsWith('storage.cairn.dev/'));
  return ref ? `${o.metadata.namespace ?? ''}/${ref.name}` : undefined;
}

export function createControllers(o: ControllerOptions): Controllers {
  const applier = new Applier(o.kc, o.rest);
  const events = new EventRecorder(o.rest, o.log.child({ part: 'events' }));
  let nodeWatcher: Watcher | undefined;
  const clusters = new ClusterReconciler({
    rest: o.rest,
    applier,
    events,
    adminFactory: o.adminFactory,
    log: o.log.child({ controller: 'storagecluster' }),
    nodes: () => (nodeWatcher?.synced ? nodeWatcher.list() : undefined),
  });
  const bucketsR = new BucketReconciler({ rest: o.rest, applier, events, adminFactory: o.adminFactory, log: o.log.child({ controller: 'bucket' }) });
  const done = (controller: string) => (key: string, outcome: ReconcileOutcome, seconds: number, err?: unknown) => {
    o.metrics.observe(controller, outcome, seconds);
    if (err) o.log.warn({ controller, key, outcome, err: (err as Error).message }, 'reconcile failed');
    else o.log.debug({ controller, key, outcome, seconds }, 'reconciled');
  };
  const clusterQueue = new WorkQueue({ onDone: done('storagecluster') });
  const bucketQueue = new WorkQueue({ onDone: done('bucket') });
  o.metrics.trackDepth('storagecluster', () => clusterQueue.depth());
  o.metrics.trackDepth('bucket', () => bucketQueue.depth());

  const common = { kc: o.kc, rest: o.rest, namespace: o.namespace, staleAfterMs: o.staleAfterMs, log: o.log.child({ part: 'watch' }) };
  // Enqueue an owner only when something it cares about changed (not on no-op resourceVersion bumps).
  const changed = (type: WatchEventType, obj: KubeObject, old?: KubeObject) =>
    type !== 'MODIFIED' || !old || !sameJson(old.spec, obj.spec) || !sameJson(old.status, obj.status) || !sameJson(old.data, obj.data);

  let bucketWatcher: Watcher;
  const clusterWatcher = new Watcher({
    ...common,
    resource: resources.storageClusters,
    onEvent: (_t, obj) => {
      clusterQueue.add(objectKey(obj));
      // Buckets wait on their cluster (secret, readiness): let them know it changed.
      for (const b of bucketWatcher?.list() ?? []) {
        const ns = b.spec?.clusterRef?.namespace ?? b.metadata.namespace;
        if (ns === obj.metadata.namespace && b.spec?.clusterRef?.name === obj.metadata.name) bucketQueue.add(objectKey(b));
      }
    },
  });
  bucketWatcher = new Watcher({
    ...common,
    resource: { ...resources.buckets, plural: BUCKET_PLURAL },
    onEvent: (t, obj, old) => {
      bucketQueue.add(objectKey(obj));
      // A Bucket that goes frees its name for another (NameTaken); grants wait for Buckets and change what others may access.
      if (concernsOthers(t, obj, old)) for (const k of relatedBuckets(obj, old, bucketWatcher.list())) bucketQueue.add(k);
    },
  });
  const stsWatcher = new Watcher({
    ...common,
    resource: resources.statefulSets,
    labelSelector: managedBy,
    onEvent: (t, obj, old) => {
      const k = ownerKey(obj, 'StorageCluster');
      if (k && changed(t, obj, old)) clusterQueue.add(k);
    },
  });
  const secretWatcher = new Watcher({
    ...common,
    resource: resources.secrets,
    labelSelector: managedBy,
    onEvent: (t, obj, old) => {
      if (!changed(t, obj, old)) return;
      const c = ownerKey(obj, 'StorageCluster');
      if (c) clusterQueue.add(c);
      const b = ownerKey(obj, 'Bucket');
      if (b) bucketQueue.add(b);
    },
  });
  // Kubernetes Nodes (cluster-scoped): a new node or a changed zone label is a new fact for every cluster.
  nodeWatcher = new Watcher({
    ...common,
    namespace: undefined,
    resource: resources.nodes,
    onEvent: (t, obj, old) => {
      if (t === 'MODIFIED' && old && sameJson(old.metadata.labels, obj.metadata.labels)) return;
      for (const c of clusterWatcher.list()) clusterQueue.add(objectKey(c));
    },
  });
  // Node PVCs (created by the StatefulSet controller from our claim template, so labelled as ours):
  // a bound or resized claim changes the node facts and the volume expansion status.
  const claimWatcher = new Watcher({
    ...common,
    resource: resources.persistentVolumeClaims,
    labelSelector: managedBy,
    onEvent: (t, obj, old) => {
      const cluster = obj.metadata.labels?.[CLUSTER_LABEL];
      if (cluster && changed(t, obj, old)) clusterQueue.add(`${obj.metadata.namespace ?? ''}/${cluster}`);
    },
  });
  const watchers = {
    storageclusters: clusterWatcher,
    buckets: bucketWatcher,
    statefulsets: stsWatcher,
    secrets: secretWatcher,
    nodes: nodeWatcher,
    persistentvolumeclaims: claimWatcher,
  };
  const staleMs = 2 * (o.staleAfterMs ?? 330_000);
  let running: Promise<unknown> | undefined;

  return {
    clusterQueue,
    bucketQueue,
    start() {
      for (const w of Object.values(watchers)) w.start();
      running = Promise.all([
        clusterQueue.run(
          o.workers ?? 2,
          tracedReconcile('storagecluster', (k) => clusters.reconcile(k)),
        ),
        bucketQueue.run(
          o.workers ?? 2,
          tracedReconcile('bucket', (k) => bucketsR.reconcile(k)),
        ),
      ]);
    },
    async stop() {
      clusterQueue.stop();
      bucketQueue.stop();
      await Promise.all(Object.values(watchers).map((w) => w.stop()));
      await running;
    },
    healthy() {
      const now = Date.now();
      const detail = Object.fromEntries(
        Object.entries(watchers).map(([k, w]) => [k, { synced: w.synced, lastHeardSecondsAgo: Math.round((now - w.lastHeardAt) / 1000) }]),
      );
      const ok = Object.values(watchers).every((w) => w.synced && now - w.lastHeardAt < staleMs);
      return { ok, detail };
    },
  };
}
