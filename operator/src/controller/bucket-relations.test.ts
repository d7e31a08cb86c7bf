import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bucketUserOf, clusterKeyOf, concernsOthers, refOfUser, relatedBuckets, s3NameOf, sharedWithRefs, type BucketObject } from './bucket-relations.ts';

const bucket = (namespace: string, name: string, spec: Record<string, unknown> = {}): BucketObject => ({
  metadata: { namespace, name },
  spec: { clusterRef: { name: 'demo', namespace: 'storage' }, ...spec },
});

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
    bucket('team-b', 'photos'), // same name, same cluster
    bucket('team-c', 'pics', { bucketName: 'photos' }), // the same name, spelled out
    bucket('team-d', 'photos', { clusterRef: { name: 'other', namespace: 'storage' } }), // another cluster
    bucket('team-a', 'videos'),
  ];
  assert.equal(relatedBuckets(first, undefined, all), ['team-b/photos', 'team-c/pics']);
  assert.equal(relatedBuckets(bucket('team-a', 'videos'), undefined, all), []);
});

test("a Bucket's user id names the Bucket and reads back (namespaces hold no dots, names may)", () => {
  assert.is(bucketUserOf({ namespace: 'team-a', name: 'logs.2024' }), 'bucket.team-a.logs.2024');
  assert.equal(refOfUser('bucket.team-a.logs.2024'), { namespace: 'team-a', name: 'logs.2024' });
  assert.is(refOfUser('admin'), undefined);
  assert.equal(sharedWithRefs(bucket('team-a', 'x', { sharedWith: [{ bucketRef: { name: 'y' } }, { bucketRef: { name: 'z', namespace: 'team-b' } }] })), [
    { namespace: 'team-a', name: 'y' },
    { namespace: 'team-b', name: 'z' },
  ]);
});

test('sharing: a change concerns the Buckets it shares with (before and after) and the Buckets sharing with it', () => {
  const reports = bucket('team-a', 'reports', { sharedWith: [{ bucketRef: { name: 'etl' } }, { bucketRef: { name: 'bi', namespace: 'team-b' } }] });
  const all = [
    reports,
    bucket('team-a', 'etl'),
    bucket('team-b', 'bi'),
    bucket('team-c', 'audit', { sharedWith: [{ bucketRef: { name: 'reports', namespace: 'team-a' } }] }),
    bucket('team-c', 'other'),
  ];
  // reports stops sharing with bi; status still lists the grant in effect on team-c/old.
  const before = { ...reports, status: { sharedWith: [{ bucketRef: { namespace: 'team-c', name: 'old' } }] } };
  const after = bucket('team-a', 'reports', { sharedWith: [{ bucketRef: { name: 'etl' } }] });
  assert.equal(relatedBuckets(after, before, all), ['team-a/etl', 'team-b/bi', 'team-c/audit', 'team-c/old']);
  // A Bucket that appears: the Bucket waiting to share with it learns of it.
  assert.equal(relatedBuckets(bucket('team-a', 'etl'), undefined, all), ['team-a/reports']);
});

test('only a change of spec, deletion or grants in effect concerns other Buckets (not usage)', () => {
  const b = { ...bucket('a', 'x'), status: { sharedWith: [] } };
  assert.ok(concernsOthers('ADDED', b, undefined));
  assert.ok(concernsOthers('DELETED', b, b));
  assert.not.ok(concernsOthers('MODIFIED', { ...b, status: { ...b.status, usage: { bytes: 1 } } } as BucketObject, b));
  assert.ok(concernsOthers('MODIFIED', { ...b, metadata: { ...b.metadata, deletionTimestamp: 'now' } }, b));
  assert.ok(concernsOthers('MODIFIED', { ...b, status: { sharedWith: [{ bucketRef: { namespace: 'a', name: 'y' } }] } }, b));
  assert.ok(concernsOthers('MODIFIED', bucket('a', 'x', { bucketName: 'other' }), b));
});

test.run();
