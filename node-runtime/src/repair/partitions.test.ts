// A metadata partition pushed to a holder that lacks entries or holds them older: what arrives is
// whole (inline bodies, chunk lists), what the holder has as new or newer is not sent, and the walk
// compares lean records on both sides (a peer that ignores `fields` and lists whole records too).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testVersion as ver } from '../../test/fixtures.ts';
import { MetaStore } from '../meta/store.ts';
import { LocalMetaReplica } from '../data/local-replica.ts';
import type { ListVersionsOptions } from '../data/replicas.ts';
import { pushPartition } from './partitions.ts';

let dir = '';
let here: MetaStore;
let there: MetaStore;

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-push-'));
  here = MetaStore.open(join(dir, 'here'));
  there = MetaStore.open(join(dir, 'there'));
});
test.after.each(async () => {
  await here.close();
  await there.close();
  await rm(dir, { recursive: true, force: true });
});

const body = (n: number, size = 4096) => Buffer.alloc(size, n).toString('base64');

async function seed() {
  // only here; newer here; the same on both; newer there; a chunked object only here; a removal here
  await here.putVersion(ver('a', { versionId: 'va', inline: body(1), size: 4096, timestamp: 10 }));
  await here.putVersion(ver('b', { versionId: 'vb2', inline: body(2), size: 4096, timestamp: 20 }));
  await there.putVersion(ver('b', { versionId: 'vb1', inline: body(3), size: 4096, timestamp: 10 }));
  const same = ver('c', { versionId: 'vc', inline: body(4, 100), size: 100, timestamp: 10 });
  await here.putVersion(same);
  await there.putVersion(same);
  await here.putVersion(ver('d', { versionId: 'vd1', inline: body(5), size: 4096, timestamp: 10 }));
  await there.putVersion(ver('d', { versionId: 'vd2', inline: body(6), size: 4096, timestamp: 20 }));
  await here.putVersion(ver('e', { versionId: 've', size: 1 << 20, chunks: [{ id: 'f'.repeat(64), size: 1 << 20 }], timestamp: 10 }));
  await here.putVersion(ver('f', { versionId: 'vf', deleted: true, size: 0, timestamp: 30 }));
}

async function expectMerged(sent: number) {
  assert.is(sent, 4, 'a, b, e and f sent; c (equal) and d (newer there) not');
  const a = await there.getVersion('b1', 'a');
  assert.is(a?.inline, body(1), 'an inline body arrives whole');
  assert.is((await there.getVersion('b1', 'b'))?.inline, body(2), 'the newer version replaces the older');
  assert.is((await there.getVersion('b1', 'c'))?.inline, body(4, 100));
  assert.is((await there.getVersion('b1', 'd'))?.versionId, 'vd2', 'a newer entry there is kept');
  assert.is((await there.getVersion('b1', 'e'))?.chunks.length, 1, 'a chunk list arrives whole');
  assert.ok((await there.getVersion('b1', 'f'))?.deleted, 'a removal is an entry too');
  assert.is(await pushPartition(here, new LocalMetaReplica('there', there), 'b1'), 0, 'a second push finds nothing to send');
}

test('a push sends whole what the holder lacks or holds older, and nothing else', async () => {
  await seed();
  const asked: (ListVersionsOptions['fields'] | undefined)[] = [];
  const remote = new LocalMetaReplica('there', there);
  const listVersions = remote.listVersions.bind(remote);
  remote.listVersions = (bucket, opts) => {
    asked.push(opts.fields);
    return listVersions(bucket, opts);
  };
  await expectMerged(await pushPartition(here, remote, 'b1'));
  assert.ok(asked.length > 0 && asked.every((f) => f === 'listing'), `the holder is asked for lean pages: ${asked.join(',')}`);
});

test('a holder from before `fields` lists whole records: the push is the same', async () => {
  await seed();
  const remote = new LocalMetaReplica('there', there);
  const listVersions = remote.listVersions.bind(remote);
  remote.listVersions = (bucket, { fields: _ignored, ...opts }) => listVersions(bucket, opts);
  await expectMerged(await pushPartition(here, remote, 'b1'));
});

test('a few stale among many (read again record by record) and most stale (read again as a page) both arrive whole', async () => {
  for (let i = 0; i < 1200; i++) {
    const v = ver(`k${String(i).padStart(5, '0')}`, { versionId: `v${i}`, inline: body(i % 200, 64), size: 64, timestamp: 10 });
    await here.putVersion(v);
    // the first page (1,000 records): a tenth stale; the rest: all stale
    if (i < 1000 && i % 10 !== 0) await there.putVersion(v);
  }
  assert.is(await pushPartition(here, new LocalMetaReplica('there', there), 'b1'), 100 + 200);
  for (const i of [0, 990, 1000, 1199]) assert.is((await there.getVersion('b1', `k${String(i).padStart(5, '0')}`))?.inline, body(i % 200, 64), `k${i}`);
});

test('pages: a partition larger than one listing page is pushed whole', async () => {
  for (let i = 0; i < 2500; i++) {
    const v = ver(`k${String(i).padStart(5, '0')}`, { versionId: `v${i}`, inline: body(i % 200, 64), size: 64, timestamp: 10 });
    await here.putVersion(v);
    if (i % 3 === 0) await there.putVersion(v);
  }
  const sent = await pushPartition(here, new LocalMetaReplica('there', there), 'b1');
  assert.is(sent, 2500 - 834);
  assert.is((await there.getVersion('b1', 'k02499'))?.inline, body(2499 % 200, 64));
  assert.is((await there.bucketUsage('b1')).objects, 2500);
});

test.run();
