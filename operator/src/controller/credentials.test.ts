import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { masterKey } from '../../../node-runtime/src/node/keys.ts';
import { clusterCredentials, type Credentials, type ObservedCredentials } from './credentials.ts';

const secretOf = (data: Record<string, string>): V1Secret => ({
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});
const observed = (o: Partial<ObservedCredentials> = {}): ObservedCredentials => ({
  namespace: 'storage',
  clusterName: 'demo',
  clusterSecretName: 'demo-cluster-secret',
  initialized: false,
  ...o,
});
const made = (o: ObservedCredentials) => clusterCredentials(o) as Credentials;

test('a new cluster gets a cluster secret and a random master key of 32 bytes', () => {
  const a = made(observed());
  const b = made(observed());
  assert.is(Buffer.from(a.masterKey, 'base64').length, 32);
  assert.is.not(a.masterKey, b.masterKey);
  assert.is.not(a.clusterSecret, b.clusterSecret);
  assert.match(a.adminAccessKeyId, /^CK[A-Z2-7]{18}$/);
});

test('values the Secrets hold are read back, never made again', () => {
  const key = Buffer.alloc(32, 9).toString('base64');
  const c = made(
    observed({
      initialized: true,
      clusterSecret: secretOf({ secret: 's3cret', masterKey: key }),
      adminSecret: secretOf({ AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' }),
    }),
  );
  assert.equal(c, { clusterSecret: 's3cret', masterKey: key, adminAccessKeyId: 'AK', adminSecretAccessKey: 'SK' });
});

test('a cluster from before the master key was kept gets the key its pods derived and keep: the node accepts it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-credentials-'));
  try {
    // A pod of that cluster: no key given, so it derived one from the cluster secret and kept it.
    const kept = await masterKey(dir, { secret: 'old-cluster-secret' });
    const c = made(observed({ initialized: true, clusterSecret: secretOf({ secret: 'old-cluster-secret' }) }));
    assert.is(c.masterKey, kept.toString('base64'), 'the same key');
    // Restarted with the operator's key (CAIRN_MASTER_KEY), the pod starts: the key matches what it kept.
    assert.ok((await masterKey(dir, { masterKey: c.masterKey, secret: 'old-cluster-secret' })).equals(kept));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cluster Secret lost while the cluster exists is not made again: the message says how to restore it', () => {
  for (const clusterSecret of [undefined, secretOf({ masterKey: 'x' })]) {
    const lost = clusterCredentials(
      observed({ initialized: true, clusterSecret, adminSecret: secretOf({ AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' }) }),
    );
    assert.ok('lost' in lost, 'no new values');
    assert.match(lost.lost, 'the cluster Secret storage/demo-cluster-secret is gone');
    assert.match(lost.lost, 'Restore it from your backup');
    assert.match(lost.lost, 'kubectl exec -n storage demo-roots-0 -- printenv CAIRN_CLUSTER_SECRET CAIRN_MASTER_KEY');
    assert.match(lost.lost, 'kubectl create secret generic demo-cluster-secret -n storage --from-literal=secret=');
  }
});

test.run();
