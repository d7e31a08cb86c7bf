import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testVersion } from '../../test/fixtures.ts';
import { open } from 'lmdb';
import { randomBytes } from 'node:crypto';
import { MetaStore, OVERFLOW_HEADER, tailOf } from './store.ts';
import { compareVersions, newest } from './lww.ts';
import type { ObjectVersion } from './records.ts';

let dir = '';
const ver = testVersion;

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-meta-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
  assert.equal(await m.bucketUsage('b1'), { objects: 1, bytes: 9, versions: 1, versionBytes: 9 });
  await m.putVersion(ver('k', { timestamp: 3000, deleted: true, size: 0 }));
  assert.equal(await m.bucketUsage('b1'), { objects: 0, bytes: 0, versions: 0, versionBytes: 0 });
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
  assert.equal(
    all,
    [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
  );
  assert.equal(
    (await m.listVersions('b1', { prefix: 'a/', limit: 100 })).map((v) => v.key),
    ['a//b', 'a/1', 'a/1/deep', 'a/2'],
  );
  assert.equal(
    (await m.listVersions('b1', { prefix: 'a/', startAfter: 'a/1', limit: 2 })).map((v) => v.key),
    ['a/1/deep', 'a/2'],
  );
  assert.equal(
    (await m.listVersions('b1', { startAfter: 'b', limit: 10 })).map((v) => v.key),
    ['é'],
  );
  assert.equal(await m.listVersions('b1', { prefix: 'a/', startAfter: 'zz', limit: 10 }), []);
  assert.equal(
    (await m.listVersions('b10', { limit: 10 })).map((v) => v.key),
    ['a/1'],
  );
  await m.close();
});

test("lmdb's overflow header is what tailOf assumes: a value of a page less the header takes one page, a byte more two", async () => {
  const env = open({ path: join(dir, 'raw'), compression: false });
  const db = env.openDB({ name: 'x', keyEncoding: 'binary', encoding: 'binary' });
  const page = (env.getStats() as { pageSize: number }).pageSize;
  const pages = async (size: number) => {
    const before = (db.getStats() as { overflowPages: number }).overflowPages;
    await db.put(Buffer.from(`k${size}`), Buffer.alloc(size, 1));
    return (db.getStats() as { overflowPages: number }).overflowPages - before;
  };
  assert.is(await pages(page - OVERFLOW_HEADER), 1);
  assert.is(await pages(page - OVERFLOW_HEADER + 1), 2);
  await env.close();
});

test('a body a few bytes over whole pages keeps them in its record: 4 KiB and 8 KiB bodies take 1 and 2 pages, and read back whole', async () => {
  assert.equal(
    [4096, 8192, 4072, 4000, 4096 + 300, 100].map((n) => tailOf(n, 4096)),
    [24, 24, 0, 0, 0, 0],
  );
  const m = MetaStore.open(dir);
  const bodies = [4096, 8192, 5000].map((n) => randomBytes(n));
  for (const [i, b] of bodies.entries()) await m.putVersion(ver(`k${i}`, { inline: b.toString('base64'), size: b.length }));
  // 1 + 2 pages for the two, and 2 for the 5000 bytes (no tail: it is not just over a page).
  assert.is(m.bodyPages() - 1, 1 + 2 + 2, 'pages of bodies (besides the tree root)');
  for (const [i, b] of bodies.entries()) {
    assert.is((await m.getVersion('b1', `k${i}`))?.inline, b.toString('base64'));
    assert.is((await m.getVersions('b1', `k${i}`))[0]?.inline, b.toString('base64'));
    const listed = await m.listVersions('b1', { prefix: `k${i}`, limit: 1 });
    assert.is(listed[0]?.inline, b.toString('base64'));
    assert.is(Object.keys(listed[0]!).includes('inlineTail'), false, 'the tail is storage, not the record');
    assert.is(Object.keys((await m.listVersions('b1', { prefix: `k${i}`, limit: 1, fields: 'listing' }))[0]!).includes('inlineTail'), false);
  }
  // Overwritten by a body of another size: the tail goes with the old body.
  const small = randomBytes(3000);
  await m.putVersion(ver('k0', { inline: small.toString('base64'), size: small.length, timestamp: 5000 }));
  assert.is((await m.getVersion('b1', 'k0'))?.inline, small.toString('base64'));
  await m.close();
});

test('listVersions fields: a listing page without inline bodies or chunk lists, a references page without bodies; the stored version keeps them', async () => {
  const m = MetaStore.open(dir);
  await m.putVersion(ver('small', { inline: Buffer.alloc(3000, 7).toString('base64'), size: 3000 }));
  await m.putVersion(ver('big', { chunks: [{ id: 'ab'.repeat(32), size: 5 }], size: 5 }));
  const lean = await m.listVersions('b1', { limit: 10, fields: 'listing' });
  assert.equal(
    lean.map((v) => [v.key, v.size, v.inline, v.chunks.length]),
    [
      ['big', 5, undefined, 0],
      ['small', 3000, undefined, 0],
    ],
  );
  assert.ok(JSON.stringify(lean).length < 1000, 'a page carries no body');
  const refs = await m.listVersions('b1', { limit: 10, fields: 'references' });
  assert.equal(
    refs.map((v) => [v.key, v.inline, v.chunks.length]),
    [
      ['big', undefined, 1],
      ['small', undefined, 0],
    ],
  );
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
  assert.equal(
    (await m.listParts('b1', 'u1')).map((p) => p.number),
    [1, 2, 300],
  );
  assert.equal(
    (await m.listUploads('b1', { limit: 10 })).map((u) => u.uploadId),
    ['u3', 'u1', 'u2'],
  );
  assert.equal(
    (await m.listUploads('b1', { limit: 10, keyMarker: 'x', uploadIdMarker: 'u1' })).map((u) => u.uploadId),
    ['u2'],
  );
  assert.equal(
    (await m.listUploads('b1', { limit: 10, prefix: 'w' })).map((u) => u.uploadId),
    ['u3'],
  );
  await m.deleteUpload('b1', 'u1');
  assert.is(await m.getUpload('b1', 'u1'), undefined);
  assert.equal(await m.listParts('b1', 'u1'), []);
  assert.equal((await m.listParts('b1', 'u2')).length, 1);
  await m.putKV('registry', { a: 1 });
  assert.equal(m.getKV('registry'), { a: 1 });
  await m.close();
});

test('versions: one record per slot, the current one is the newest not removed, usage counts every version', async () => {
  const m = MetaStore.open(dir);
  const v1 = ver('k', { versionId: 'v-old', versioned: true, timestamp: 1000, size: 3 });
  const v2 = ver('k', { versionId: 'v-new', versioned: true, timestamp: 2000, size: 5 });
  const nul = ver('k', { versionId: 'n1', timestamp: 1500, size: 7 });
  await Promise.all([m.putVersion(v2), m.putVersion(nul), m.putVersion(v1)]);
  assert.equal(
    (await m.getVersions('b1', 'k')).map((v) => v.versionId),
    ['n1', 'v-new', 'v-old'],
    'null slot first, then version ids',
  );
  assert.is((await m.getVersion('b1', 'k', 'null'))?.versionId, 'n1');
  assert.is((await m.getVersion('b1', 'k', 'v-old'))?.size, 3);
  assert.equal(await m.bucketUsage('b1'), { objects: 1, bytes: 5, versions: 3, versionBytes: 15 });
  // A delete marker becomes current; removing the newest version by id leaves the marker current.
  await m.putVersion(ver('k', { versionId: 'm1', versioned: true, deleteMarker: true, deleted: true, size: 0, timestamp: 3000 }));
  assert.equal(await m.bucketUsage('b1'), { objects: 0, bytes: 0, versions: 4, versionBytes: 15 });
  await m.putVersion(ver('k', { versionId: 'm1', versioned: true, deleted: true, size: 0, timestamp: 4000 }));
  assert.equal(await m.bucketUsage('b1'), { objects: 1, bytes: 5, versions: 3, versionBytes: 15 }, 'the marker removed: v-new is current again');
  // A re-put of the null version replaces only the null slot.
  await m.putVersion(ver('k', { versionId: 'n2', timestamp: 5000, size: 11 }));
  assert.equal(
    (await m.getVersions('b1', 'k')).map((v) => v.versionId),
    ['n2', 'm1', 'v-new', 'v-old'],
  );
  assert.equal(await m.bucketUsage('b1'), { objects: 1, bytes: 11, versions: 3, versionBytes: 19 });
  // Listing pages are (key, slot) ordered and resume inside a key.
  await m.putVersion(ver('j'));
  const page = await m.listVersions('b1', { limit: 3 });
  assert.equal(
    page.map((v) => `${v.key}:${v.versionId}`),
    [`j:${page[0]!.versionId}`, 'k:n2', 'k:m1'],
  );
  assert.equal(
    (await m.listVersions('b1', { startAfter: 'k', startAfterSlot: 'm1', limit: 9 })).map((v) => v.versionId),
    ['v-new', 'v-old'],
  );
  assert.equal(
    (await m.listVersions('b1', { startAfter: 'j', limit: 1 })).map((v) => v.versionId),
    ['n2'],
  );
  assert.equal(await m.listVersions('b1', { startAfter: 'k', limit: 9 }), []);
  // The key's records: the current one whole, the others lean.
  const withBody = ver('b', { versionId: 'x1', versioned: true, inline: 'AAAA', size: 3, timestamp: 10 });
  await m.putVersion(withBody);
  await m.putVersion(ver('b', { versionId: 'x2', versioned: true, inline: 'BBBB', size: 3, timestamp: 20 }));
  assert.equal(
    (await m.getVersions('b1', 'b')).map((v) => v.inline),
    [undefined, 'BBBB'],
  );
  // Asked without bodies (a read that takes the body from another replica): records only.
  assert.equal(
    (await m.getVersions('b1', 'b', { bodies: false })).map((v) => [v.versionId, v.inline]),
    [
      ['x1', undefined],
      ['x2', undefined],
    ],
  );
  // A removal tombstone is collected only when it is still its slot's record.
  assert.is(await m.removeTombstone('b1', 'k', 'm1'), true);
  assert.is(await m.removeTombstone('b1', 'k', 'v-new'), false, 'a live version is no tombstone');
  await m.close();
});

test('writeVersion fences: a stale write is refused untouched; a reservation holds the key until committed or released', async () => {
  const m = MetaStore.open(dir);
  assert.ok('stored' in (await m.writeVersion(ver('k', { timestamp: 2000 }), { fence: 'write' })));
  assert.equal(await m.writeVersion(ver('k', { timestamp: 1500 }), { fence: 'write' }), { staleAt: 2000 });
  const again = ver('k', { timestamp: 2500 });
  assert.ok('stored' in (await m.writeVersion(again, { fence: 'write' })));
  assert.ok('stored' in (await m.writeVersion(again, { fence: 'write' })), 'a retried call of the same write is no conflict');
  const cur = (await m.getVersion('b1', 'k'))!;
  // Reservation: the expected record must be what the replica holds (or older).
  assert.equal(await m.reserveKey('b1', 'k', { id: 'r0', timestamp: 3000, expected: null, until: Date.now() + 5000 }), { changed: true });
  assert.equal(await m.reserveKey('b1', 'k', { id: 'r0', timestamp: 2400, expected: cur, until: Date.now() + 5000 }), { staleAt: 2500 });
  assert.equal(await m.reserveKey('b1', 'k', { id: 'r1', timestamp: 3000, expected: cur, until: Date.now() + 5000 }), { reserved: true });
  assert.equal(await m.reserveKey('b1', 'k', { id: 'r2', timestamp: 3100, expected: cur, until: Date.now() + 5000 }), { held: true });
  assert.equal(
    await m.writeVersion(ver('k', { timestamp: 2900 }), { fence: 'write' }),
    { staleAt: 3000 },
    'an earlier stamp cannot slip under the reservation',
  );
  assert.equal(await m.writeVersion({ ...cur, rev: 9 }, { fence: 'revision' }), { held: true });
  const committed = await m.writeVersion(ver('k', { timestamp: 3000 }), { fence: 'write', release: 'r1' });
  assert.ok('stored' in committed);
  assert.equal(
    await m.reserveKey('b1', 'k', { id: 'r3', timestamp: 3200, expected: (committed as { stored: ObjectVersion }).stored, until: Date.now() + 5000 }),
    { reserved: true },
  );
  await m.releaseKey('b1', 'k', 'r3');
  assert.ok('stored' in (await m.writeVersion(ver('k', { timestamp: 3300 }), { fence: 'write' })), 'released');
  // A lapsed lease frees the key.
  const last = (await m.getVersion('b1', 'k'))!;
  assert.equal(await m.reserveKey('b1', 'k', { id: 'r4', timestamp: 4000, expected: last, until: Date.now() - 1 }), { reserved: true });
  assert.ok('stored' in (await m.writeVersion(ver('k', { timestamp: 3900 }), { fence: 'write' })));
  await m.close();
});

test('a store of the layout before versions opens in the new one, usage counted again', async () => {
  const { open } = await import('lmdb');
  const raw = open({ path: join(dir, 'meta'), compression: false });
  const old = raw.openDB<ObjectVersion, Buffer>({ name: 'versions', keyEncoding: 'binary' });
  const k = (key: string) => Buffer.concat([Buffer.from('b1\u0000'), Buffer.from(key)]);
  await old.put(k('a'), ver('a', { size: 4 }));
  await old.put(k('b'), ver('b', { deleted: true, size: 0 }));
  await raw.openDB({ name: 'usage' }).put('b1', { objects: 1, bytes: 4 });
  await raw.close();
  const m = MetaStore.open(dir);
  assert.equal(
    (await m.listVersions('b1', { limit: 9 })).map((v) => v.key),
    ['a', 'b'],
  );
  assert.is((await m.getVersion('b1', 'a', 'null'))?.size, 4);
  assert.equal(await m.bucketUsage('b1'), { objects: 1, bytes: 4, versions: 1, versionBytes: 4 });
  await m.putVersion(ver('a', { timestamp: 9000, size: 6 }));
  assert.equal((await m.getVersions('b1', 'a')).length, 1, 'the null slot is the one the old record moved to');
  await m.close();
});

test('inline bodies are kept apart from records: walks read records only, reads get the body; records with the body inside still read', async () => {
  const body = Buffer.from('a small object, kept inline');
  const inline = body.toString('base64');
  const m = MetaStore.open(dir);
  const v = ver('small', { size: body.length, inline });
  await m.putVersion(v);
  assert.is((await m.getVersion('b1', 'small'))?.inline, inline);
  assert.is((await m.getVersion('b1', 'small', 'null'))?.inline, inline);
  assert.is((await m.getVersions('b1', 'small'))[0]?.inline, inline);
  assert.is((await m.listVersions('b1', { limit: 9 }))[0]?.inline, inline, 'a whole-record listing (repair copies) has it');
  assert.is((await m.listVersions('b1', { limit: 9, fields: 'references' }))[0]?.inline, undefined);
  // An older write loses and the winner comes back whole.
  assert.is((await m.putVersion(ver('small', { timestamp: 10, size: 1, inline: 'AA==' }))).inline, inline);
  await m.close();

  const { open } = await import('lmdb');
  const raw = open({ path: join(dir, 'meta'), compression: false });
  const records = raw.openDB<Record<string, unknown>, Buffer>({ name: 'versions', keyEncoding: 'binary' });
  const bodies = raw.openDB<Buffer, Buffer>({ name: 'bodies', keyEncoding: 'binary', encoding: 'binary' });
  const [stored] = [...records.getRange({})];
  assert.is(stored!.value.inline, undefined, 'the record holds no body');
  assert.ok(Buffer.from(bodies.get(stored!.key)!).equals(body), 'the body is apart, as raw bytes');
  // A record written before bodies were kept apart (its body inside).
  await records.put(Buffer.from('b1\u0000old\u0000'), { ...ver('old', { size: 3, inline: 'b2xk' }) });
  await raw.close();

  const again = MetaStore.open(dir);
  assert.is((await again.getVersion('b1', 'old'))?.inline, 'b2xk');
  assert.is((await again.listVersions('b1', { limit: 9 })).find((x) => x.key === 'old')?.inline, 'b2xk');
  assert.is((await again.listVersions('b1', { limit: 9, fields: 'references' })).find((x) => x.key === 'old')?.inline, undefined);
  // Rewritten, it moves to the new form; removed, its body goes with it.
  await again.putVersion(ver('old', { timestamp: 5000, size: 2, inline: 'aGk=' }));
  assert.is((await again.getVersion('b1', 'old'))?.inline, 'aGk=');
  await again.putVersion(ver('small', { timestamp: 9000, size: 0, chunks: [], inline: undefined, versionId: v.versionId }));
  assert.is((await again.getVersion('b1', 'small'))?.inline, undefined, 'a newer record without a body drops the old body');
  await again.dropPartition('b1');
  await again.close();
  const raw2 = open({ path: join(dir, 'meta'), compression: false });
  assert.equal([...raw2.openDB({ name: 'bodies', keyEncoding: 'binary', encoding: 'binary' }).getKeys({})], [], 'no body left behind');
  await raw2.close();
});

test.run();
