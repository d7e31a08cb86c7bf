// The reference index built incrementally (one member per distinct digest, buckets reused from the
// cache while their digests stay) must know every reference the full index knows — garbage collection
// deletes what it does not know. Real MetaStores of three members, called in-process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSettings, type BucketSettings, type ClusterView, type Member } from '../cluster/types.ts';
import { testMember } from '../../test/fixtures.ts';
import { LocalMetaReplica } from '../data/local-replica.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import { MetaStore } from '../meta/store.ts';
import type { ObjectVersion } from '../meta/records.ts';
import type { PartitionDigest } from '../meta/digest.ts';
import { buildReferenceIndex, bucketSources, ReferenceCache, type ReferenceIndex } from './refs.ts';

const ids = ['a', 'b', 'c'];
let dir = '';
let stores: Record<string, MetaStore> = {};
let seq = 0;
const member = (id: string): Member => testMember(id);
const buckets: BucketSettings[] = ['x', 'y'].map((name) => ({ name, createdAt: '', owner: 'o', replicas: 2, access: 'private' }));
const view: ClusterView = {
  selfId: 'a',
  settings: () => defaultSettings,
  members: () => ids.map(member),
  member: (id) => (ids.includes(id) ? member(id) : undefined),
  bucket: (n) => buckets.find((b) => b.name === n),
  buckets: () => buckets,
  putBucket: async () => {},
  removeBucket: async () => {},
  onChange: () => () => {},
};
const replicas = (): ReplicaDirectory => ({
  chunks: () => {
    throw new Error('no chunks here');
  },
  meta: (id) => new LocalMetaReplica(id, stores[id]!),
});
const chunk = (n: number) => n.toString(16).padStart(64, '0');
function version(bucket: string, key: string, refs: number[], over: Partial<ObjectVersion> = {}): ObjectVersion {
  return {
    bucket,
    key,
    versionId: `v${++seq}`,
    timestamp: 1000 + seq,
    writer: 'w',
    deleted: false,
    size: 1,
    etag: 'e',
    userMeta: {},
    chunks: refs.map((n) => ({ id: chunk(n), size: 1 })),
    replicas: 2,
    ...over,
  };
}
const digestsNow = () => new Map<string, Record<string, PartitionDigest> | undefined>(ids.map((id) => [id, stores[id]!.partitionDigests()]));
const summary = (ix: ReferenceIndex) =>
  [...ix.chunks]
    .map(([id, c]) => `${id.slice(-3)}:${c.r}:${c.refs}:${[...c.buckets].sort().join('+')}`)
    .sort()
    .join(' ');

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-refs-'));
  stores = Object.fromEntries(ids.map((id) => [id, MetaStore.open(join(dir, id))]));
});
test.after.each(async () => {
  for (const s of Object.values(stores)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

test('bucketSources: one member per distinct digest, this member first, none for members without the partition', () => {
  const d = (h: string, n = 1) => ({ hash: h.repeat(32), entries: n });
  const digests = new Map<string, Record<string, PartitionDigest> | undefined>([
    ['a', { x: d('1') }],
    ['b', { x: d('1') }],
    ['c', {}],
  ]);
  assert.equal(bucketSources({ name: 'x', replicas: 2 }, ['a', 'b', 'c'], digests, 'b').list, ['b']);
  assert.equal(bucketSources({ name: 'x', replicas: 2 }, ['a', 'b', 'c'], new Map([...digests, ['c', { x: d('2') }]]), 'a').list.sort(), ['a', 'c']);
  const unknown = bucketSources({ name: 'x', replicas: 2 }, ['a', 'b', 'c'], new Map([...digests, ['c', undefined]]), 'a');
  assert.equal(unknown, { list: ['a', 'b', 'c'] }, 'a member without digests: every member, no key');
  const k2 = bucketSources({ name: 'x', replicas: 2 }, ['a', 'b', 'c'], digests, 'a').key;
  const k3 = bucketSources({ name: 'x', replicas: 3 }, ['a', 'b', 'c'], digests, 'a').key;
  assert.is.not(k2, k3, 'the key names the R');
});

test('random histories: the incremental index always equals the full one (same chunks, R, reference counts)', async () => {
  const cache = new ReferenceCache();
  let rnd = 42;
  const rand = (n: number) => {
    rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
    return rnd % n;
  };
  const only = new Set(Array.from({ length: 40 }, (_, i) => chunk(i)));
  let visited = { full: 0, inc: 0 };
  for (let round = 0; round < 60; round++) {
    // A few changes: writes on one or both holders, removals, a dropped partition, a push back.
    for (let k = rand(4); k >= 0; k--) {
      const b = buckets[rand(2)]!.name;
      const v = version(b, `k${rand(12)}`, [rand(40), rand(40)], rand(5) === 0 ? { deleted: true, chunks: [] } : {});
      const on = rand(3) === 0 ? [ids[rand(3)]!] : [ids[rand(3)]!, ids[rand(3)]!];
      for (const id of new Set(on)) await stores[id]!.putVersion(v);
    }
    if (rand(10) === 0) await stores[ids[rand(3)]!]!.dropPartition(buckets[rand(2)]!.name);
    if (rand(4) === 0) {
      // A push: one member's records merged into another's.
      const [from, to] = [ids[rand(3)]!, ids[rand(3)]!];
      for (const b of buckets) for (const v of await stores[from]!.listVersions(b.name, { limit: 10_000 })) await stores[to]!.putVersion(v);
    }
    const full = await buildReferenceIndex({ view, replicas: replicas() }, { only, everyMember: true });
    const inc = await buildReferenceIndex({ view, replicas: replicas() }, { only, digests: digestsNow(), cache });
    assert.ok(full.complete && inc.complete);
    assert.is(summary(inc), summary(full), `round ${round}`);
    visited = { full: visited.full + full.visited, inc: visited.inc + inc.visited };
  }
  assert.ok(visited.inc < visited.full, `the incremental index read less (${visited.inc} vs ${visited.full} records)`);
});

test('a cached bucket is listed again when a chunk arrived here that it was not indexed for', async () => {
  await stores.a!.putVersion(version('x', 'k', [1, 2]));
  await stores.b!.putVersion((await stores.a!.getVersion('x', 'k'))!);
  const cache = new ReferenceCache();
  const first = await buildReferenceIndex({ view, replicas: replicas() }, { only: new Set([chunk(1)]), digests: digestsNow(), cache });
  assert.equal([...first.chunks.keys()], [chunk(1)]);
  // Chunk 2 arrives here (a repair copy): nothing in the metadata changed, the digests are the same.
  const second = await buildReferenceIndex({ view, replicas: replicas() }, { only: new Set([chunk(1), chunk(2)]), digests: digestsNow(), cache });
  assert.ok(second.get(chunk(2)), 'chunk 2 is referenced: never garbage');
  assert.ok(second.visited > 0, 'listed again');
  const third = await buildReferenceIndex({ view, replicas: replicas() }, { only: new Set([chunk(1), chunk(2)]), digests: digestsNow(), cache });
  assert.is(third.visited, 0, 'then reused');
  assert.ok(third.get(chunk(2)));
});

test('a member that dropped its copy after the digests were read does not stand for the others', async () => {
  const v = version('x', 'k', [7]);
  for (const id of ids) await stores[id]!.putVersion(v);
  const digests = digestsNow(); // all three equal: 'a' (this member) would be listed alone
  await stores.a!.dropPartition('x'); // as repair drops a misplaced partition within the pass
  const ix = await buildReferenceIndex({ view, replicas: replicas() }, { only: new Set([chunk(7)]), digests, cache: new ReferenceCache() });
  assert.ok(ix.get(chunk(7)), 'still referenced through b and c');
});

test.run();
