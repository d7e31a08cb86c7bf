// Bucket reconcile: the finalizer state machine first, then an ordered chain of ensureX steps, as
// the cluster reconciler does: ensureCluster (the StorageCluster named by clusterRef and its admin
// API; when the cluster is gone, the credentials Secret goes too) → planSharing (the Buckets
// spec.sharedWith names, sharing.ts) → ensureBucket (create/update through the admin API: owner,
// claim, grants, default encryption; a name another Bucket holds is NameTaken and leaves this one
// without credentials) → ensureCredentials (the key of the Bucket's own user, in a Secret owned by
// the Bucket) → ensureStatus. Deletion: purge the data when reclaimPolicy is Delete, always
// revoke the bucket's key, then drop the finalizer. (reclaimPolicy is about the bucket's data; the
// Secret is derived state and follows the cluster whatever the policy.) Every step is idempotent,
// and every error either fails the reconcile (retried with backoff) or is reported in status.
import type { V1Secret } from '@kubernetes/client-node';
import type { BucketStatus as BucketState, UserRequest } from '../../../node-runtime/src/admin/types.ts';
import type { Logger } from '../../../node-runtime/src/util/log.ts';
import { BUCKET_FINALIZER, bucketSpecSchema, type Bucket, type BucketSpec, type BucketStatus } from '../api/bucket.ts';
import { quantityToBytes } from '../api/quantity.ts';
import { applyDefaults } from '../api/schema.ts';
import { storageClusterSpecSchema, type StorageCluster, type StorageClusterSpec } from '../api/storagecluster.ts';
import { bucketCredentialsSecret, bucketNameOf, credentialsSecretOf, keyInSecret, type BucketKey } from '../builders/bucket-secret.ts';
import { childNames, fileApiEndpoint } from '../builders/names.ts';
import type { Applier } from '../kube/apply.ts';
import type { EventRecorder } from '../kube/events.ts';
import { isConflict, isNotFound, objectPath, resources, type KubeRest, type ResourceRef } from '../kube/rest.ts';
import { notificationRulesStatus, notificationsRequest } from './bucket-notifications.ts';
import { replicationPlan, replicationToStatus, type ReplicationPlan } from './bucket-replication.ts';
import { adminErrorOf, connectAdmin, type AdminClientFactory, type AdminConnection } from './admin.ts';
import { bucketUserOf as userOf, refOf, sharedWithRefs, type BucketRef } from './bucket-relations.ts';
import { setConditions, type ConditionInput } from './conditions.ts';
import { addFinalizerPatch, finalizerAction, removeFinalizerPatch } from './finalizer.ts';
import { TerminalError, type ReconcileResult } from './queue.ts';
import { sameJson } from './same-json.ts';
import { CADENCE, STATUS_FRESHNESS_MS } from './cadence.ts';
import { grantsCondition, grantsInEffect, grantsReceived, planGrants, type Grant, type GrantPlan } from './sharing.ts';

export interface BucketReconcilerDeps {
  rest: KubeRest;
  applier: Applier;
  events: EventRecorder;
  adminFactory: AdminClientFactory;
  log: Logger;
}

type Admin = Extract<AdminConnection, { status: unknown }>;
interface Target {
  cluster: StorageCluster;
  admin: Admin;
}

/** Where the cluster a Bucket names stands: usable, not there (or going), or not ready for buckets yet. */
type ClusterLookup = { cluster: StorageCluster; secret: string } | { gone: string } | { notReady: string };

export class BucketReconciler {
  private readonly d: BucketReconcilerDeps;
  constructor(deps: BucketReconcilerDeps) {
    this.d = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const log = this.d.log.child({ bucket: key });
    const raw = await this.getOptional<Bucket>(resources.buckets, namespace, name);
    if (!raw) return {};
    const bucket: Bucket = { ...raw, spec: applyDefaults<BucketSpec>(bucketSpecSchema, raw.spec ?? {}) };

    switch (finalizerAction(raw.metadata, BUCKET_FINALIZER)) {
      case 'none':
        return {};
      case 'add':
        await this.d.applier.jsonPatch(resources.buckets, namespace, name, addFinalizerPatch(raw.metadata, BUCKET_FINALIZER));
        return {}; // the patch's watch event brings the key back with the finalizer in place
      case 'cleanup':
        await this.cleanup(bucket, log);
        await this.d.applier.jsonPatch(resources.buckets, namespace, name, removeFinalizerPatch(raw.metadata, BUCKET_FINALIZER));
        return {};
      case 'apply': {
        const target = await this.ensureCluster(bucket);
        if ('pending' in target) return target.pending;
        const sharing = await this.planSharing(bucket);
        const replication = await this.planReplication(bucket);
        if ('missing' in replication) {
          await this.ensureStatus(
            bucket,
            { phase: 'Pending', ...keptByOperator(bucket) },
            { type: 'Ready', status: 'False', reason: 'ReplicationSecretMissing', message: replication.missing },
          );
          return { requeueAfterMs: 10_000 };
        }
        const state = await this.ensureBucket(bucket, target, sharing, replication);
        if ('nameTaken' in state) return this.ensureNameTaken(bucket, target, state.nameTaken, log);
        const key = await this.ensureCredentials(bucket, target, log);
        await this.recordSharing(bucket, sharing);
        return this.ensureReadyStatus(bucket, target, state, key, sharing);
      }
    }
  }

  /** The cluster and a live admin connection, or a Pending status and when to look again. */
  private async ensureCluster(b: Bucket): Promise<Target | { pending: ReconcileResult }> {
    const found = await this.findCluster(b);
    if ('gone' in found) {
      await this.ensureNoCredentials(b, `${found.gone}; its key went with the cluster`);
      await this.ensureStatus(b, { phase: 'Pending' }, { type: 'Ready', status: 'False', reason: 'ClusterNotFound', message: found.gone });
      return { pending: { requeueAfterMs: 30_000 } };
    }
    if ('notReady' in found) {
      await this.ensureStatus(b, { phase: 'Pending' }, { type: 'Ready', status: 'False', reason: 'ClusterNotReady', message: found.notReady });
      return { pending: { requeueAfterMs: 10_000 } };
    }
    const admin = await connectAdmin(this.d.adminFactory, found.cluster, found.secret);
    if (!admin.client) {
      await this.ensureStatus(
        b,
        { phase: 'Pending' },
        { type: 'Ready', status: 'False', reason: 'ClusterUnavailable', message: `admin API unreachable: ${admin.error}` },
      );
      return { pending: { requeueAfterMs: 10_000 } };
    }
    return { cluster: found.cluster, admin };
  }

  /**
   * Create or update the bucket; its name claimed by another Bucket is NameTaken (handled by the
   * caller); any other request the cluster refuses (4xx) is reported and not retried.
   */
  /** spec.replication.to with its credentials Secret read now. */
  private async planReplication(b: Bucket): Promise<ReplicationPlan> {
    const name = b.spec.replication?.to?.credentialsSecret.name;
    return replicationPlan(b, name ? await this.getOptional<V1Secret>(resources.secrets, b.metadata.namespace, name) : undefined);
  }

  private async ensureBucket(
    b: Bucket,
    { cluster, admin }: Target,
    sharing: GrantPlan,
    replication: Exclude<ReplicationPlan, { missing: string }>,
  ): Promise<BucketState | { nameTaken: string }> {
    try {
      // The Bucket's own user owns the bucket; the name is bound to this Bucket (a claim by any
      // other, in any namespace, is NameTaken). The users it grants to are made here too when their
      // Bucket has not been reconciled yet: a grant needs its user to exist.
      await admin.client.putUser(userRequestOf(refOf(b)));
      await this.ensureGrantees(admin, sharing.grants);
      return await admin.client.putBucket({
        name: bucketNameOf(b),
        owner: bucketUserOf(b),
        claim: { namespace: b.metadata.namespace!, name: b.metadata.name!, uid: b.metadata.uid! },
        replicas: this.replicasOf(b, cluster),
        access: b.spec.access,
        // Always the whole list: a grant left out of spec.sharedWith is withdrawn.
        grants: sharing.grants.map(({ user, access }) => ({ user, access })),
        ...(b.spec.encryption ? { encryption: b.spec.encryption.default === 'AES256' ? 'AES256' : null } : {}),
        ...(b.spec.quota?.bytes !== undefined ? { quotaBytes: quantityToBytes(b.spec.quota.bytes) } : {}),
        ...(b.spec.quota?.objects !== undefined ? { quotaObjects: b.spec.quota.objects } : {}),
        ...notificationsRequest(b),
        ...replication,
      });
    } catch (e) {
      const err = adminErrorOf(e);
      if (err.status < 400 || err.status >= 500) throw e;
      if (err.code === 'NameTaken') return { nameTaken: err.message };
      if (err.code === 'NoSuchUser') throw e; // a grantee's user deleted meanwhile: the retry makes it again
      // A refused change left the rules the operator had set in place: status keeps saying so.
      await this.ensureStatus(b, { phase: 'Failed', ...keptByOperator(b) }, { type: 'Ready', status: 'False', reason: err.code, message: err.message });
      await this.d.events.record(b, 'Warning', err.code, err.message);
      throw new TerminalError(err.code, err.message);
    }
  }

  /** The named Buckets as the API server has them now, and so the grants to apply and those that wait. */
  private async planSharing(b: Bucket): Promise<GrantPlan> {
    const refs = sharedWithRefs(b);
    const found = await Promise.all(refs.map((r) => this.getOptional<Bucket>(resources.buckets, r.namespace, r.name)));
    return planGrants(b, (r) => found[refs.findIndex((x) => x.namespace === r.namespace && x.name === r.name)]);
  }

  /** Make the users of granted Buckets that the cluster does not know yet (one list, not a write per grant). */
  private async ensureGrantees(admin: Admin, grants: Grant[]): Promise<void> {
    if (!grants.length) return;
    const known = admin.client.users ? new Set((await admin.client.users()).filter((u) => !u.disabled).map((u) => u.id)) : undefined;
    for (const g of grants) if (!known?.has(g.user)) await admin.client.putUser(userRequestOf(g.ref));
  }

  /** An Event when a grant starts waiting (or waits for something else), and when every grant is in effect again. */
  private async recordSharing(b: Bucket, sharing: GrantPlan): Promise<void> {
    const now = grantsCondition(sharing);
    const was = b.status?.conditions?.find((c) => c.type === 'GrantsApplied');
    if (now.status === 'False' && (was?.status !== 'False' || was.message !== now.message))
      await this.d.events.record(b, 'Warning', 'GrantPending', now.message);
    if (now.status === 'True' && was?.status === 'False') await this.d.events.record(b, 'Normal', 'GrantsApplied', now.message);
  }

  /**
   * Keep the key the Secret holds, or mint one scoped to the bucket; apply the Secret; then revoke a
   * key status still names that is no longer the Secret's (its Secret was lost). Revoking after the
   * apply means a failure at any point leaves the live key in the Secret, never a key nobody holds.
   */
  private async ensureCredentials(b: Bucket, { cluster, admin }: Target, log: Logger): Promise<BucketKey> {
    const existing = await this.getOptional<V1Secret>(resources.secrets, b.metadata.namespace, credentialsSecretOf(b));
    let key = keyInSecret(existing);
    if (!key) {
      key = await admin.client.createKey({ user: bucketUserOf(b) });
      log.info({ accessKeyId: key.accessKeyId }, 'created bucket access key');
    }
    await this.d.applier.apply(bucketCredentialsSecret(b, cluster, key));
    const stale = b.status?.accessKeyId;
    if (stale && stale !== key.accessKeyId) {
      await this.revokeKey(admin, stale);
      log.info({ accessKeyId: stale }, 'revoked the key of a lost credentials Secret');
    }
    return key;
  }

  /**
   * The bucket name belongs to another Bucket: this one gets no credentials. A Secret it holds from
   * before (a race it lost, a registry restored from a backup) is deleted and its keys revoked, so
   * it can reach nothing; its user stays (it owns nothing, and other Buckets may name it in their
   * grants). Not terminal: looked at again when a Bucket of the same name goes (the name may be
   * free then: controller/bucket-relations.ts) and, as a safety net, every few minutes.
   */
  private async ensureNameTaken(b: Bucket, { admin }: Target, why: string, log: Logger): Promise<ReconcileResult> {
    // Only a Secret this Bucket owns says which key is its own: never revoke a key named elsewhere.
    const secret = await this.getOptional<V1Secret>(resources.secrets, b.metadata.namespace, credentialsSecretOf(b));
    const held = secret?.metadata?.ownerReferences?.some((r) => r.uid === b.metadata.uid) ? keyInSecret(secret) : undefined;
    await this.ensureNoCredentials(b, why);
    for (const id of new Set([held?.accessKeyId, b.status?.accessKeyId].filter((x): x is string => !!x))) {
      await this.revokeKey(admin, id);
      log.info({ accessKeyId: id }, 'revoked the key of a Bucket whose name another Bucket holds');
    }
    if (b.status?.phase !== 'Failed' || b.status.conditions?.[0]?.reason !== 'NameTaken') log.warn({ reason: why }, 'bucket name taken');
    await this.ensureStatus(b, { phase: 'Failed', bucketName: bucketNameOf(b) }, { type: 'Ready', status: 'False', reason: 'NameTaken', message: why });
    await this.d.events.record(b, 'Warning', 'NameTaken', why);
    return { requeueAfterMs: 5 * 60_000 };
  }

  /**
   * No credentials for this Bucket (its cluster is gone, or its name is another's): delete the
   * credentials Secret so no app keeps a key that leads nowhere. Only a Secret this Bucket owns is
   * deleted, and only the one that was read (uid precondition).
   * Not an owner reference to the cluster: the garbage collector deletes a dependent only when every
   * owner is gone (the Bucket lives on), and owners cannot be in another namespace (clusterRef can).
   */
  private async ensureNoCredentials(b: Bucket, why: string): Promise<void> {
    const name = credentialsSecretOf(b);
    const secret = await this.getOptional<V1Secret>(resources.secrets, b.metadata.namespace, name);
    if (!secret?.metadata?.ownerReferences?.some((r) => r.uid === b.metadata.uid)) return;
    try {
      await this.d.rest.request('DELETE', objectPath(resources.secrets, b.metadata.namespace, name), { body: { preconditions: { uid: secret.metadata.uid } } });
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return; // already gone, or replaced by another: not ours to delete
      throw e;
    }
    await this.d.events.record(b, 'Normal', 'CredentialsDeleted', `${why}: deleted Secret ${name}`);
  }

  /**
   * Ready, or Converging while the bucket's objects are repaired to its factor: the cluster says a
   * bucket holds its factor only when every storage node planned with it and none has copies left to
   * make or drop (admin BucketStatus.replication), so status.replicas moves to a new factor only then.
   */
  private async ensureReadyStatus(b: Bucket, { cluster, admin }: Target, state: BucketState, key: BucketKey, sharing: GrantPlan): Promise<ReconcileResult> {
    const bucketName = bucketNameOf(b);
    const endpoint = fileApiEndpoint(cluster);
    const factor = this.replicasOf(b, cluster);
    const r = state.replication;
    // A cluster too old to say per bucket: the cluster-wide counts, as before.
    const repair = admin.status.repair;
    const converged = state.replicas === factor && (r ? r.converged : repair.underReplicatedChunks === 0 && repair.misplacedChunks === 0);
    const holds = converged ? factor : b.status?.replicas;
    const progress = r
      ? `${r.underReplicatedChunks} chunks below ${factor} copies, ${r.surplusChunks} surplus copies${r.waitingFor.length ? `, ${r.waitingFor.length} node(s) not planned with ${factor} yet` : ''}`
      : `${repair.underReplicatedChunks} under-replicated, ${repair.misplacedChunks} misplaced chunks in the cluster`;
    const ready: ConditionInput = converged
      ? { type: 'Ready', status: 'True', reason: 'BucketReady', message: `bucket ${bucketName} served at ${endpoint}; every object has ${factor} copies` }
      : { type: 'Ready', status: 'True', reason: 'Converging', message: `replication ${holds ?? '?'} → ${factor}: ${progress}` };
    if (converged && b.status?.phase === 'Converging')
      await this.d.events.record(b, 'Normal', 'ReplicationConverged', `every object of ${bucketName} has ${factor} copies`);
    if (!converged && b.status?.replication?.factor !== undefined && b.status.replication.factor !== factor) {
      await this.d.events.record(b, 'Normal', 'ReplicationChanging', `replication factor ${b.status.replication.factor} → ${factor}: repairing every object`);
    }
    // What the cluster holds: the grants on this bucket from its answer to the put, those on other
    // buckets for this Bucket's user from the status read at the start (a change of those brings
    // this Bucket back through the watch: bucket-relations.ts).
    const sharedWith = grantsInEffect(state);
    const sharedBy = grantsReceived(bucketUserOf(b), bucketName, admin.status);
    await this.ensureStatus(
      b,
      {
        phase: converged ? 'Ready' : 'Converging',
        bucketName,
        endpoint,
        credentialsSecret: credentialsSecretOf(b),
        accessKeyId: key.accessKeyId,
        owner: state.owner,
        encryption: state.encryption ?? 'None',
        ...(sharedWith.length ? { sharedWith } : {}),
        ...(sharedBy.length ? { sharedBy } : {}),
        ...(holds !== undefined ? { replicas: holds } : {}),
        replication: {
          factor,
          underReplicatedChunks: r?.underReplicatedChunks ?? repair.underReplicatedChunks,
          surplusChunks: r?.surplusChunks ?? repair.misplacedChunks,
          membersPending: r?.waitingFor.length ?? 0,
        },
        usage: { bytes: state.bytes, objects: state.objects },
        ...notificationRulesStatus(b, state),
        ...replicationToStatus(b, state),
      },
      ready,
      grantsCondition(sharing),
    );
    return { requeueAfterMs: converged ? STATUS_FRESHNESS_MS : CADENCE.convergingMs };
  }

  private async cleanup(b: Bucket, log: Logger): Promise<void> {
    const found = await this.findCluster(b);
    if ('gone' in found) {
      // Nothing left to clean: the cluster (and its data) is gone.
      log.warn({ reason: found.gone }, 'cluster gone; releasing bucket without cleanup');
      return;
    }
    if ('notReady' in found) throw new Error(`cannot clean up bucket: ${found.notReady}`);
    const admin = await connectAdmin(this.d.adminFactory, found.cluster, found.secret);
    if (!admin.client) throw new Error(`cannot clean up bucket: admin API unreachable: ${admin.error}`);
    const name = bucketNameOf(b);
    if (b.spec.reclaimPolicy === 'Delete') {
      try {
        await admin.client.deleteBucket(name, { purge: true });
        await this.d.events.record(b, 'Normal', 'BucketDeleted', `bucket ${name} and its objects deleted (reclaimPolicy Delete)`);
      } catch (e) {
        if (adminErrorOf(e).status !== 404) throw e;
      }
    } else {
      await this.d.events.record(b, 'Normal', 'BucketRetained', `bucket ${name} kept in the cluster (reclaimPolicy Retain)`);
    }
    if (b.status?.accessKeyId) await this.revokeKey(admin, b.status.accessKeyId);
    log.info({ reclaimPolicy: b.spec.reclaimPolicy }, 'bucket released');
  }

  /** Delete an access key; one that is already gone is what we wanted. */
  private async revokeKey(admin: Admin, accessKeyId: string): Promise<void> {
    try {
      await admin.client.deleteKey(accessKeyId);
    } catch (e) {
      if (adminErrorOf(e).status !== 404) throw e;
    }
  }

  private replicasOf(b: Bucket, cluster: StorageCluster): number {
    return b.spec.replication?.factor ?? cluster.spec.replication.factor;
  }

  private async findCluster(b: Bucket): Promise<ClusterLookup> {
    const ns = b.spec.clusterRef.namespace ?? b.metadata.namespace;
    const raw = await this.getOptional<StorageCluster>(resources.storageClusters, ns, b.spec.clusterRef.name);
    if (!raw || raw.metadata.deletionTimestamp) return { gone: `StorageCluster ${ns}/${b.spec.clusterRef.name} not found` };
    const cluster: StorageCluster = { ...raw, spec: applyDefaults<StorageClusterSpec>(storageClusterSpecSchema, raw.spec ?? {}) };
    const secret = await this.getOptional<V1Secret>(resources.secrets, ns, childNames(cluster.metadata.name).clusterSecret);
    if (!secret?.data?.secret)
      return { notReady: `StorageCluster ${ns}/${cluster.metadata.name} has no cluster Secret${cluster.status?.phase ? ' (see its status)' : ' yet'}` };
    return { cluster, secret: Buffer.from(secret.data.secret, 'base64').toString('utf8') };
  }

  private async ensureStatus(b: Bucket, fields: Partial<BucketStatus>, ...conditions: ConditionInput[]): Promise<void> {
    const status: BucketStatus = {
      ...fields,
      observedGeneration: b.metadata.generation,
      conditions: setConditions(b.status?.conditions, conditions, new Date(), b.metadata.generation),
    };
    if (sameJson(b.status, status)) return;
    await this.d.applier.applyStatus(resources.buckets, b, status);
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

/** The user a Bucket's Secret acts as: it owns the bucket and nothing else. */
const bucketUserOf = (b: Bucket) => userOf(refOf(b));

/** How a Bucket's user is made, by its own reconcile or by one that grants to it: the same either way. */
const userRequestOf = (ref: BucketRef): UserRequest => ({ id: userOf(ref), displayName: `Bucket ${ref.namespace}/${ref.name}` });

/** What the operator set on the cluster and must take back if the spec drops it: kept in status while it cannot reconcile. */
function keptByOperator(b: Bucket): Partial<BucketStatus> {
  return {
    ...(b.status?.notificationRules !== undefined ? { notificationRules: b.status.notificationRules } : {}),
    ...(b.status?.replicationTo?.endpoint ? { replicationTo: b.status.replicationTo } : {}),
  };
}
