import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clusterKeyOf, relatedBuckets, s3NameOf, type BucketObject } from './bucket-relations.ts';

const bucket = (namespace: string, name: string, spec: Record<string, unknown> = {}): BucketObject =>
  ({ metadata: { namespace, name }, spec: { clusterRef: { name: 'demo', namespace: 'storage' }, ...spec } });

test('a Bucket names its cluster and its bucket name, with the defaults the schema gives', () => {
  assert.is(clusterKeyOf({ metadata: { namespace: 'a', name: 'x' }, spec: { clusterRef: { name: 'demo' } } }), 'a/demo');
  assert.is(clusterKeyOf(bucket('a', 'x')), 'storage/demo');
  assert.is(s3NameOf(bucket('a', 'x')), 'x');
  assert.is(s3NameOf(bucket('a', 'x', { bucketName: 'photos' })), 'photos');
});

test('a change to one Bucket concerns the others that want the same name in the same cluster', () => {
  const first = bucket('team-a', 'photos');
  const all = [
    first,
    bucket('team-b', 'photos'),                                                 // same name, same cluster
    bucket('team-c', 'pics', { bucketName: 'photos' }),                         // the same name, spelled out
    bucket('team-d', 'photos', { clusterRef: { name: 'other', namespace: 'storage' } }),   // another cluster
    bucket('team-a', 'videos'),
  ];
  assert.equal(relatedBuckets(first, undefined, all), ['team-b/photos', 'team-c/pics']);
  assert.equal(relatedBuckets(bucket('team-a', 'videos'), undefined, all), []);
});

test.run();
