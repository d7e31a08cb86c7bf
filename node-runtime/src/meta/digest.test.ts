// Partition digests as the store keeps them: equal on two stores that hold the same entries whatever
// the order they arrived in (stale arrivals, tombstones, uploads and parts included), different as
// soon as one misses an entry, persisted across a restart and rebuilt the same from the records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { testVersion } from '../../test/fixtures.ts';
import { MetaStore } from './store.ts';
import { EMPTY_DIGEST, fold, sameDigest, versionEntry } from './digest.ts';
import type { MultipartUpload, PartRecord } from './records.ts';

let dir = '';
const ver = testVersion;
const upload: MultipartUpload = { bucket: 'b1', key: 'big', uploadId: 'u1', initiated: new Date(0).toISOString(), replicas: 1, userMeta: {}, owner: 'o' };
const part = (n: number, timestamp: number): PartRecord => ({ number: n, etag: `p${n}`, size: 5, timestamp, chunks: [], lastModified: '' });

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-digest-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('fold is order-free and its own inverse', () => {
  const a = versionEntry(ver('a'));
  const b = versionEntry(ver('b'));
  const ab = fold(fold(EMPTY_DIGEST, a, 1), b, 1);
  const ba = fold(fold(EMPTY_DIGEST, b, 1), a, 1);
  assert.equal(ab, ba);
  assert.ok(sameDigest(fold(ab, b, -1), fold(EMPTY_DIGEST, a, 1)));
  assert.ok(sameDigest(fold(fold(ab, a, -1), b, -1), undefined), 'all folded out: the empty digest');
});

test('two stores with the same entries have the same digest, whatever the arrival order; one missing entry differs', async () => {
  const x = MetaStore.open(join(dir, 'x'));
  const y = MetaStore.open(join(dir, 'y'));
  const k1old = ver('k1', { timestamp: 1000 });
  const k1new = ver('k1', { timestamp: 2000 });
  const k2 = ver('k2', { timestamp: 1500 });
  const k2gone = ver('k2', { timestamp: 2500, deleted: true, size: 0, versionId: k2.versionId });
  for (const v of [k1old, k1new, k2, k2gone]) await x.putVersion(v);
  for (const v of [k2gone, k1new, k2, k1old]) await y.putVersion(v); // stale arrivals lose
  await x.putUpload(upload);
  await x.putPart('b1', 'u1', part(1, 10));
  await x.putPart('b1', 'u1', part(1, 20)); // a re-upload of part 1 replaces it
  await y.putPart('b1', 'u1', part(1, 20));
  await y.putUpload(upload);
  assert.ok(sameDigest(x.partitionDigests().b1, y.partitionDigests().b1), 'same entries, same digest');
  assert.is(x.partitionDigests().b1?.entries, 4, 'two version slots, one upload, one part');

  const changes = y.changeCount();
  await y.putVersion(ver('k3'));
  assert.ok(y.changeCount() > changes, 'a change is counted');
  assert.not.ok(sameDigest(x.partitionDigests().b1, y.partitionDigests().b1), 'y holds an entry x lacks');
  await x.putVersion((await y.getVersion('b1', 'k3'))!);
  assert.ok(sameDigest(x.partitionDigests().b1, y.partitionDigests().b1), 'in sync again once pushed');

  // Removals fold entries out: a collected tombstone, a finished upload, a dropped partition.
  await x.removeTombstone('b1', 'k2', k2gone.versionId);
  await y.removeTombstone('b1', 'k2', k2gone.versionId);
  await x.deleteUpload('b1', 'u1');
  await y.deleteUpload('b1', 'u1');
  assert.ok(sameDigest(x.partitionDigests().b1, y.partitionDigests().b1));
  assert.is(x.partitionDigests().b1?.entries, 2);
  await x.dropPartition('b1');
  assert.equal(x.partitionDigests(), {});
  await x.close();
  await y.close();
});

test('the tombstone index lists removals only (not delete markers), and forgets collected ones', async () => {
  const m = MetaStore.open(dir);
  const live = ver('a');
  const gone = ver('b', { deleted: true, size: 0, timestamp: 1234 });
  const marker = ver('c', { deleted: true, deleteMarker: true, versioned: true, size: 0 });
  for (const v of [live, gone, marker]) await m.putVersion(v);
  assert.equal(m.listTombstones('b1', { limit: 10 }), [{ key: 'b', slot: '', timestamp: 1234 }]);
  await m.putVersion(ver('b', { timestamp: 5000 })); // written again: no longer a tombstone
  assert.equal(m.listTombstones('b1', { limit: 10 }), []);
  await m.putVersion(ver('a', { deleted: true, size: 0, timestamp: 6000, versionId: live.versionId }));
  assert.is(m.listTombstones('b1', { limit: 10 }).length, 1);
  await m.removeTombstone('b1', 'a', live.versionId);
  assert.equal(m.listTombstones('b1', { limit: 10 }), []);
  await m.close();
});

test('digests persist across a restart, and a store from before digests builds the same ones at open', async () => {
  let m = MetaStore.open(dir);
  for (let i = 0; i < 50; i++) await m.putVersion(ver(`k${i}`, { timestamp: 1000 + i, bucket: i % 2 ? 'b1' : 'b2' }));
  await m.putVersion(ver('k3', { bucket: 'b1', timestamp: 9000, deleted: true, size: 0 }));
  await m.putUpload(upload);
  await m.putPart('b1', 'u1', part(256, 7)); // a part number whose bytes hold a NUL
  const kept = m.partitionDigests();
  await m.close();
  m = MetaStore.open(dir);
  assert.equal(m.partitionDigests(), kept, 'persisted');
  await m.close();

  // Forget the digests and the tombstone index, as a store written before they existed.
  const env = open({ path: join(dir, 'meta'), compression: false });
  await env.openDB({ name: 'kv' }).remove('digests');
  await env.openDB({ name: 'digests' }).clearAsync();
  await env.openDB({ name: 'tombstones', keyEncoding: 'binary' }).clearAsync();
  await env.close();
  m = MetaStore.open(dir);
  assert.equal(m.partitionDigests(), kept, 'rebuilt from the records');
  assert.equal(
    m.listTombstones('b1', { limit: 10 }).map((t) => t.key),
    ['k3'],
  );
  await m.close();
});

test.run();
