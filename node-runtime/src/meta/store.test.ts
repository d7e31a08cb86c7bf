import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetaStore } from './store.ts';
import { compareVersions, newest } from './lww.ts';
import type { ObjectVersion } from './records.ts';

let dir = '';
let seq = 0;
function ver(key: string, over: Partial<ObjectVersion> = {}): ObjectVersion {
  return { bucket: 'b1', key, versionId: `v${++seq}`, timestamp: 1000, writer: 'n1', deleted: false, size: 10, etag: 'e', userMeta: {}, chunks: [], replicas: 1, ...over };
}

test.before.each(async () => { dir = await mkdtemp(join(tmpdir(), 'cairn-meta-')); });
test.after.each(async () => { await rm(dir, { recursive: true, force: true }); });

test('lww order: timestamp, then writer, then version id', () => {
  assert.ok(compareVersions({ timestamp: 2, writer: 'a', versionId: 'a' }, { timestamp: 1, writer: 'z', versionId: 'z' }) > 0);
  assert.ok(compareVersions({ timestamp: 1, writer: 'b', versionId: 'a' }, { timestamp: 1, writer: 'a', versionId: 'z' }) > 0);
  assert.ok(compareVersions({ timestamp: 1, writer: 'a', versionId: 'b' }, { timestamp: 1, writer: 'a', versionId: 'a' }) > 0);
  assert.is(newest([undefined, { timestamp: 1, writer: 'a', versionId: 'x' }, { timestamp: 3, writer: 'a', versionId: 'y' }])?.versionId, 'y');
});

test('putVersion merges LWW in any arrival order and keeps usage right', async () => {
  const m = MetaStore.open(dir);
  const older = ver('k', { timestamp: 1000, size: 5 });
  const newer = ver('k', { timestamp: 2000, size: 7 });
  assert.is((await m.putVersion(newer)).versionId, newer.versionId);
  assert.is((await m.putVersion(older)).versionId, newer.versionId, 'older write loses');
  assert.is((await m.getVersion('b1', 'k'))?.size, 7);
  const tieWin = ver('k', { timestamp: 2000, writer: 'n2', size: 9 });
  await m.putVersion(tieWin);
  assert.is((await m.getVersion('b1', 'k'))?.versionId, tieWin.versionId);
  assert.equal(await m.bucketUsage('b1'), { objects: 1, bytes: 9 });
  await m.putVersion(ver('k', { timestamp: 3000, deleted: true, size: 0 }));
  assert.equal(await m.bucketUsage('b1'), { objects: 0, bytes: 0 });
  assert.ok((await m.getVersion('b1', 'k'))?.deleted, 'tombstone kept');
  await m.close();
});

test('listVersions: ordered range scan by bucket, prefix, startAfter, limit; buckets isolated', async () => {
  const m = MetaStore.open(dir);
  const keys = ['a/1', 'a/2', 'a//b', 'b', '../x', '%2e%2e/y', 'é', 'a', 'a/1/deep'];
  await Promise.all(keys.map((k) => m.putVersion(ver(k))));
  await m.putVersion(ver('a/1', { bucket: 'b10' }));
  await m.putVersion(ver('zzz', { bucket: 'b' }));
  const all = (await m.listVersions('b1', { limit: 100 })).map((v) => v.key);
  assert.equal(all, [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  assert.equal((await m.listVersions('b1', { prefix: 'a/', limit: 100 })).map((v) => v.key), ['a//b', 'a/1', 'a/1/deep', 'a/2']);
  assert.equal((await m.listVersions('b1', { prefix: 'a/', startAfter: 'a/1', limit: 2 })).map((v) => v.key), ['a/1/deep', 'a/2']);
  assert.equal((await m.listVersions('b1', { startAfter: 'b', limit: 10 })).map((v) => v.key), ['é']);
  assert.equal((await m.listVersions('b1', { prefix: 'a/', startAfter: 'zz', limit: 10 })), []);
  assert.equal((await m.listVersions('b10', { limit: 10 })).map((v) => v.key), ['a/1']);
  await m.close();
});

test('listVersions fields: a listing page without inline bodies or chunk lists, a references page without bodies; the stored version keeps them', async () => {
  const m = MetaStore.open(dir);
  await m.putVersion(ver('small', { inline: Buffer.alloc(3000, 7).toString('base64'), size: 3000 }));
  await m.putVersion(ver('big', { chunks: [{ id: 'ab'.repeat(32), size: 5 }], size: 5 }));
  const lean = await m.listVersions('b1', { limit: 10, fields: 'listing' });
  assert.equal(lean.map((v) => [v.key, v.size, v.inline, v.chunks.length]), [['big', 5, undefined, 0], ['small', 3000, undefined, 0]]);
  assert.ok(JSON.stringify(lean).length < 1000, 'a page carries no body');
  const refs = await m.listVersions('b1', { limit: 10, fields: 'references' });
  assert.equal(refs.map((v) => [v.key, v.inline, v.chunks.length]), [['big', undefined, 1], ['small', undefined, 0]]);
  const full = await m.listVersions('b1', { limit: 10 });
  assert.is(full[0].chunks.length, 1);
  assert.is(full[1].inline?.length, 4000);
  assert.is((await m.getVersion('b1', 'small'))?.inline?.length, 4000, 'stored version untouched');
  await m.close();
});

test('multipart uploads and parts; delete removes both; survives reopen', async () => {
  let m = MetaStore.open(dir);
  const up = (key: string, uploadId: string) => ({ bucket: 'b1', key, uploadId, initiated: new Date().toISOString(), userMeta: {}, replicas: 1, owner: 'o' });
  await m.putUpload(up('x', 'u2'));
  await m.putUpload(up('x', 'u1'));
  await m.putUpload(up('w', 'u3'));
  const part = (number: number) => ({ number, etag: `e${number}`, size: number, chunks: [], lastModified: '', timestamp: number });
  await m.putPart('b1', 'u1', part(2));
  await m.putPart('b1', 'u1', part(1));
  await m.putPart('b1', 'u1', part(300));
  await m.putPart('b1', 'u2', part(1));
  await m.close();
  m = MetaStore.open(dir);
  assert.equal((await m.listParts('b1', 'u1')).map((p) => p.number), [1, 2, 300]);
  assert.equal((await m.listUploads('b1', { limit: 10 })).map((u) => u.uploadId), ['u3', 'u1', 'u2']);
  assert.equal((await m.listUploads('b1', { limit: 10, keyMarker: 'x', uploadIdMarker: 'u1' })).map((u) => u.uploadId), ['u2']);
  assert.equal((await m.listUploads('b1', { limit: 10, prefix: 'w' })).map((u) => u.uploadId), ['u3']);
  await m.deleteUpload('b1', 'u1');
  assert.is(await m.getUpload('b1', 'u1'), undefined);
  assert.equal(await m.listParts('b1', 'u1'), []);
  assert.equal((await m.listParts('b1', 'u2')).length, 1);
  await m.putKV('registry', { a: 1 });
  assert.equal(m.getKV('registry'), { a: 1 });
  await m.close();
});

test.run();
