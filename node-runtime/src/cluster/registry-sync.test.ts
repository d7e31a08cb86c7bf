// What a registry change costs the roots and members: only what changed travels (broadcasts, answers
// to a member's write), a heartbeat leaves out a registry the member already has, and the writes of
// the map file that pile up while one is under way share the next.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootService } from './root.ts';
import { emptyMaps, mergeMapsDelta, reportsBefore, stableChange, type ClusterMaps } from './maps.ts';
import { MapStore } from './map-store.ts';
import { write } from './crdt.ts';
import { testMember } from '../../test/fixtures.ts';
import { setLogLevel } from '../util/log.ts';

setLogLevel(process.env.CAIRN_LOG_LEVEL ?? 'error');

const dirs: string[] = [];
async function openRoot() {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-registry-'));
  dirs.push(dir);
  const root = await RootService.open({ selfId: 'root-self', dataDir: dir });
  const pushed: Partial<ClusterMaps>[] = [];
  root.broadcast = async (delta) => {
    pushed.push(delta);
  };
  return { root, pushed, dir };
}
const bucket = (name: string) => ({ name, createdAt: '', owner: 'me', replicas: 2, access: 'private' });
const member = (id: string) => ({ ...testMember(id), lastHeartbeat: 0 });

test('a heartbeat answer leaves out the registry while the member has it, and carries it again after any change', async () => {
  const { root } = await openRoot();
  for (let i = 0; i < 20; i++) await root.set('buckets', `b${i}`, bucket(`b${i}`));
  const first = root.heartbeat({ member: member('a'), ready: true });
  assert.is(Object.keys(first.maps.buckets ?? {}).length, 20, 'a member without a registry name gets the whole registry');
  assert.ok(first.registry);

  const steady = root.heartbeat({ member: member('a'), ready: true, registry: first.registry });
  assert.is(steady.maps.buckets, undefined, 'nothing changed: no registry');
  assert.is(steady.maps.settings, undefined);
  assert.ok(steady.maps.members?.a, 'members and states always travel');
  assert.ok(steady.maps.states?.a);
  assert.is(steady.registry, first.registry);

  await root.set('buckets', 'new', bucket('new'));
  const after = root.heartbeat({ member: member('a'), ready: true, registry: first.registry });
  assert.ok(after.maps.buckets?.new, 'a registry change since the name: the registry again');
  assert.is.not(after.registry, first.registry);

  // Gossip from another root that brings a registry entry changes the name too.
  const gossip = emptyMaps();
  write(gossip.users, 'alice', { id: 'alice', displayName: 'Alice', createdAt: 'now' }, 'root-other');
  root.heartbeat({ member: { ...member('root-other'), roles: ['root'] }, ready: true, maps: gossip });
  const again = root.heartbeat({ member: member('a'), ready: true, registry: after.registry });
  assert.ok(again.maps.users?.alice, 'a registry merged from gossip reaches the member');

  // Liveness alone (another member's heartbeat) keeps the name.
  root.heartbeat({ member: member('b'), ready: true });
  assert.is(root.heartbeat({ member: member('a'), ready: true, registry: again.registry }).maps.buckets, undefined);
  await root.stop();
});

test('a broadcast carries only what changed; a write is answered with the winners for what was written', async () => {
  const { root, pushed } = await openRoot();
  for (let i = 0; i < 10; i++) await root.set('buckets', `b${i}`, bucket(`b${i}`));
  assert.is(pushed.length, 10);
  assert.equal(Object.keys(pushed[9]), ['buckets'], 'a bucket write pushes the bucket map only');
  assert.equal(Object.keys(pushed[9].buckets!), ['b9'], 'and only the bucket written');

  pushed.length = 0;
  root.heartbeat({ member: member('a'), ready: false });
  root.heartbeat({ member: member('a'), ready: true }); // joining → active: a state change
  const stateChange = pushed.at(-1)!;
  assert.equal(Object.keys(stateChange.states ?? {}), ['a']);
  assert.equal(Object.keys(stateChange.members ?? {}), ['a'], 'with the member report, so others know where it is');
  assert.is(stateChange.buckets, undefined);

  // A member writes b3 with an older stamp than the root's: the answer is the root's b3, and nothing else.
  const stale = emptyMaps();
  stale.buckets.b3 = { value: { ...bucket('b3'), replicas: 1 } as never, ts: 1, writer: 'old' };
  await root.exchange(stale);
  const answer = root.answer(stale, 'written');
  assert.equal(Object.keys(answer.maps!), ['buckets']);
  assert.equal(Object.keys(answer.maps!.buckets!), ['b3']);
  assert.is((answer.maps!.buckets!.b3!.value as { replicas: number }).replicas, 2, "the root's newer entry wins");
  assert.is(Object.keys(root.answer(stale, 'whole').maps!.buckets!).length, 10, "an older member's push gets the whole maps");
  assert.equal(root.answer(stale, 'none'), { rootId: 'root-self' });
  await root.stop();
});

test('saves made while the map file is being written share the next write, which holds each of them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-mapstore-'));
  dirs.push(dir);
  const store = MapStore.forDataDir(dir, 'root-maps');
  const maps = emptyMaps();
  const saves: Promise<void>[] = [];
  const checks: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    write(maps.buckets, `b${i}`, bucket(`b${i}`) as never, 'me');
    const saved = store.save(maps);
    saves.push(saved);
    checks.push(
      saved.then(async () => {
        const onDisk = JSON.parse(await readFile(store.path, 'utf8')) as ClusterMaps;
        assert.ok(onDisk.buckets[`b${i}`], `save ${i} resolved before its change was on disk`);
      }),
    );
  }
  await Promise.all(checks);
  assert.ok(new Set(saves).size <= 2, `20 saves at once: the first write and one more (${new Set(saves).size} writes)`);
  await store.close();
});

test('a merge that changes only heartbeat fields is not a stable change; anything else is', () => {
  const maps = emptyMaps();
  write(maps.members, 'a', member('a'), 'root');
  const beat = emptyMaps();
  write(beat.members, 'a', { ...member('a'), usedBytes: 99, lastHeartbeat: 5 }, 'root', Date.now() + 10);
  const before = reportsBefore(maps, beat);
  assert.is(stableChange(mergeMapsDelta(maps, beat)!, before), false, 'usage and liveness only');
  const moved = emptyMaps();
  write(moved.members, 'a', { ...member('a'), zone: 'z2' }, 'root', Date.now() + 20);
  const beforeMove = reportsBefore(maps, moved);
  assert.is(stableChange(mergeMapsDelta(maps, moved)!, beforeMove), true, 'a new zone');
  const joined = emptyMaps();
  write(joined.members, 'b', member('b'), 'root');
  const beforeJoin = reportsBefore(maps, joined);
  assert.is(stableChange(mergeMapsDelta(maps, joined)!, beforeJoin), true, 'a new member');
  const created = emptyMaps();
  write(created.buckets, 'x', bucket('x') as never, 'root');
  const beforeCreate = reportsBefore(maps, created);
  assert.is(stableChange(mergeMapsDelta(maps, created)!, beforeCreate), true, 'a registry entry');
  assert.is(mergeMapsDelta(maps, created), undefined, 'merging the same entries again changes nothing');
});

test.after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test.run();
