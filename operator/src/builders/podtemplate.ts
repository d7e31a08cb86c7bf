// The one Cairn container both StatefulSets run: `cairn server --role <role>` with its identity
// from the downward API, secrets from the cluster and admin Secrets (the cluster secret, the master
// key, the root key pair), settings from the ConfigMap.
import { Duration, Size } from 'cdk8s';
import { Cpu, Env, EnvFieldPaths, EnvValue, type ImagePullPolicy, Probe, Secret, Volume, type ConfigMap, type ContainerProps } from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { ClusterInputs } from './chart.ts';
import { API_PORT, CLUSTER_PORT, CONSOLE_PORT, childNames, rootUrls, type PodRole } from './names.ts';
import { FACTS_DIR, volumeKey, zoneKey } from './node-facts.ts';

export const DATA_DIR = '/data';
export const RUN_AS = 1000;

/** `facts` (node pods): the node facts ConfigMap, mounted so the node reads its zone and volume size. */
export function cairnContainer(scope: Construct, inputs: ClusterInputs, role: PodRole, config: ConfigMap, facts?: ConfigMap): ContainerProps {
  const c = inputs.cluster;
  const n = childNames(c.metadata.name);
  const clusterSecret = Secret.fromSecretName(scope, `${role}-cluster-secret-ref`, n.clusterSecret);
  const adminSecret = Secret.fromSecretName(scope, `${role}-admin-secret-ref`, n.adminSecret);
  return {
    name: 'cairn',
    image: c.spec.image,
    imagePullPolicy: c.spec.imagePullPolicy as ImagePullPolicy,
    command: ['cairn'],
    args: [
      'server',
      '--role',
      role,
      '--name',
      '$(POD_NAME)',
      '--api',
      `$(POD_IP):${API_PORT}`,
      '--cluster',
      `$(POD_IP):${CLUSTER_PORT}`,
      '--advertise',
      '$(POD_IP)',
      '--console',
      c.spec.console.enabled ? `$(POD_IP):${CONSOLE_PORT}` : 'off',
      '--data',
      DATA_DIR,
      '--roots',
      rootUrls(c).join(','),
      ...(facts ? ['--zone-file', `${FACTS_DIR}/${zoneKey('$(NODE_NAME)')}`, '--volume-size-file', `${FACTS_DIR}/${volumeKey('$(POD_NAME)')}`] : []),
    ],
    ports: [
      { number: API_PORT, name: 'api' },
      { number: CLUSTER_PORT, name: 'cluster' },
      ...(c.spec.console.enabled ? [{ number: CONSOLE_PORT, name: 'console' }] : []),
    ],
    envVariables: {
      POD_NAME: EnvValue.fromFieldRef(EnvFieldPaths.POD_NAME),
      POD_NAMESPACE: EnvValue.fromFieldRef(EnvFieldPaths.POD_NAMESPACE),
      POD_IP: EnvValue.fromFieldRef(EnvFieldPaths.POD_IP),
      ...(facts ? { NODE_NAME: EnvValue.fromFieldRef(EnvFieldPaths.NODE_NAME) } : {}),
      CAIRN_CLUSTER_SECRET: EnvValue.fromSecretValue({ secret: clusterSecret, key: 'secret' }),
      CAIRN_MASTER_KEY: EnvValue.fromSecretValue({ secret: clusterSecret, key: 'masterKey' }),
      CAIRN_ACCESS_KEY: EnvValue.fromSecretValue({ secret: adminSecret, key: 'AWS_ACCESS_KEY_ID' }),
      CAIRN_SECRET_KEY: EnvValue.fromSecretValue({ secret: adminSecret, key: 'AWS_SECRET_ACCESS_KEY' }),
    },
    envFrom: [Env.fromConfigMap(config)],
    readiness: Probe.fromHttpGet('/readyz', { port: CLUSTER_PORT, periodSeconds: Duration.seconds(5), failureThreshold: 3 }),
    liveness: Probe.fromHttpGet('/healthz', {
      port: CLUSTER_PORT,
      initialDelaySeconds: Duration.seconds(10),
      periodSeconds: Duration.seconds(10),
      failureThreshold: 6,
    }),
    resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(256), limit: Size.gibibytes(2) } },
    // The root filesystem is read-only; scratch space is an emptyDir, data the PVC at /data.
    volumeMounts: [
      { path: '/tmp', volume: Volume.fromEmptyDir(scope, `${role}-tmp`, 'tmp') },
      ...(facts ? [{ path: FACTS_DIR, readOnly: true, volume: Volume.fromConfigMap(scope, `${role}-facts`, facts, { name: 'node-facts' }) }] : []),
    ],
    securityContext: { ensureNonRoot: true, user: RUN_AS, group: RUN_AS, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
  };
}

/** The PVC template a StatefulSet mounts at /data (added with a JSON patch: cdk8s-plus-27 lacks it). */
export function dataClaimTemplate(size: string, storageClassName: string | undefined, labels: Record<string, string>) {
  return {
    metadata: { name: 'data', labels },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: size } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  };
}
