// Quotas in the ObjectService over real stores: a user's plan across its buckets (bytes, objects,
// buckets), the reservation that keeps concurrent writers of one coordinator within a limit, the
// bound across coordinators, and the writes a full bucket still takes (ones that add nothing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { ClusterObjectService } from './objects.ts';
import { testCluster, type TestCluster } from '../../test/data-cluster.ts';
import { isS3Error } from '../util/errors.ts';
import { MIN_PART_SIZE } from './multipart.ts';
import type { UserQuota } from './quota.ts';
import { NodeMetrics } from '../observability/metrics.ts';

const KiB = 1024;
const body = (n: number) => Readable.from([Buffer.alloc(n, 1)]);

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(isS3Error(e), `expected S3Error ${code}, got ${String(e)}`);
    assert.is(e.code, code, String(e.message));
    if (message) assert.match(e.message, message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

let c: TestCluster;
const plans = new Map<string, UserQuota>();
const service = (metrics?: NodeMetrics) =>
  new ClusterObjectService(c.plane, { metaTimeoutMs: 2000, chunkTimeoutMs: 2000, userQuota: (u) => plans.get(u), metrics });

test.before.each(async () => {
  c = await testCluster(3, { chunkSize: 64 * KiB, inlineMax: 1 * KiB, defaultReplicas: 2 });
  plans.clear();
});
test.after.each(async () => {
  await c.close();
});

test("a user's plan limits bytes, objects and buckets across every bucket it owns; other users are not limited", async () => {
  const metrics = new NodeMetrics();
  const svc = service(metrics);
  plans.set('alice', { bytes: 5000, objects: 3, buckets: 2 });
  await svc.createBucket('al-1', { owner: 'alice' });
  await svc.createBucket('al-2', { owner: 'alice' });
  await rejects(svc.createBucket('al-3', { owner: 'alice' }), 'TooManyBuckets', /alice owns 2 buckets; their quota is 2/);
  await svc.createBucket('bob-1', { owner: 'bob' });
  await svc.putObject('al-1', 'x', body(3000), { size: 3000 });
  await rejects(
    svc.putObject('al-2', 'y', body(2500), { size: 2500 }),
    'QuotaExceeded',
    /User alice would hold 5500 bytes in their buckets; their quota is 5000/,
  );
  await rejects(svc.putObject('al-2', 'y', body(2500), {}), 'QuotaExceeded'); // size learnt from the body, refused before the commit
  await rejects(svc.headObject('al-2', 'y'), 'NoSuchKey');
  await svc.putObject('al-2', 'y', body(2000), { size: 2000 });
  await svc.putObject('bob-1', 'big', body(50_000), { size: 50_000 }); // bob has no plan
  // Objects: two held, one more fits, then none.
  await svc.putObject('al-2', 'z', body(0), { size: 0 });
  await rejects(svc.putObject('al-1', 'w', body(0), { size: 0 }), 'QuotaExceeded', /would hold 4 objects/);
  // A copy into a bucket of the user is a write of it; a multipart completion too, and nothing is kept.
  await rejects(svc.copyObject({ bucket: 'bob-1', key: 'big' }, { bucket: 'al-1', key: 'copy' }, {}), 'QuotaExceeded');
  const up = await svc.createUpload('al-1', 'mp', {});
  const p1 = await svc.uploadPart('al-1', 'mp', up.uploadId, 1, body(MIN_PART_SIZE), { size: MIN_PART_SIZE });
  await rejects(svc.completeUpload('al-1', 'mp', up.uploadId, [{ number: 1, etag: p1.etag }]), 'QuotaExceeded');
  await rejects(svc.headObject('al-1', 'mp'), 'NoSuchKey');
  // A raised plan applies to the next write.
  plans.set('alice', { bytes: 10 * MIN_PART_SIZE, objects: 10 });
  await svc.completeUpload('al-1', 'mp', up.uploadId, [{ number: 1, etag: p1.etag }]);
  const refused = (await metrics.registry.getSingleMetric('cairn_quota_refusals_total')!.get()).values;
  const count = (scope: string, limit: string) => refused.find((v) => v.labels.scope === scope && v.labels.limit === limit)?.value ?? 0;
  assert.is(count('user', 'buckets'), 1);
  assert.is(count('user', 'bytes'), 4);
  assert.is(count('user', 'objects'), 1);
});

test('writes that add nothing pass a full bucket: a smaller overwrite, a delete', async () => {
  const svc = service();
  await svc.createBucket('bkt', { owner: 'me' });
  await svc.putObject('bkt', 'a', body(3000), { size: 3000 });
  await c.view.putBucket({ ...c.view.bucket('bkt')!, quotaBytes: 1000, quotaObjects: 1 }); // lowered under the usage
  await rejects(svc.putObject('bkt', 'a', body(3500), { size: 3500 }), 'QuotaExceeded');
  await svc.putObject('bkt', 'a', body(2000), { size: 2000 });
  await svc.deleteObject('bkt', 'a');
  await svc.putObject('bkt', 'b', body(900), { size: 900 });
});

test('one coordinator: concurrent writers never take a bucket or a user over its limit (reservations)', async () => {
  const svc = service();
  plans.set('me', { bytes: 10 * 700 });
  await svc.createBucket('bkt', { owner: 'me' });
  await c.view.putBucket({ ...c.view.bucket('bkt')!, quotaObjects: 5 });
  // Size unknown up front (no Content-Length): only the check before the commit can stop them.
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => svc.putObject('bkt', `k${i}`, body(700), {})));
  assert.is(results.filter((r) => r.status === 'fulfilled').length, 5);
  for (const r of results) if (r.status === 'rejected') assert.is((r.reason as { code?: string }).code, 'QuotaExceeded');
  assert.is((await svc.listObjects('bkt', { maxKeys: 100 })).objects.length, 5);
  await c.view.putBucket({ ...c.view.bucket('bkt')!, quotaObjects: undefined });
  const more = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => svc.putObject('bkt', `m${i}`, body(700), {})));
  assert.is(more.filter((r) => r.status === 'fulfilled').length, 5, 'the user plan: 10 x 700 bytes');
});

test('two coordinators at once: the overshoot stays within (coordinators - 1) x the room that was left', async () => {
  const a = service(),
    b = service();
  await a.createBucket('bkt', { owner: 'me' });
  await c.view.putBucket({ ...c.view.bucket('bkt')!, quotaObjects: 6 });
  await a.putObject('bkt', 'first', body(10), { size: 10 }); // room left: 5
  const writes = Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).putObject('bkt', `k${i}`, body(10), {}));
  const ok = (await Promise.allSettled(writes)).filter((r) => r.status === 'fulfilled').length;
  assert.ok(ok >= 5 && ok <= 2 * 5, `${ok} writes admitted with room for 5`);
  const objects = (await a.listObjects('bkt', { maxKeys: 100 })).objects.length;
  assert.is(objects, 1 + ok, 'usage is exactly what was acknowledged');
  await rejects(b.putObject('bkt', 'after', body(1), { size: 1 }), 'QuotaExceeded');
});

test.run();
