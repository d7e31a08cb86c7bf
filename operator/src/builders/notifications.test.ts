// The rendered targets file is what the node runtime reads (its own parser, secrets as the mounted
// files), and every pod mounts it and its Secret keys and is pointed at it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTargets } from '../../../node-runtime/src/node/targets-file.ts';
import { fixtureCluster, fixtureInputs } from '../../test/fixtures.ts';
import { desiredClusterChildren, type KubeObject } from './children.ts';
import { notificationTargetsFile } from './notifications.ts';

const cluster = () =>
  fixtureCluster({
    notifications: {
      targets: [
        {
          name: 'jobs',
          redis: { address: 'redis.apps:6379', stream: 'cairn', streamMaxLen: 1000, passwordSecretRef: { name: 'redis', key: 'password' } },
          timeoutSeconds: 2,
        },
        { name: 'thumbs', webhook: { url: 'https://thumbs.apps/hook', bearerTokenSecretRef: { name: 'hooks', key: 'thumbs' } } },
        { name: 'audit', webhook: { url: 'http://audit.apps/in' } },
      ],
    },
  });

test('the targets file is what the node runtime parses, secrets read from the mounted files', async () => {
  const f = notificationTargetsFile(cluster())!;
  const files: Record<string, string> = { 'secrets/jobs/password': 'pw\n', 'secrets/thumbs/token': 'tok' }; // relative to the targets file
  const specs = await parseTargets(f.text, async (p) => {
    if (!(p in files)) throw new Error(`no file ${p}`);
    return files[p];
  });
  assert.equal(specs, [
    {
      name: 'jobs',
      kind: 'redis',
      address: 'redis.apps:6379',
      stream: 'cairn',
      streamMaxLen: 1000,
      password: 'pw',
      connectTimeoutMs: 2000,
      commandTimeoutMs: 2000,
    },
    { name: 'thumbs', kind: 'webhook', url: 'https://thumbs.apps/hook', bearerToken: 'tok' },
    { name: 'audit', kind: 'webhook', url: 'http://audit.apps/in' },
  ]);
  assert.equal(f.secrets, [
    { secret: 'redis', key: 'password', path: 'secrets/jobs/password' },
    { secret: 'hooks', key: 'thumbs', path: 'secrets/thumbs/token' },
  ]);
  assert.is(notificationTargetsFile(fixtureCluster()), undefined);
});

test('every pod mounts the targets file and its Secret keys and runs with --notification-targets; a change rolls the pods', () => {
  const objs = desiredClusterChildren(fixtureInputs(cluster()));
  const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'demo-notifications') as KubeObject & { data: Record<string, string> };
  assert.ok(cm, 'the targets ConfigMap');
  assert.not.match(JSON.stringify(cm), 'pw', 'no secret value in it');
  for (const name of ['demo-roots', 'demo-nodes']) {
    const pod = (objs.find((o) => o.kind === 'StatefulSet' && o.metadata.name === name) as any).spec.template.spec;
    const args: string[] = pod.containers[0].args;
    assert.equal(args.slice(args.indexOf('--notification-targets'), args.indexOf('--notification-targets') + 2), [
      '--notification-targets',
      '/etc/cairn/notifications/targets.json',
    ]);
    assert.equal(pod.volumes.find((v: any) => v.name === 'notifications').projected.sources, [
      { configMap: { name: 'demo-notifications', items: [{ key: 'targets.json', path: 'targets.json' }] } },
      { secret: { name: 'redis', items: [{ key: 'password', path: 'secrets/jobs/password' }] } },
      { secret: { name: 'hooks', items: [{ key: 'thumbs', path: 'secrets/thumbs/token' }] } },
    ]);
    assert.equal(
      pod.containers[0].volumeMounts.filter((m: any) => m.name === 'notifications').map((m: any) => m.mountPath),
      ['/etc/cairn/notifications'],
    );
  }
  const hash = (objs: KubeObject[]) => (objs.find((o) => o.kind === 'StatefulSet') as any).spec.template.metadata.annotations['storage.cairn.dev/config-hash'];
  const plain = desiredClusterChildren(fixtureInputs());
  assert.is.not(hash(objs), hash(plain), 'targets change the config hash');
  assert.not.ok(
    plain.some((o) => o.metadata.name === 'demo-notifications'),
    'no targets, no ConfigMap',
  );
  assert.not.match(JSON.stringify(plain), 'notification', 'no targets, nothing mounted');
});

test.run();
