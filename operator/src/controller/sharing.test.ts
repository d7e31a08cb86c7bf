import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BucketStatus as BucketState, ClusterStatus } from '../../../node-runtime/src/admin/types.ts';
import { fixtureBucket } from '../../test/fixtures.ts';
import type { BucketObject, BucketRef } from './bucket-relations.ts';
import { grantsCondition, grantsInEffect, grantsReceived, planGrants } from './sharing.ts';

const other = (namespace: string, name: string, spec: Record<string, unknown> = {}, deleting = false): BucketObject => ({
  metadata: { namespace, name, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { clusterRef: { name: 'demo', namespace: 'storage' }, ...spec },
});

const lookup =
  (...bs: BucketObject[]) =>
  (r: BucketRef) =>
    bs.find((b) => b.metadata.namespace === r.namespace && b.metadata.name === r.name);

test("grants go to the named Buckets' users in the same cluster; the rest wait, each with why", () => {
  const b = fixtureBucket(
    {
      sharedWith: [
        { bucketRef: { name: 'etl' }, access: 'read-write' }, // this namespace
        { bucketRef: { name: 'bi', namespace: 'team-b' }, access: 'read' }, // another, same cluster
        { bucketRef: { name: 'later', namespace: 'team-b' }, access: 'read' }, // not there yet
        { bucketRef: { name: 'going', namespace: 'team-b' }, access: 'read' }, // being deleted
        { bucketRef: { name: 'elsewhere', namespace: 'team-c' }, access: 'read' }, // another cluster
        { bucketRef: { name: 'photos', namespace: 'storage' }, access: 'read' }, // itself, spelled out
      ],
    },
    'photos',
    'storage',
  );
  const plan = planGrants(
    b,
    lookup(
      other('storage', 'etl', { clusterRef: { name: 'demo' } }), // clusterRef without a namespace: its own, the same
      other('team-b', 'bi'),
      other('team-b', 'going', {}, true),
      other('team-c', 'elsewhere', { clusterRef: { name: 'demo', namespace: 'team-c' } }),
    ),
  );
  assert.equal(plan.grants, [
    { ref: { namespace: 'storage', name: 'etl' }, user: 'bucket.storage.etl', access: 'read-write' },
    { ref: { namespace: 'team-b', name: 'bi' }, user: 'bucket.team-b.bi', access: 'read' },
  ]);
  assert.equal(
    plan.waiting.map((w) => [w.ref.name, w.reason]),
    [
      ['later', 'BucketNotFound'],
      ['going', 'BucketNotFound'],
      ['elsewhere', 'OtherCluster'],
      ['photos', 'SameBucket'],
    ],
  );
  const c = grantsCondition(plan);
  assert.equal([c.status, c.reason], ['False', 'BucketNotFound']);
  assert.match(c.message, 'Bucket team-b/later not found: granted read once it exists');
  assert.match(c.message, 'Bucket team-c/elsewhere uses StorageCluster team-c/demo, not storage/demo');
});

test('GrantsApplied says what is in effect, or that nothing is shared', () => {
  const none = grantsCondition(planGrants(fixtureBucket(), lookup()));
  assert.equal([none.status, none.reason], ['True', 'NoGrants']);
  const some = grantsCondition(planGrants(fixtureBucket({ sharedWith: [{ bucketRef: { name: 'etl' }, access: 'read' }] }), lookup(other('storage', 'etl'))));
  assert.equal([some.status, some.reason, some.message], ['True', 'Applied', 'shared with storage/etl (read)']);
});

test("status: the grants in effect on the bucket, and the buckets shared with this Bucket's user", () => {
  const state = (name: string, shares?: BucketState['shares'], claim?: BucketState['claim']) =>
    ({
      name,
      owner: 'x',
      replicas: 2,
      access: 'private',
      objects: 0,
      bytes: 0,
      createdAt: '',
      ...(shares ? { shares } : {}),
      ...(claim ? { claim } : {}),
    }) as BucketState;
  assert.equal(
    grantsInEffect(
      state('photos', [
        { user: 'bucket.team-b.bi', access: 'read' },
        { user: 'carol', access: 'read-write' },
      ]),
    ),
    [
      { bucketRef: { namespace: 'team-b', name: 'bi' }, user: 'bucket.team-b.bi', access: 'read' },
      { user: 'carol', access: 'read-write' }, // granted through the admin API, not by a Bucket
    ],
  );
  assert.equal(grantsInEffect(state('photos')), []);
  const cluster = {
    buckets: [
      state('reports', [{ user: 'bucket.team-b.bi', access: 'read' }], { namespace: 'team-a', name: 'reports', uid: 'u1' }),
      state('raw', [{ user: 'bucket.team-b.bi', access: 'read-write' }]),
      state('private'),
      state('bi', [{ user: 'bucket.team-b.bi', access: 'read' }]), // its own bucket: not "shared with" it
    ],
  } as unknown as ClusterStatus;
  assert.equal(grantsReceived('bucket.team-b.bi', 'bi', cluster), [
    { bucketName: 'raw', access: 'read-write' },
    { bucketName: 'reports', bucketRef: { namespace: 'team-a', name: 'reports' }, access: 'read' },
  ]);
});

test.run();
