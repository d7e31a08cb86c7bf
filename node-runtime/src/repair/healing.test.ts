// In-process cluster (1 root + 4 nodes, real stores, real RPC on loopback, R=2) with self-healing
// attached: losing a node brings every chunk back to R replicas, after which losing a second node
// loses nothing; drain moves data off and reaches `drained`; GC removes chunks of deleted objects
// after the grace period and keeps live ones; scrub replaces a corrupted chunk file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startNode, type RunningNode } from '../node/start.ts';
import type { MultiClusterView } from '../cluster/view.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { startSelfHealing, type SelfHealing } from '../node/self-healing.ts';

process.env.CAIRN_FAILURE_TIMEOUT_MS ??= '1500';
process.env.CAIRN_HEARTBEAT_MS ??= '200';
process.env.CAIRN_LOG_LEVEL ??= 'error';

const secret = randomBytes(12).toString('hex');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
interface Member {
  node: RunningNode;
  heal: SelfHealing;
  name: string;
  announced: number;
}
let dir: string;
let root: RunningNode;
const members: Member[] = [];
const objects = new Map<string, string>();

async function start(name: string): Promise<Member> {
  const host = loopbackAddress();
  const node = await startNode({
    roles: ['node'],
    name,
    dataDir: join(dir, name),
    api: `${host}:0`,
    cluster: `${host}:0`,
    roots: [root.clusterUrl],
    secret,
    chunkSize: 64 * 1024,
  });
  const view = node.view as MultiClusterView;
  const heal = startSelfHealing({
    view,
    replicas: node.replicas,
    stores: { ...node.stores, memory: node.memory.chunks },
    secret,
    markDrained: (id) => view.markDrained(id),
    repairIntervalMs: 500,
    gcGraceMs: 1500,
    scrubIntervalMs: 3_600_000,
    uploadExpiryMs: 6_000,
    announce: () => {
      m.announced++;
    },
  });
  node.clusterApp.use(heal.router);
  const m: Member = { node, heal, name, announced: 0 };
  members.push(m);
  return m;
}
async function stop(m: Member) {
  members.splice(members.indexOf(m), 1);
  await m.heal.stop();
  await m.node.stop();
}
const live = () => members;
async function read(m: Member, key: string): Promise<string> {
  const r = await m.node.objects.getObject('heal', key);
  const parts: Buffer[] = [];
  for await (const b of r.body) parts.push(b as Buffer);
  return sha(Buffer.concat(parts));
}
async function put(key: string, size: number) {
  const body = randomBytes(size);
  await members[0]!.node.objects.putObject('heal', key, Readable.from([body]), { size });
  objects.set(key, sha(body));
}
/** Every live data member finished a pass that started after `since` and reports nothing under-replicated. */
async function converged(since: number, what: string) {
  await waitFor(
    () =>
      live().every((m) => {
        const p = m.heal.repair!.snapshot();
        return p.lastPassAt > since && p.underReplicatedChunks === 0;
      }),
    { timeoutMs: 30_000, intervalMs: 100, what },
  );
}
async function chunkCopies(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of live()) for await (const id of m.node.stores.chunks.ids()) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}
const state = (name: string) => root.view.members().find((x) => x.name === name)?.state;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-heal-'));
  const host = loopbackAddress();
  root = await startNode({
    roles: ['root'],
    name: 'root-0',
    dataDir: join(dir, 'root'),
    api: `${host}:0`,
    cluster: `${host}:0`,
    secret,
    replicas: 2,
    chunkSize: 64 * 1024,
  });
  for (let i = 0; i < 4; i++) await start(`node-${i}`);
  await waitFor(() => root.view.members().filter((m) => m.state === 'active').length === 5, { timeoutMs: 10_000, what: 'members active' });
  await waitFor(() => members.every((m) => m.node.view.members().filter((x) => x.state === 'active').length === 5), { timeoutMs: 10_000, what: 'maps spread' });
  await root.objects.createBucket('heal', { owner: 'test', replicas: 2 });
  await waitFor(() => members.every((m) => m.node.view.bucket('heal')), { what: 'bucket known' });
});

test.after(async () => {
  for (const m of [...members]) await stop(m).catch(() => {});
  await root?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('lose a node → back to R copies → lose another → every object intact', async () => {
  for (let i = 0; i < 12; i++) await put(`obj-${i}`, 100_000 + i * 7_000);
  await converged(Date.now(), 'initial pass');
  for (const [id, n] of await chunkCopies()) assert.is(n, 2, `chunk ${id.slice(0, 8)} has 2 copies`);

  const first = members[1]!;
  const announcedBefore = new Map(members.map((m) => [m.name, m.announced]));
  await stop(first);
  await waitFor(() => state(first.name) === 'down', { timeoutMs: 10_000, what: 'first node down' });
  const downAt = Date.now();
  await converged(downAt, 'redundancy restored');
  // A member that found chunks under-replicated told the roots at once, and again when it had none left.
  const announced = members.map((m) => m.announced - (announcedBefore.get(m.name) ?? 0));
  assert.ok(
    announced.some((n) => n >= 2),
    `announcements per member: ${announced.join(', ')}`,
  );
  assert.ok(
    announced.every((n) => n % 2 === 0),
    `every "under-replicated" announcement is followed by its "none left": ${announced.join(', ')}`,
  );
  const copies = await chunkCopies();
  for (const [id, n] of copies) assert.ok(n >= 2, `chunk ${id.slice(0, 8)} has ${n} live copies`);

  const second = members[2]!;
  await stop(second);
  for (const m of live()) for (const [key, want] of objects) assert.is(await read(m, key), want, `${key} via ${m.name}`);
  // Garbage collection waits while any member is down (it might hold the only copy of some
  // metadata); the operator forgets members that will not come back.
  await waitFor(() => state(second.name) === 'down', { timeoutMs: 10_000, what: 'second node down' });
  for (const gone of [first, second]) await (root.view as MultiClusterView).forgetMember(gone.node.id);
});

test('join: a new node receives its share without any command', async () => {
  const joined = await start('node-new');
  await waitFor(() => state('node-new') === 'active', { what: 'new node active' });
  await waitFor(async () => (await chunkCopies()).size > 0 && joined.node.stores.chunks.chunkCount() > 0, { timeoutMs: 20_000, what: 'new node holds chunks' });
  await converged(Date.now(), 'rebalanced');
  // Surplus copies go in the holders' next passes, once every desired holder confirmed.
  await waitFor(async () => [...(await chunkCopies()).values()].every((n) => n === 2), { timeoutMs: 20_000, what: 'exactly R copies after rebalancing' });
  for (const [key, want] of objects) assert.is(await read(joined, key), want);
});

test('GC: chunks of deleted objects go after the grace period; live ones stay', async () => {
  const before = await chunkCopies();
  await members[0]!.node.objects.deleteObject('heal', 'obj-0');
  await members[0]!.node.objects.deleteObject('heal', 'obj-1');
  objects.delete('obj-0');
  objects.delete('obj-1');
  await waitFor(async () => (await chunkCopies()).size < before.size, { timeoutMs: 20_000, what: 'garbage collected' });
  // The tombstones go too, once every member has them (and the object stays deleted).
  await waitFor(async () => (await Promise.all(members.map((m) => m.node.stores.meta.getVersion('heal', 'obj-0')))).every((v) => v === undefined), {
    timeoutMs: 20_000,
    what: 'tombstones collected',
  });
  await members[1]!.node.objects.headObject('heal', 'obj-0').then(
    () => assert.unreachable('obj-0 is back'),
    (e) => assert.is((e as { code?: string }).code, 'NoSuchKey'),
  );
  await converged(Date.now(), 'after gc');
  for (const [key, want] of objects) assert.is(await read(members[0]!, key), want);
});

test('GC: chunks of aborted and of abandoned multipart uploads are collected', async () => {
  const svc = members[0]!.node.objects;
  const held = async (ids: string[]) => {
    const c = await chunkCopies();
    return ids.filter((id) => c.has(id)).length;
  };
  const aborted = await svc.createUpload('heal', 'mp-aborted', {});
  const p1 = await svc.uploadPart('heal', 'mp-aborted', aborted.uploadId, 1, Readable.from([randomBytes(150_000)]), { size: 150_000 });
  const abandoned = await svc.createUpload('heal', 'mp-abandoned', {});
  const p2 = await svc.uploadPart('heal', 'mp-abandoned', abandoned.uploadId, 1, Readable.from([randomBytes(150_000)]), { size: 150_000 });
  const ids1 = p1.chunks.map((c) => c.id),
    ids2 = p2.chunks.map((c) => c.id);
  await converged(Date.now(), 'parts placed');
  assert.is(await held(ids2), ids2.length, 'parts of an upload in progress are kept');
  await svc.abortUpload('heal', 'mp-aborted', aborted.uploadId);
  await waitFor(async () => (await held(ids1)) === 0, { timeoutMs: 20_000, what: 'aborted upload collected' });
  await waitFor(async () => (await held(ids2)) === 0, { timeoutMs: 30_000, what: 'abandoned upload expired and collected' });
  assert.equal(await svc.listUploads('heal', { maxUploads: 10 }), []);
});

test('scrub replaces a corrupted chunk file from a good replica', async () => {
  const m = members[0]!;
  let victim: string | undefined;
  for await (const id of m.node.stores.chunks.ids()) {
    victim = id;
    break;
  }
  assert.ok(victim, 'node holds a chunk');
  await writeFile(m.node.stores.chunks.path(victim!), randomBytes(64 * 1024));
  const r = await m.heal.scrub!.check(victim!);
  assert.is(r, 'repaired');
  assert.is(sha((await m.node.stores.chunks.get(victim!)).bytes), victim);
  assert.ok(m.heal.scrub!.status.corrupt >= 1);
});

test('drain: data moves off and the member becomes drained', async () => {
  const target = members[0]!;
  await (root.view as MultiClusterView).setMemberState(target.node.id, 'draining');
  await waitFor(() => state(target.name) === 'drained', { timeoutMs: 30_000, what: 'drained' });
  await converged(Date.now(), 'after drain');
  const others = live().filter((m) => m !== target);
  const held = new Map<string, number>();
  for (const m of others) for await (const id of m.node.stores.chunks.ids()) held.set(id, (held.get(id) ?? 0) + 1);
  for (const [key, want] of objects) {
    const v = await others[0]!.node.objects.headObject('heal', key);
    for (const c of v.chunks) assert.ok((held.get(c.id) ?? 0) >= 2, `${key} chunk on 2 other members`);
    assert.is(await read(others[0]!, key), want);
  }
});

test('undrain: the member is active again and the cluster converges to exactly R copies', async () => {
  const target = members[0]!;
  await (root.view as MultiClusterView).setMemberState(target.node.id, 'active');
  await waitFor(() => members.every((m) => m.node.view.member(target.node.id)?.state === 'active'), { what: 'active everywhere' });
  const since = Date.now();
  await converged(since, 'after undrain');
  await waitFor(async () => [...(await chunkCopies()).values()].every((n) => n === 2), { timeoutMs: 20_000, what: 'exactly R copies' });
  assert.ok(target.node.stores.chunks.chunkCount() > 0, 'the undrained member holds its share again');
  // Metadata too: the bucket's partition ends up on exactly R members.
  const holders = async () => (await Promise.all(members.map((m) => m.node.stores.meta.bucketsWithData()))).filter((b) => b.includes('heal')).length;
  await waitFor(async () => (await holders()) === 2, { timeoutMs: 20_000, what: 'partition on exactly R members' });
  for (const [key, want] of objects) assert.is(await read(members[1]!, key), want);
});

test('repair never spreads a corrupt copy: the only holder left with bad bytes copies nothing', async () => {
  await put('corrupt-src', 100_000);
  await converged(Date.now(), 'placed');
  const v = await members[0]!.node.objects.headObject('heal', 'corrupt-src');
  const c = v.chunks[0]!.id;
  const holders: Member[] = [];
  for (const m of live()) if (await m.node.stores.chunks.has(c)) holders.push(m);
  assert.is(holders.length, 2, 'two copies before');
  const [bad, lost] = holders as [Member, Member];
  const others = live().filter((m) => !holders.includes(m));
  assert.ok(others.length > 0, 'a member to copy to');
  await writeFile(bad.node.stores.chunks.path(c), randomBytes(64 * 1024));
  await stop(lost);
  await waitFor(() => state(lost.name) === 'down', { timeoutMs: 10_000, what: 'holder down' });
  const downAt = Date.now();
  // The bad holder's passes find the chunk under-replicated and cannot fix it (it has no good copy).
  await waitFor(
    () => {
      const p = bad.heal.repair!.snapshot();
      return p.lastPassAt > downAt + 600 && p.underReplicatedChunks >= 1;
    },
    { timeoutMs: 20_000, what: 'a pass after the loss' },
  );
  for (const m of others) assert.not.ok(await m.node.stores.chunks.has(c), `${m.name} got no copy of the corrupt chunk`);
  await members[0]!.node.objects.getObject('heal', 'corrupt-src').then(
    async (r) => {
      for await (const _ of r.body) {
        /* drain */
      }
      assert.unreachable('read returned bytes of a corrupt chunk');
    },
    () => {},
  );
});

test.run();
