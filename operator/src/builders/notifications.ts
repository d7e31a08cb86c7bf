// The cluster's notification targets (spec.notifications.targets) as the node runtime reads them:
// a targets file (`cairn server --notification-targets FILE`) in a ConfigMap, and the Secret keys it
// names as files beside it (passwordFile, bearerTokenFile, relative to the targets file), all in one
// projected volume, so no secret value passes through the operator or a ConfigMap. Every pod (roots answer file requests too) gets the same
// file: each delivers the events of the writes it coordinated. Pure.
import { JsonPatch, type Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import type { StorageCluster } from '../api/storagecluster.ts';
import { patchRendered } from './chart.ts';
import { childNames, clusterLabels } from './names.ts';

export const NOTIFICATIONS_DIR = '/etc/cairn/notifications';
const FILE = 'targets.json';

type Targets = NonNullable<NonNullable<StorageCluster['spec']['notifications']>['targets']>;
interface SecretFile {
  secret: string;
  key: string;
  path: string;
}

/** The targets file's text (JSON, which the node runtime's YAML reader takes) and the Secret keys it reads; undefined: no targets. */
export function notificationTargetsFile(c: StorageCluster): { text: string; secrets: SecretFile[] } | undefined {
  const targets: Targets = c.spec.notifications?.targets ?? [];
  if (!targets.length) return undefined;
  const secrets: SecretFile[] = [];
  const file = (ref: { name: string; key: string } | undefined, target: string, what: string) => {
    if (!ref) return undefined;
    const path = `secrets/${target}/${what}`;
    secrets.push({ secret: ref.name, key: ref.key, path });
    return path;
  };
  const ms = (s: number | undefined) => (s === undefined ? undefined : s * 1000);
  const out = targets.map((t) =>
    t.redis
      ? clean({
          name: t.name,
          kind: 'redis',
          address: t.redis.address,
          list: t.redis.list,
          stream: t.redis.stream,
          streamMaxLen: t.redis.streamMaxLen,
          db: t.redis.db,
          username: t.redis.username,
          passwordFile: file(t.redis.passwordSecretRef, t.name, 'password'),
          connectTimeoutMs: ms(t.timeoutSeconds),
          commandTimeoutMs: ms(t.timeoutSeconds),
        })
      : clean({
          name: t.name,
          kind: 'webhook',
          url: t.webhook!.url,
          bearerTokenFile: file(t.webhook!.bearerTokenSecretRef, t.name, 'token'),
          timeoutMs: ms(t.timeoutSeconds),
        }),
  );
  return { text: JSON.stringify({ targets: out }, null, 2) + '\n', secrets };
}

const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export function notificationsConfigMap(chart: Chart, c: StorageCluster, text: string): k8s.KubeConfigMap {
  return new k8s.KubeConfigMap(chart, 'notifications', {
    metadata: { name: childNames(c.metadata.name).notifications, labels: clusterLabels(c, 'notifications') },
    data: { [FILE]: text },
  });
}

/** Mount the targets file and its Secret keys (one projected volume) into a StatefulSet's pods and point the server at it. */
export function mountNotifications(chart: Chart, c: StorageCluster, statefulSet: string, secrets: readonly SecretFile[]): void {
  const bySecret = new Map<string, { key: string; path: string }[]>();
  for (const s of secrets) bySecret.set(s.secret, [...(bySecret.get(s.secret) ?? []), { key: s.key, path: s.path }]);
  const sources = [
    { configMap: { name: childNames(c.metadata.name).notifications, items: [{ key: FILE, path: FILE }] } },
    ...[...bySecret].map(([name, items]) => ({ secret: { name, items } })),
  ];
  patchRendered(
    chart,
    'StatefulSet',
    statefulSet,
    // 0440: the pod's user and group (fsGroup) read it, nobody else.
    JsonPatch.add('/spec/template/spec/volumes/-', { name: 'notifications', projected: { defaultMode: 0o440, sources } }),
    JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', { name: 'notifications', mountPath: NOTIFICATIONS_DIR, readOnly: true }),
    JsonPatch.add('/spec/template/spec/containers/0/args/-', '--notification-targets'),
    JsonPatch.add('/spec/template/spec/containers/0/args/-', `${NOTIFICATIONS_DIR}/${FILE}`),
  );
}
