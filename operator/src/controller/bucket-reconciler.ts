// Bucket reconcile: the finalizer state machine first, then ensureBucket (create/update through
// the admin API) → ensureCredentials (an access key scoped to the bucket, in a Secret owned by the
// Bucket) → ensureStatus. Deletion: purge the data when reclaimPolicy is Delete, always revoke the
// bucket's key, then drop the finalizer. Every step is idempotent.
import type { Logger } from '../../../node-runtime/src/util/log.ts';
import { BUCKET_FINALIZER, bucketSpecSchema, type Bucket, type BucketSpec, type BucketStatus } from '../api/bucket.ts';
import { quantityToBytes } from '../api/quantity.ts';
import { applyDefaults } from '../api/schema.ts';
import { storageClusterSpecSchema, type StorageCluster, type StorageClusterSpec } from '../api/storagecluster.ts';
import { childNames, clusterLabels, fileApiEndpoint, ownerReference } from '../builders/names.ts';
import type { Applier } from '../kube/apply.ts';
import type { EventRecorder } from '../kube/events.ts';
import { isNotFound, objectPath, resources, type KubeRest } from '../kube/rest.ts';
import { adminErrorOf, connectAdmin, type AdminClientFactory } from './admin.ts';
import { setConditions, type ConditionInput } from './conditions.ts';
import { addFinalizerPatch, finalizerAction, removeFinalizerPatch } from './finalizer.ts';
import { TerminalError, type ReconcileResult } from './queue.ts';
import { sameJson } from './same-json.ts';

export const BUCKET_LABEL = 'storage.cairn.dev/bucket';

export interface BucketReconcilerDeps {
  rest: KubeRest;
  applier: Applier;
  events: EventRecorder;
  adminFactory: AdminClientFactory;
  log: Logger;
}

export const bucketNameOf = (b: Bucket) => b.spec.bucketName ?? b.metadata.name;
export const credentialsSecretOf = (b: Bucket) => b.spec.credentials?.secretName ?? `${b.metadata.name}-credentials`;

export class BucketReconciler {
  private readonly d: BucketReconcilerDeps;
  constructor(deps: BucketReconcilerDeps) { this.d = deps; }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const log = this.d.log.child({ bucket: key });
    let raw: Bucket;
    try {
      raw = await this.d.rest.request('GET', objectPath(resources.buckets, namespace, name));
    } catch (e) {
      if (isNotFound(e)) return {};
      throw e;
    }
    const bucket: Bucket = { ...raw, spec: applyDefaults<BucketSpec>(bucketSpecSchema, raw.spec ?? {}) };

    switch (finalizerAction(raw.metadata, BUCKET_FINALIZER)) {
      case 'none': return {};
      case 'add':
        await this.d.applier.jsonPatch(resources.buckets, namespace, name, addFinalizerPatch(raw.metadata, BUCKET_FINALIZER));
        return {};   // the patch's watch event brings the key back with the finalizer in place
      case 'cleanup':
        await this.cleanup(bucket, log);
        await this.d.applier.jsonPatch(resources.buckets, namespace, name, removeFinalizerPatch(raw.metadata, BUCKET_FINALIZER));
        return {};
      case 'apply':
        return this.apply(bucket, log);
    }
  }

  private async apply(b: Bucket, log: Logger): Promise<ReconcileResult> {
    const target = await this.cluster(b);
    if (!target.cluster) {
      await this.ensureStatus(b, { phase: 'Pending' }, { type: 'Ready', status: 'False', reason: 'ClusterNotFound', message: target.error });
      return { requeueAfterMs: 30_000 };
    }
    const { cluster, secret } = target;
    const admin = await connectAdmin(this.d.adminFactory, cluster, secret);
    if (!admin.client) {
      await this.ensureStatus(b, { phase: 'Pending' }, { type: 'Ready', status: 'False', reason: 'ClusterUnavailable', message: `admin API unreachable: ${admin.error}` });
      return { requeueAfterMs: 10_000 };
    }
    const bucketName = bucketNameOf(b);
    const replicas = b.spec.replication?.factor ?? cluster.spec.replication.factor;
    let state;
    try {
      // ensureBucket
      state = await admin.client.putBucket({
        name: bucketName, replicas, access: b.spec.access,
        ...(b.spec.quota?.bytes !== undefined ? { quotaBytes: quantityToBytes(b.spec.quota.bytes) } : {}),
        ...(b.spec.quota?.objects !== undefined ? { quotaObjects: b.spec.quota.objects } : {}),
      });
    } catch (e) {
      const err = adminErrorOf(e);
      if (err.status >= 400 && err.status < 500) {
        await this.ensureStatus(b, { phase: 'Failed' }, { type: 'Ready', status: 'False', reason: err.code, message: err.message });
        await this.d.events.record(b as never, 'Warning', err.code, err.message);
        throw new TerminalError(err.code, err.message);
      }
      throw e;
    }

    // ensureCredentials: keep the key in the Secret if there is one; otherwise mint a scoped key.
    const secretName = credentialsSecretOf(b);
    const existing = await this.getOptional(resources.secrets, b.metadata.namespace, secretName);
    const dec = (k: string) => (existing?.data?.[k] ? Buffer.from(existing.data[k], 'base64').toString('utf8') : undefined);
    let accessKeyId = dec('AWS_ACCESS_KEY_ID');
    let secretAccessKey = dec('AWS_SECRET_ACCESS_KEY');
    if (!accessKeyId || !secretAccessKey) {
      const key = await admin.client.createKey({ name: `bucket:${b.metadata.namespace}/${b.metadata.name}`, buckets: [bucketName] });
      accessKeyId = key.accessKeyId;
      secretAccessKey = key.secretAccessKey;
      // A key whose Secret was lost is revoked, not leaked.
      if (b.status?.accessKeyId && b.status.accessKeyId !== accessKeyId) await admin.client.deleteKey(b.status.accessKeyId).catch(() => undefined);
      log.info({ accessKeyId }, 'created bucket access key');
    }
    const endpoint = fileApiEndpoint(cluster);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    await this.d.applier.apply({
      apiVersion: 'v1', kind: 'Secret',
      metadata: {
        name: secretName, namespace: b.metadata.namespace,
        labels: { ...clusterLabels(cluster, 'bucket-credentials'), [BUCKET_LABEL]: b.metadata.name },
        ownerReferences: [ownerReference(b)],
      },
      type: 'Opaque',
      data: { AWS_ACCESS_KEY_ID: b64(accessKeyId), AWS_SECRET_ACCESS_KEY: b64(secretAccessKey), S3_ENDPOINT: b64(endpoint), BUCKET_NAME: b64(bucketName), AWS_REGION: b64(cluster.spec.region) },
    } as never);

    // Changing R converges in the background; report the cluster's repair progress until it is done.
    const repair = admin.status.repair;
    const converging = (b.status?.replicas !== undefined && b.status.replicas !== replicas) || (state.replicas === replicas && (repair.underReplicatedChunks > 0 || repair.misplacedChunks > 0) && b.status?.phase === 'Converging');
    const ready: ConditionInput = converging
      ? { type: 'Ready', status: 'True', reason: 'Converging', message: `replication ${b.status?.replicas ?? '?'} → ${replicas}: ${repair.underReplicatedChunks} under-replicated, ${repair.misplacedChunks} misplaced chunks in the cluster` }
      : { type: 'Ready', status: 'True', reason: 'BucketReady', message: `bucket ${bucketName} served at ${endpoint}` };
    await this.ensureStatus(b, {
      phase: converging ? 'Converging' : 'Ready',
      bucketName, endpoint, credentialsSecret: secretName, accessKeyId, replicas: state.replicas,
      usage: { bytes: state.bytes, objects: state.objects },
    }, ready);
    return { requeueAfterMs: converging ? 5_000 : 60_000 };
  }

  private async cleanup(b: Bucket, log: Logger): Promise<void> {
    const target = await this.cluster(b);
    if (!target.cluster) {
      // Nothing left to clean: the cluster (and its data) is gone.
      log.warn({ reason: target.error }, 'cluster gone; releasing bucket without cleanup');
      return;
    }
    const admin = await connectAdmin(this.d.adminFactory, target.cluster, target.secret);
    if (!admin.client) throw new Error(`cannot clean up bucket: admin API unreachable: ${admin.error}`);
    const name = bucketNameOf(b);
    if (b.spec.reclaimPolicy === 'Delete') {
      try {
        await admin.client.deleteBucket(name, { purge: true });
        await this.d.events.record(b as never, 'Normal', 'BucketDeleted', `bucket ${name} and its objects deleted (reclaimPolicy Delete)`);
      } catch (e) {
        if (adminErrorOf(e).status !== 404) throw e;
      }
    } else {
      await this.d.events.record(b as never, 'Normal', 'BucketRetained', `bucket ${name} kept in the cluster (reclaimPolicy Retain)`);
    }
    if (b.status?.accessKeyId) {
      try { await admin.client.deleteKey(b.status.accessKeyId); } catch (e) { if (adminErrorOf(e).status !== 404) throw e; }
    }
    log.info({ reclaimPolicy: b.spec.reclaimPolicy }, 'bucket released');
  }

  private async cluster(b: Bucket): Promise<{ cluster: StorageCluster; secret: string } | { cluster?: undefined; error: string }> {
    const ns = b.spec.clusterRef.namespace ?? b.metadata.namespace;
    const raw = await this.getOptional(resources.storageClusters, ns, b.spec.clusterRef.name);
    if (!raw || raw.metadata.deletionTimestamp) return { error: `StorageCluster ${ns}/${b.spec.clusterRef.name} not found` };
    const cluster: StorageCluster = { ...raw, spec: applyDefaults<StorageClusterSpec>(storageClusterSpecSchema, raw.spec ?? {}) };
    const secretObj = await this.getOptional(resources.secrets, ns, childNames(cluster.metadata.name).clusterSecret);
    if (!secretObj?.data?.secret) return { error: `StorageCluster ${ns}/${cluster.metadata.name} has no cluster secret yet` };
    return { cluster, secret: Buffer.from(secretObj.data.secret, 'base64').toString('utf8') };
  }

  private async ensureStatus(b: Bucket, fields: Partial<BucketStatus>, ready: ConditionInput): Promise<void> {
    const status: BucketStatus = {
      ...fields,
      observedGeneration: b.metadata.generation,
      conditions: setConditions(b.status?.conditions, [ready], new Date(), b.metadata.generation),
    };
    if (sameJson(b.status, status)) return;
    await this.d.applier.applyStatus(resources.buckets, b, status);
  }

  private async getOptional(r: typeof resources[keyof typeof resources], ns: string | undefined, name: string): Promise<any> {
    try { return await this.d.rest.request('GET', objectPath(r, ns, name)); } catch (e) { if (isNotFound(e)) return undefined; throw e; }
  }
}

