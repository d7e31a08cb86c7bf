import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtureBucket } from '../../test/fixtures.ts';
import { replicationPlan } from './bucket-replication.ts';

const to = { endpoint: 'https://b.example', bucket: 'copy', credentialsSecret: { name: 'creds' } };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = { data: { AWS_ACCESS_KEY_ID: b64('AK'), AWS_SECRET_ACCESS_KEY: b64('SK') } };

test("the rule with the Secret's key; a missing Secret or key says which; unset: stop only what the operator started", () => {
  assert.equal(replicationPlan(fixtureBucket({ replication: { to } }), secret), {
    replicateTo: { endpoint: 'https://b.example', bucket: 'copy', region: 'us-east-1', accessKeyId: 'AK', secretAccessKey: 'SK', deletes: false },
  });
  assert.match((replicationPlan(fixtureBucket({ replication: { to } }), undefined) as { missing: string }).missing, 'Secret storage/creds');
  assert.match((replicationPlan(fixtureBucket({ replication: { to } }), { data: {} }) as { missing: string }).missing, 'no AWS_ACCESS_KEY_ID');
  assert.equal(replicationPlan(fixtureBucket(), undefined), {});
  assert.equal(replicationPlan({ ...fixtureBucket(), status: { replicationTo: { endpoint: 'https://b.example', bucket: 'copy' } } }, undefined), {
    replicateTo: null,
  });
});

test.run();
