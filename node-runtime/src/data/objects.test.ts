import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ClusterObjectService } from './objects.ts';
import { testCluster, type TestCluster } from '../../test/data-cluster.ts';
import { isS3Error, s3Error } from '../util/errors.ts';
import { MIN_PART_SIZE } from './multipart.ts';
import { DEFAULT_INFLIGHT } from './write-path.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { rankAll } from '../cluster/placement.ts';
import { isChunkError } from '../chunks/errors.ts';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const KiB = 1024;

async function read(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of r) parts.push(b);
  return Buffer.concat(parts);
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(isS3Error(e), `expected S3Error ${code}, got ${String(e)}`);
    assert.is(e.code, code, String(e.message));
    return;
  }
  assert.unreachable(`expected ${code}`);
}

let c: TestCluster;
let svc: ClusterObjectService;
const setup = async (n: number, r: number) => {
  c = await testCluster(n, { chunkSize: 64 * KiB, inlineMax: 1 * KiB, defaultReplicas: r });
  svc = new ClusterObjectService(c.plane, { metaTimeoutMs: 2000, chunkTimeoutMs: 2000 });
  await svc.createBucket('bkt', { owner: 'me' });
};
test.after.each(async () => {
  await c?.close();
});

test('put/get: inline and chunked bodies, etag, ranges', async () => {
  await setup(1, 1);
  const small = randomBytes(500),
    big = randomBytes(200 * KiB + 7);
  const vs = await svc.putObject('bkt', 'small', Readable.from([small]), { size: small.length });
  assert.is(vs.etag, md5(small));
  assert.ok(vs.inline !== undefined && vs.chunks.length === 0);
  const vb = await svc.putObject('bkt', 'big', Readable.from([big]), { size: big.length, contentType: 'application/x-test', userMeta: { a: '1' } });
  assert.is(vb.chunks.length, 4);
  assert.is(vb.etag, md5(big));
  assert.ok((await read((await svc.getObject('bkt', 'big')).body)).equals(big));
  assert.ok((await read((await svc.getObject('bkt', 'small')).body)).equals(small));
  const r = await svc.getObject('bkt', 'big', { range: { start: 64 * KiB - 3, end: 128 * KiB + 2 } });
  assert.equal(r.range, { start: 64 * KiB - 3, end: 128 * KiB + 2 });
  assert.ok((await read(r.body)).equals(big.subarray(64 * KiB - 3, 128 * KiB + 3)));
  assert.ok((await read((await svc.getObject('bkt', 'big', { range: { suffix: 10 } })).body)).equals(big.subarray(big.length - 10)));
  assert.ok((await read((await svc.getObject('bkt', 'big', { range: { start: big.length - 5 } })).body)).equals(big.subarray(big.length - 5)));
  assert.ok((await read((await svc.getObject('bkt', 'small', { range: { start: 10, end: 10_000 } })).body)).equals(small.subarray(10)));
  await rejects(svc.getObject('bkt', 'big', { range: { start: big.length } }), 'InvalidRange');
  const h = await svc.headObject('bkt', 'big');
  assert.is(h.contentType, 'application/x-test');
  assert.equal(h.userMeta, { a: '1' });
  const empty = await svc.putObject('bkt', 'empty', Readable.from([]), { size: 0 });
  assert.is(empty.etag, md5(Buffer.alloc(0)));
  assert.is((await read((await svc.getObject('bkt', 'empty')).body)).length, 0);
});

test('bad input: digest, short body, long key, bucket names, missing things', async () => {
  await setup(1, 1);
  const body = randomBytes(100 * KiB);
  await rejects(svc.putObject('bkt', 'k', Readable.from([body]), { contentMd5: createHash('md5').update('x').digest('base64') }), 'BadDigest');
  await rejects(svc.putObject('bkt', 'k', Readable.from([body]), { size: body.length + 1 }), 'IncompleteBody');
  await rejects(svc.putObject('bkt', 'k'.repeat(1025), Readable.from([body]), {}), 'KeyTooLongError');
  await rejects(svc.headObject('bkt', 'k'), 'NoSuchKey');
  await rejects(svc.putObject('nope', 'k', Readable.from([body]), {}), 'NoSuchBucket');
  await rejects(svc.createBucket('Bad_Name', { owner: 'me' }), 'InvalidBucketName');
  await rejects(svc.createBucket('192.168.1.1', { owner: 'me' }), 'InvalidBucketName');
  await rejects(svc.createBucket('bkt', { owner: 'me' }), 'BucketAlreadyOwnedByYou');
  const ok = await svc.putObject('bkt', 'k', Readable.from([body]), { contentMd5: createHash('md5').update(body).digest('base64') });
  assert.is(ok.size, body.length);
  const ifNoneMatch = (cur: unknown) => {
    if (cur) throw s3Error('PreconditionFailed');
  };
  await rejects(svc.putObject('bkt', 'k', Readable.from([body]), { precondition: ifNoneMatch }), 'PreconditionFailed');
});

test('aborted upload: rejects and nothing becomes visible', async () => {
  await setup(1, 1);
  const ac = new AbortController();
  let sent = 0;
  const src = new Readable({
    read() {
      sent++;
      if (sent === 5) ac.abort(new Error('client disconnected'));
      this.push(randomBytes(32 * KiB));
    },
  });
  try {
    await svc.putObject('bkt', 'half', src, { signal: ac.signal, size: 10 * 1024 * KiB });
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /disconnected|abort/i);
  }
  await rejects(svc.headObject('bkt', 'half'), 'NoSuchKey');
  // A chunk write that was under way at the abort finishes or is cancelled, and leaves no temp file.
  await waitFor(async () => (await readdir(join(c.dir, 'm0', 'tmp'))).length === 0, { timeoutMs: 5000, what: 'tmp empty' });
});

test('keys are opaque: traversal-looking and unicode keys stored verbatim, never as paths', async () => {
  await setup(1, 1);
  const keys = ['../x', 'a//b', '%2e%2e/y', '../../../../etc/passwd', 'ünï/κλειδί 🗝', '/lead'];
  for (const k of keys) await svc.putObject('bkt', k, Readable.from([Buffer.from(k)]), {});
  for (const k of keys) assert.is((await read((await svc.getObject('bkt', k)).body)).toString(), k);
  const listed = (await svc.listObjects('bkt', { maxKeys: 100 })).objects.map((o) => o.key);
  assert.equal(listed.sort(), [...keys].sort());
  // Nothing outside the data dir's own layout was created.
  assert.equal((await readdir(join(c.dir, 'm0'))).sort(), ['chunks', 'meta', 'tmp']);
});

test('listing: prefix, delimiter, startAfter, paging, tombstones skipped', async () => {
  await setup(1, 1);
  const keys = ['a', 'b/1', 'b/2', 'b/3/x', 'c/1', 'd', 'e'];
  for (let i = 0; i < 250; i++) keys.push(`m/${String(i).padStart(3, '0')}`);
  for (const k of keys) await svc.putObject('bkt', k, Readable.from([Buffer.from('x')]), {});
  await svc.deleteObject('bkt', 'd');
  await svc.deleteObject('bkt', 'd');
  await rejects(svc.headObject('bkt', 'd'), 'NoSuchKey');
  let r = await svc.listObjects('bkt', { delimiter: '/', maxKeys: 1000 });
  assert.equal(
    r.objects.map((o) => o.key),
    ['a', 'e'],
  );
  assert.equal(r.commonPrefixes, ['b/', 'c/', 'm/']);
  r = await svc.listObjects('bkt', { prefix: 'b/', delimiter: '/', maxKeys: 1000 });
  assert.equal(
    r.objects.map((o) => o.key),
    ['b/1', 'b/2'],
  );
  assert.equal(r.commonPrefixes, ['b/3/']);
  // Pages of 2 with a delimiter: a prefix is returned once, never again on later pages.
  const seen: string[] = [];
  let after: string | undefined;
  for (let i = 0; i < 10; i++) {
    r = await svc.listObjects('bkt', { delimiter: '/', maxKeys: 2, startAfter: after });
    seen.push(...r.objects.map((o) => o.key), ...r.commonPrefixes);
    if (!r.isTruncated) break;
    after = r.nextStartAfter;
  }
  assert.equal(seen.sort(), ['a', 'b/', 'c/', 'e', 'm/']);
  // Paging through 250 keys under m/ 100 at a time.
  const all: string[] = [];
  after = undefined;
  for (let i = 0; i < 10; i++) {
    r = await svc.listObjects('bkt', { prefix: 'm/', maxKeys: 100, startAfter: after });
    all.push(...r.objects.map((o) => o.key));
    if (!r.isTruncated) break;
    after = r.nextStartAfter;
  }
  assert.is(all.length, 250);
  assert.is(new Set(all).size, 250);
  assert.is((await svc.listObjects('bkt', { maxKeys: 0 })).objects.length, 0);
});

test('copy reuses chunks; delete bucket rules', async () => {
  await setup(1, 1);
  const body = randomBytes(150 * KiB);
  const v = await svc.putObject('bkt', 'src', Readable.from([body]), { userMeta: { x: 'y' }, contentType: 'text/plain' });
  const copy = await svc.copyObject({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'dst' }, {});
  assert.equal(copy.chunks, v.chunks);
  assert.equal(copy.userMeta, { x: 'y' });
  const replaced = await svc.copyObject({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'dst2' }, { metadataDirective: 'REPLACE', userMeta: { z: '1' } });
  assert.equal(replaced.userMeta, { z: '1' });
  await rejects(svc.copyObject({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'src' }, {}), 'InvalidRequest');
  assert.ok((await read((await svc.getObject('bkt', 'dst')).body)).equals(body));
  await rejects(svc.deleteBucket('bkt'), 'BucketNotEmpty');
  for (const k of ['src', 'dst', 'dst2']) await svc.deleteObject('bkt', k);
  await svc.deleteBucket('bkt');
  await rejects(svc.headBucket('bkt'), 'NoSuchBucket');
  await rejects(svc.deleteBucket('bkt'), 'NoSuchBucket');
});

test('multipart: complete, etag, validation errors, abort', async () => {
  await setup(1, 1);
  const u = await svc.createUpload('bkt', 'mp', { contentType: 'video/x' });
  const p1 = randomBytes(MIN_PART_SIZE),
    p2 = randomBytes(1000);
  const r1 = await svc.uploadPart('bkt', 'mp', u.uploadId, 1, Readable.from([p1]), {});
  const r2 = await svc.uploadPart('bkt', 'mp', u.uploadId, 2, Readable.from([p2]), {});
  const small = await svc.uploadPart('bkt', 'mp', u.uploadId, 3, Readable.from([p2]), {});
  assert.equal(
    (await svc.listParts('bkt', 'mp', u.uploadId)).map((p) => p.number),
    [1, 2, 3],
  );
  assert.is((await svc.listUploads('bkt', { maxUploads: 10 }))[0].uploadId, u.uploadId);
  await rejects(
    svc.completeUpload('bkt', 'mp', u.uploadId, [
      { number: 2, etag: r2.etag },
      { number: 1, etag: r1.etag },
    ]),
    'InvalidPartOrder',
  );
  await rejects(
    svc.completeUpload('bkt', 'mp', u.uploadId, [
      { number: 1, etag: r1.etag },
      { number: 2, etag: 'deadbeef' },
    ]),
    'InvalidPart',
  );
  await rejects(
    svc.completeUpload('bkt', 'mp', u.uploadId, [
      { number: 1, etag: r1.etag },
      { number: 9, etag: r1.etag },
    ]),
    'InvalidPart',
  );
  await rejects(
    svc.completeUpload('bkt', 'mp', u.uploadId, [
      { number: 2, etag: r2.etag },
      { number: 3, etag: small.etag },
    ]),
    'EntityTooSmall',
  );
  await rejects(svc.uploadPart('bkt', 'mp', u.uploadId, 0, Readable.from([p2]), {}), 'InvalidArgument');
  const v = await svc.completeUpload('bkt', 'mp', u.uploadId, [
    { number: 1, etag: `"${r1.etag}"` },
    { number: 2, etag: r2.etag },
  ]);
  const expect =
    createHash('md5')
      .update(Buffer.concat([Buffer.from(r1.etag, 'hex'), Buffer.from(r2.etag, 'hex')]))
      .digest('hex') + '-2';
  assert.is(v.etag, expect);
  assert.is(v.contentType, 'video/x');
  assert.ok((await read((await svc.getObject('bkt', 'mp')).body)).equals(Buffer.concat([p1, p2])));
  await rejects(svc.listParts('bkt', 'mp', u.uploadId), 'NoSuchUpload');
  const u2 = await svc.createUpload('bkt', 'mp2', {});
  await svc.abortUpload('bkt', 'mp2', u2.uploadId);
  await rejects(svc.abortUpload('bkt', 'mp2', u2.uploadId), 'NoSuchUpload');
  assert.equal(await svc.listUploads('bkt', { maxUploads: 10 }), []);
  await rejects(svc.headObject('bkt', 'mp2'), 'NoSuchKey');
});

test('R=3 across 3 members: quorum writes, failover on a corrupt or missing copy, 503 when too few', async () => {
  await setup(3, 3);
  const body = randomBytes(130 * KiB);
  const v = await svc.putObject('bkt', 'k', Readable.from([body]), {});
  // Acknowledged at W=2: the third copy of a chunk may land just after (before the copies are damaged below).
  const everywhere = async () => {
    for (const st of c.stores) for (const ch of v.chunks) if (!(await st.chunks.has(ch.id))) return false;
    return true;
  };
  await waitFor(everywhere, { timeoutMs: 5000, what: 'every member to get every chunk' });
  // Corrupt the local copy (m0 is read first) and remove another: reads fail over and stay correct.
  await writeFile(c.stores[0].chunks.path(v.chunks[0].id), randomBytes(64 * KiB));
  await c.stores[1].chunks.delete(v.chunks[1].id);
  // Another member sends a whole chunk unhashed and the reader checks it: corrupt the third chunk
  // here and on the first other member in read order, so only the reader's check keeps it out.
  const third = v.chunks[2]!;
  const others = rankAll(third.id, c.view.members())
    .map((m) => m.id)
    .filter((id) => id !== c.view.selfId);
  for (const id of ['m0', others[0]!]) await writeFile(c.stores[Number(id.slice(1))]!.chunks.path(third.id), randomBytes(third.size));
  assert.ok((await read((await svc.getObject('bkt', 'k')).body)).equals(body));
  // The member itself still verifies what it is not told the reader will.
  try {
    await c.replicas.chunks(others[0]!).getChunk(third.id);
    assert.unreachable();
  } catch (e) {
    assert.ok(isChunkError(e, 'ChunkCorrupt'), String(e));
  }
  // One member down: W=2 of 3 still holds, reads still work.
  c.down.add('m2');
  const v2 = await svc.putObject('bkt', 'k2', Readable.from([body]), {});
  assert.ok((await read((await svc.getObject('bkt', 'k2')).body)).equals(body));
  // Two down: writes and reads of what needs them fail with 503, never wrong bytes.
  c.down.add('m1');
  await rejects(svc.putObject('bkt', 'k3', Readable.from([body]), {}), 'ServiceUnavailable');
  await rejects(svc.getObject('bkt', 'k2'), 'ServiceUnavailable');
  c.down.clear();
  await rejects(svc.headObject('bkt', 'k3'), 'NoSuchKey');
  assert.is((await svc.headObject('bkt', 'k2')).versionId, v2.versionId);
});

test('membership change: reads find the partition on its previous holders, newest wins', async () => {
  await setup(4, 2);
  const { replicasFor } = await import('../cluster/placement.ts');
  const members = c.view.members();
  const [h1] = replicasFor('bucket:bkt', members, 2);
  const v1 = await svc.putObject('bkt', 'k', Readable.from([Buffer.from('one')]), {});
  // h1 goes down: the placement now names a new, empty member; the object is still found.
  c.down.add(h1.id);
  h1.state = 'down';
  for (let i = 0; i < 5; i++) assert.is((await svc.headObject('bkt', 'k')).versionId, v1.versionId);
  const v2 = await svc.putObject('bkt', 'k', Readable.from([Buffer.from('two')]), {});
  assert.is((await read((await svc.getObject('bkt', 'k')).body)).toString(), 'two');
  // h1 comes back with its old copy: the newer write made while it was away wins.
  c.down.delete(h1.id);
  h1.state = 'active';
  for (let i = 0; i < 5; i++) assert.is((await svc.headObject('bkt', 'k')).versionId, v2.versionId);
  assert.ok((await svc.listObjects('bkt', { maxKeys: 10 })).objects.every((o) => o.versionId === v2.versionId));
});

test('read repair: a replica that missed a write is brought up to date by a read', async () => {
  await setup(3, 3);
  c.down.add('m1');
  const v = await svc.putObject('bkt', 'k', Readable.from([Buffer.from('hello')]), {});
  c.down.clear();
  assert.is(await c.stores[1].meta.getVersion('bkt', 'k'), undefined);
  // Reads ask R' = 2 replicas; repeat until the stale one was among them and got repaired.
  for (let i = 0; i < 50 && !(await c.stores[1].meta.getVersion('bkt', 'k')); i++) {
    assert.is((await svc.headObject('bkt', 'k')).versionId, v.versionId);
    await new Promise((r) => setImmediate(r));
  }
  assert.is((await c.stores[1].meta.getVersion('bkt', 'k'))?.versionId, v.versionId);
});

test('a small GET takes the body from one replica (this member when it holds it), records from the others, and the newest body wherever it is', async () => {
  await setup(3, 2);
  const holders = rankAll('bucket:bkt', c.view.members())
    .slice(0, 2)
    .map((m) => m.id);
  // The member whose answer carries the body: self (m0) when it holds the partition, else the first holder.
  const whole = holders.includes('m0') ? 'm0' : holders[0]!;
  const other = holders.find((h) => h !== whole)!;
  await svc.putObject('bkt', 'k', Readable.from([Buffer.from('one')]), {});
  const asked: [string, boolean][] = [];
  for (const id of holders) {
    const r = c.replicas.meta(id);
    const get = r.getVersions.bind(r);
    r.getVersions = async (bucket, key, opts) => {
      const out = await get(bucket, key, opts);
      asked.push([id, out.some((v) => v.inline !== undefined)]);
      return out;
    };
  }
  assert.is((await read((await svc.getObject('bkt', 'k')).body)).toString(), 'one');
  assert.equal(
    asked.sort(),
    [
      [whole, true],
      [other, false],
    ].sort() as [string, boolean][],
    'one body crossed, from the member asked for it',
  );
  // The member asked for the body misses a write: the newer record comes without body, and its body is read by version id.
  c.down.add(whole);
  const v2 = await svc.putObject('bkt', 'k', Readable.from([Buffer.from('two')]), {});
  c.down.clear();
  assert.is((await c.stores[Number(whole.slice(1))]!.meta.getVersion('bkt', 'k'))?.versionId !== v2.versionId, true, 'the member asked for the body is stale');
  const got = await svc.getObject('bkt', 'k');
  assert.is(got.version.versionId, v2.versionId);
  assert.is((await read(got.body)).toString(), 'two');
});

test('quotas: bytes and objects are enforced on put, copy and overwrite', async () => {
  await setup(1, 1);
  await c.view.putBucket({ ...c.view.bucket('bkt')!, quotaBytes: 3000, quotaObjects: 2 });
  await svc.putObject('bkt', 'a', Readable.from([Buffer.alloc(1000)]), { size: 1000 });
  await rejects(svc.putObject('bkt', 'b', Readable.from([Buffer.alloc(2500)]), { size: 2500 }), 'QuotaExceeded');
  await rejects(svc.putObject('bkt', 'b', Readable.from([Buffer.alloc(2500)]), {}), 'QuotaExceeded'); // size learnt from the body
  await rejects(svc.headObject('bkt', 'b'), 'NoSuchKey');
  await svc.putObject('bkt', 'a', Readable.from([Buffer.alloc(2900)]), { size: 2900 }); // overwrite counts the difference
  await svc.putObject('bkt', 'b', Readable.from([Buffer.alloc(100)]), { size: 100 });
  await rejects(svc.putObject('bkt', 'c', Readable.from([Buffer.alloc(0)]), { size: 0 }), 'QuotaExceeded'); // object count
  await rejects(svc.copyObject({ bucket: 'bkt', key: 'b' }, { bucket: 'bkt', key: 'c' }, {}), 'QuotaExceeded');
});

test('memory stays bounded: a 64 MiB body is written and read with a few chunks in flight', async () => {
  c = await testCluster(1, { chunkSize: 1024 * KiB, inlineMax: 1 * KiB, defaultReplicas: 1 });
  svc = new ClusterObjectService(c.plane);
  await svc.createBucket('bkt', { owner: 'me' });
  const total = 64 * 1024 * KiB;
  let produced = 0;
  let stored = 0;
  let maxAhead = 0;
  const replica = c.replicas.chunks('m0');
  const put = replica.putChunk.bind(replica);
  replica.putChunk = async (id, body, size, signal) => {
    await put(id, body, size, signal);
    stored += size;
  };
  const src = new Readable({
    highWaterMark: 64 * KiB,
    read() {
      maxAhead = Math.max(maxAhead, produced - stored);
      if (produced >= total) return this.push(null);
      produced += 64 * KiB;
      this.push(Buffer.alloc(64 * KiB, produced / (64 * KiB)));
    },
  });
  const v = await svc.putObject('bkt', 'big', src, { size: total });
  assert.is(v.size, total);
  // Up to DEFAULT_INFLIGHT chunks uploading, one waiting for a slot and one being filled.
  assert.ok(maxAhead <= (DEFAULT_INFLIGHT + 2) * 1024 * KiB, `source ran ${maxAhead} bytes ahead of storage`);
  // Read side: the stream fetches at most about one chunk ahead of a slow consumer.
  let fetched = 0;
  const get = replica.getChunk.bind(replica);
  replica.getChunk = async (id, range, signal) => {
    fetched += range ? range.end - range.start + 1 : 1024 * KiB;
    return get(id, range, signal);
  };
  const { body } = await svc.getObject('bkt', 'big');
  let consumed = 0;
  let maxFetchedAhead = 0;
  for await (const b of body) {
    consumed += (b as Buffer).length;
    maxFetchedAhead = Math.max(maxFetchedAhead, fetched - consumed);
    await new Promise((r) => setImmediate(r));
  }
  assert.is(consumed, total);
  assert.ok(maxFetchedAhead <= 3 * 1024 * KiB, `reader fetched ${maxFetchedAhead} bytes ahead`);
});

test.run();
