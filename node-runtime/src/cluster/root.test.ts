import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootService } from './root.ts';
import { membersOf, type ClusterMaps, type MemberInfo } from './maps.ts';
import { VOLATILE_SAVE_MS } from './map-store.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { setLogLevel } from '../util/log.ts';

setLogLevel(process.env.CAIRN_LOG_LEVEL ?? 'error');

const info = (id: string): MemberInfo => ({
  id,
  name: `n-${id}`,
  roles: ['node'],
  api: `http://${id}:9000`,
  cluster: `http://${id}:9100`,
  zone: '',
  weight: 1,
  capacityBytes: 100,
  usedBytes: 1,
  lastHeartbeat: 0,
});
const dirs: string[] = [];
async function open(dataDir?: string) {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'cairn-root-')));
  if (!dataDir) dirs.push(dir);
  return { dir, root: await RootService.open({ selfId: 'root-self', dataDir: dir, settings: { failureTimeoutMs: 1000, defaultReplicas: 2 } }) };
}
const state = (r: RootService, id: string) => membersOf(r.maps).find((m) => m.id === id)?.state;

test('a member registers as joining, becomes active when ready; a heartbeat never undoes a drain', async () => {
  const { root } = await open();
  root.heartbeat({ member: info('a'), ready: false });
  assert.is(state(root, 'a'), 'joining');
  root.heartbeat({ member: info('a'), ready: true });
  assert.is(state(root, 'a'), 'active');
  await root.set('states', 'a', 'draining');
  root.heartbeat({ member: { ...info('a'), usedBytes: 50 }, ready: true });
  assert.is(state(root, 'a'), 'draining');
  assert.is(membersOf(root.maps)[0].usedBytes, 50, 'usage is refreshed by heartbeats');
  assert.throws(() => root.heartbeat({ member: { id: '' } as MemberInfo, ready: true }), /needs a member/);
  await root.stop();
});

test('silence past the failure timeout → down (not drained, never self); a returning member is active again', async () => {
  const { root } = await open();
  const t0 = Date.now();
  for (const id of ['a', 'b', 'c']) {
    root.heartbeat({ member: info(id), ready: true }, t0);
  }
  root.heartbeat({ member: { ...info('root-self'), roles: ['root'] }, ready: true }, t0);
  await root.set('states', 'c', 'drained');
  assert.equal(root.detectFailures(t0 + 500), [], 'no verdict within the grace after start');
  root.heartbeat({ member: info('a'), ready: true }, t0 + 1500);
  const down = root.detectFailures(t0 + 2000);
  assert.equal(down, ['b']);
  assert.is(state(root, 'a'), 'active');
  assert.is(state(root, 'c'), 'drained');
  assert.is(state(root, 'root-self'), 'active');
  root.heartbeat({ member: info('b'), ready: false }, t0 + 2100);
  assert.is(state(root, 'b'), 'down', 'not before the member says it is ready');
  root.heartbeat({ member: info('b'), ready: true }, t0 + 2200);
  assert.is(state(root, 'b'), 'active');
  await root.stop();
});

test('a member whose regular heartbeats stop is down within seconds, long before the failure timeout', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-root-'));
  dirs.push(dir);
  const root = await RootService.open({ selfId: 'root-self', dataDir: dir, settings: { failureTimeoutMs: 30_000 } });
  let t = Date.now();
  for (let i = 0; i < 20; i++, t += 1000) for (const id of ['a', 'b']) root.heartbeat({ member: info(id), ready: true }, t);
  const last = t - 1000;
  // b keeps beating, a stops; b reports that a does not answer its calls.
  let downAt: number | undefined;
  for (let now = last; now < last + 30_000 && downAt === undefined; now += 250) {
    if ((now - last) % 1000 === 0) root.heartbeat({ member: info('b'), ready: true, suspects: now - last >= 2000 ? ['a'] : [] }, now);
    if (root.detectFailures(now).includes('a')) downAt = now;
  }
  assert.ok(downAt !== undefined && downAt - last <= 5_000, `a down after ${downAt! - last} ms`);
  assert.is(state(root, 'b'), 'active');
  await root.stop();
});

test('settings from flags, a cluster id and the maps survive a restart', async () => {
  const { dir, root } = await open();
  root.heartbeat({ member: info('a'), ready: true });
  await root.set('buckets', 'b1', { name: 'b1', replicas: 2, createdAt: '', owner: 'x', access: 'private' });
  const id = root.maps.settings.clusterId?.value;
  assert.type(id, 'string');
  assert.is(root.settings().failureTimeoutMs, 1000);
  assert.is(root.settings().defaultReplicas, 2);
  await root.stop();
  const again = (await open(dir)).root;
  assert.is(again.maps.settings.clusterId?.value, id);
  assert.ok(again.maps.buckets.b1);
  assert.is(state(again, 'a'), 'active');
  await again.stop();
});

test('the map file: a new member or a state change is written at once, a heartbeat that only refreshes usage waits (VOLATILE_SAVE_MS), stop writes it', async () => {
  const { dir, root } = await open();
  const file = join(dir, 'cluster', 'root-maps.json');
  const onDisk = async () => JSON.parse(await readFile(file, 'utf8')) as ClusterMaps;
  const used = async () => (await onDisk()).members.a?.value?.usedBytes;
  root.heartbeat({ member: info('a'), ready: true });
  await waitFor(async () => (await onDisk().catch(() => undefined))?.states.a?.value === 'active', { timeoutMs: 3000, what: 'the new member written' });
  assert.is(await used(), 1);
  // Heartbeats that change nothing but usage (every member sends one a second): not written within
  // the short coalescing delay — they are left for the next write.
  for (let i = 0; i < 4; i++) {
    root.heartbeat({ member: { ...info('a'), usedBytes: 77 }, ready: true });
    await new Promise((r) => setTimeout(r, 400));
  }
  assert.is(await used(), 1, 'a usage-only heartbeat is not written within 1.6 s');
  assert.ok(VOLATILE_SAVE_MS >= 10_000);
  // A drain (a state change) is durable before its answer, with the usage heard meanwhile.
  await root.set('states', 'a', 'draining');
  assert.is((await onDisk()).states.a?.value, 'draining');
  assert.is(await used(), 77);
  // What another root passes on about a member (gossip) is written as heartbeats are, not before the answer.
  await root.exchange({ members: { a: { value: { ...info('a'), usedBytes: 88 }, ts: Date.now() + 1000, writer: 'root-other' } } });
  assert.is(await used(), 77, 'a usage-only exchange is not made durable before its answer');
  root.heartbeat({ member: { ...info('a'), usedBytes: 99 }, ready: true });
  await root.stop();
  assert.is(await used(), 99, 'stopping writes what was pending');
});

test.after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test.run();
