import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtureBucket, fixtureCluster } from '../../test/fixtures.ts';
import { bucketCredentialsSecret, keyInSecret } from './bucket-secret.ts';

const key = { accessKeyId: 'CKBUCKETKEY000000000', secretAccessKey: 'bucket-secret' };
const decoded = (data: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

test('the credentials Secret carries the key, endpoint, bucket and region, owned by the Bucket', () => {
  const s = bucketCredentialsSecret(fixtureBucket(), fixtureCluster({ region: 'eu-west-1' }), key);
  assert.equal([s.kind, s.metadata.name, s.metadata.namespace, s.type], ['Secret', 'photos-credentials', 'storage', 'Opaque']);
  assert.equal(decoded(s.data), {
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    S3_ENDPOINT: 'http://demo.storage.svc.cluster.local:9000',
    BUCKET_NAME: 'photos',
    AWS_REGION: 'eu-west-1',
  });
  assert.equal(s.metadata.ownerReferences, [
    {
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'Bucket',
      name: 'photos',
      uid: '5d1f7a2b-2222-4333-8444-555566667777',
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.is(s.metadata.labels?.['storage.cairn.dev/bucket'], 'photos');
  assert.is(s.metadata.labels?.['app.kubernetes.io/managed-by'], 'cairn-operator', 'the operator watches what it manages');
});

test('spec.credentials.secretName and spec.bucketName name the Secret and the bucket', () => {
  const s = bucketCredentialsSecret(fixtureBucket({ bucketName: 'team-photos', credentials: { secretName: 'app-s3' } }), fixtureCluster(), key);
  assert.is(s.metadata.name, 'app-s3');
  assert.is(decoded(s.data).BUCKET_NAME, 'team-photos');
});

test('the key is read back only when the Secret holds a whole one', () => {
  assert.equal(keyInSecret(bucketCredentialsSecret(fixtureBucket(), fixtureCluster(), key)), key);
  assert.is(keyInSecret(undefined), undefined);
  assert.is(keyInSecret({ data: { AWS_ACCESS_KEY_ID: Buffer.from('x').toString('base64') } }), undefined);
});

test.run();
