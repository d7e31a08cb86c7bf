// The values a StorageCluster's pods run with, from the Secrets that hold them (pure but for the
// random source): the cluster secret and the master key (the cluster Secret), the admin key pair
// (the admin Secret). Made once, when the cluster is new, and never again while it exists: every
// pod runs with them, the cluster secret lets members talk to each other, and the master key seals
// every stored secret key and every encrypted object's data key. A lost cluster Secret is reported
// (the cluster is Degraded) with how to restore it, never replaced with new values.
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { masterKeyFromSecret } from '../../../node-runtime/src/node/keys.ts';

export interface Credentials {
  clusterSecret: string;
  masterKey: string;
  adminAccessKeyId: string;
  adminSecretAccessKey: string;
}

export interface ObservedCredentials {
  namespace: string;
  clusterName: string;
  clusterSecretName: string;
  clusterSecret?: V1Secret;
  adminSecret?: V1Secret;
  /** The cluster's StatefulSets exist: its pods were given the cluster Secret's values. */
  initialized: boolean;
}

const decoded = (s: V1Secret | undefined, k: string) => (s?.data?.[k] ? Buffer.from(s.data[k], 'base64').toString('utf8') : undefined);

/**
 * The credentials to build the cluster with, or why there are none. A cluster Secret without a
 * master key is a cluster made before the operator kept one: its pods derived theirs from the
 * cluster secret and keep it in their data dirs, so the same derivation gives them the same key.
 */
export function clusterCredentials(o: ObservedCredentials, random: (n: number) => Buffer = randomBytes): Credentials | { lost: string } {
  const secret = decoded(o.clusterSecret, 'secret');
  if (!secret && o.initialized) return { lost: lostMessage(o) };
  const clusterSecret = secret ?? random(32).toString('base64url');
  return {
    clusterSecret,
    masterKey: decoded(o.clusterSecret, 'masterKey') ?? (secret ? masterKeyFromSecret(secret) : random(32)).toString('base64'),
    adminAccessKeyId: decoded(o.adminSecret, 'AWS_ACCESS_KEY_ID') ?? accessKeyId(random),
    adminSecretAccessKey: decoded(o.adminSecret, 'AWS_SECRET_ACCESS_KEY') ?? random(30).toString('base64url'),
  };
}

function lostMessage(o: ObservedCredentials): string {
  const s = `${o.namespace}/${o.clusterSecretName}`;
  const pod = `${o.clusterName}-roots-0`;
  return (
    `the cluster Secret ${s} is gone (or holds no secret): every pod runs with its cluster secret and master key, and new ones would ` +
    'cut the members off from each other and open no stored key or encrypted object, so the operator makes none and changes nothing ' +
    `until it is back. Restore it from your backup (kubectl apply -f ...); without one, a running pod still has both values: ` +
    `kubectl exec -n ${o.namespace} ${pod} -- printenv CAIRN_CLUSTER_SECRET CAIRN_MASTER_KEY, then ` +
    `kubectl create secret generic ${o.clusterSecretName} -n ${o.namespace} --from-literal=secret=<CAIRN_CLUSTER_SECRET> --from-literal=masterKey=<CAIRN_MASTER_KEY> ` +
    '(a pod with no CAIRN_MASTER_KEY derived its key from the cluster secret: give secret alone)'
  );
}

/** 20 upper-case letters and digits, like an AWS access key id. */
function accessKeyId(random: (n: number) => Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return 'CK' + [...random(18)].map((b) => alphabet[b % 32]).join('');
}
