// Sick data disks with real processes on loopback (issue 19, findings 3 and 4): 1 root + 4 nodes,
// R=2. A node whose disk is below its reserve takes no new chunks but keeps serving what it holds,
// says so in the status and its metrics, and writes go on through the others; only a cluster where
// no member has room answers 507. A node whose data directory vanishes under it leaves readiness and
// placement, and repair rebuilds its copies on the others.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Minio from 'minio';
import { readSha256, s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import type { MemberStatus } from '../admin/types.ts';
import { startNode } from '../node/start.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKDISKFAULTS',
  secretKey = 'disk-faults-secret-key';
const env = { CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'error', CAIRN_REPAIR_INTERVAL_MS: '1000', CAIRN_FAILURE_TIMEOUT_MS: '3000' };
const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', '65536'] };
const BUCKET = 'disks';
const NO_ROOM = String(1e15); // a reserve no disk has free: the node is full from the start

let base: string;
const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
const objects = new Map<string, string>();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const admin = () => createAdminClient({ url: root.cluster, secret });
const member = async (name: string): Promise<MemberStatus | undefined> => (await admin().status()).members.find((m) => m.name === name);

async function put(p: CairnProcess, key: string, size: number): Promise<void> {
  const body = randomBytes(size);
  await s3Client(p).putObject(BUCKET, key, body, body.length);
  objects.set(key, sha(body));
}
async function unreadable(through: CairnProcess[]): Promise<string[]> {
  const bad: string[] = [];
  for (const [key, want] of objects) {
    for (const p of through) {
      const got = await readSha256(s3Client(p), BUCKET, key).catch((e: Error) => e.message);
      if (got !== want) bad.push(`${key} via ${p.name}: ${got}`);
    }
  }
  return bad;
}

test.before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-disks-'));
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0', dataDir: join(base, 'root-0') });
  procs.push(root);
  nodes = await Promise.all(
    [0, 1, 2, 3].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster], dataDir: join(base, `nodes-${i}`) })),
  );
  procs.push(...nodes);
  await waitFor(async () => (await admin().status()).counts.active === 5, { timeoutMs: 15_000, what: 'all members active' });
  await admin().putBucket({ name: BUCKET, replicas: 2 });
  for (let i = 0; i < 12; i++) await put(nodes[i % 4]!, `before-${i}`, 200_000);
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
  await rm(base, { recursive: true, force: true });
});

test('a full disk takes no new chunks, keeps serving reads, and says so; writes succeed on the others', async () => {
  const full = nodes[3]!;
  await waitFor(async () => ((await member(full.name))?.chunks ?? 0) > 0, { timeoutMs: 10_000, what: 'chunks on the node before it fills' });
  // The node comes back with less free space than its reserve.
  await full.stop();
  const restarted = await startCairnProcess({
    ...common,
    roles: ['node'],
    name: full.name,
    roots: [root.cluster],
    dataDir: full.dataDir,
    env: { ...env, CAIRN_DISK_RESERVE_BYTES: NO_ROOM },
  });
  procs.push(restarted);
  nodes[3] = restarted;
  const st = await waitFor(
    async () => {
      const m = await member(full.name);
      return m?.state === 'active' && m.disk === 'full' ? m : undefined;
    },
    { timeoutMs: 10_000, what: 'the full node active with its disk reported full' },
  );
  const held = st.chunks;
  const metrics = await (await fetch(`${restarted.cluster}/metrics`)).text();
  assert.match(metrics, /cairn_node_disk_state\{[^}]*state="full"[^}]*\} 1/);
  assert.is((await fetch(`${restarted.cluster}/readyz`)).status, 200, 'a full node still serves');

  for (let i = 0; i < 24; i++) await put(nodes[i % 4]!, `while-full-${i}`, 150_000);
  // Repair passes run meanwhile: the full node neither receives chunks nor has its own moved away.
  const t0 = Date.now();
  await waitFor(
    async () => {
      const s = await admin().status();
      return s.members.filter((m) => m.roles.includes('node')).every((m) => (m.repair.lastPassAt ?? 0) > t0) && s.repair.underReplicatedChunks === 0;
    },
    { timeoutMs: 20_000, what: 'repair passes after the writes' },
  );
  assert.is((await member(full.name))?.chunks, held, 'no new chunk on the full node, none taken from it');
  assert.equal(await unreadable([restarted, nodes[0]!]), []);
});

test('507 InsufficientStorage only when no member has room for a chunk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-full-one-'));
  const host = loopbackAddress();
  const one = await startNode({ dataDir: dir, api: `${host}:0`, cluster: `${host}:0`, chunkSize: 65536, diskReserveBytes: Number(NO_ROOM) });
  try {
    const u = new URL(one.endpoint);
    const mc = new Minio.Client({
      endPoint: u.hostname,
      port: Number(u.port),
      useSSL: false,
      accessKey: one.accessKey,
      secretKey: one.secretKey,
      pathStyle: true,
      region: one.region,
    });
    await mc.makeBucket('full');
    const small = randomBytes(1000);
    await mc.putObject('full', 'inline', small, small.length); // kept in metadata: no chunk needed
    const big = randomBytes(300_000);
    try {
      await mc.putObject('full', 'chunked', big, big.length);
      assert.unreachable('a chunked PUT must fail');
    } catch (e) {
      assert.is((e as { code?: string }).code, 'InsufficientStorage', String(e));
    }
  } finally {
    await one.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a data directory that vanishes takes the node out of readiness and placement; repair rebuilds its copies', async () => {
  const victim = nodes[2]!;
  const survivors = [root, ...nodes.filter((n) => n !== victim)];
  await rename(victim.dataDir, `${victim.dataDir}.gone`);
  const t0 = Date.now();
  const ready = await waitFor(
    async () => {
      const r = await fetch(`${victim.cluster}/readyz`);
      const body = (await r.json()) as { reason: string };
      return r.status === 503 ? body : undefined;
    },
    { timeoutMs: 10_000, what: 'the node not ready' },
  );
  // Gone, or replaced when something recreated the path meanwhile (the map cache writes under it).
  assert.match(ready.reason, /data directory .* (is gone|was replaced)/, ready.reason);
  const m = await waitFor(
    async () => {
      const x = await member(victim.name);
      return x?.state === 'down' && x.disk === 'failed' ? x : undefined;
    },
    { timeoutMs: 10_000, what: 'the node down with a failed disk' },
  );
  assert.ok(m);
  // Writes go on; every chunk gets back to R copies on the others.
  for (let i = 0; i < 6; i++) await put(survivors[i % survivors.length]!, `after-loss-${i}`, 150_000);
  await waitFor(
    async () => {
      const s = await admin().status();
      return s.members
        .filter((x) => x.roles.includes('node') && x.state === 'active')
        .every((x) => (x.repair.lastPassAt ?? 0) > t0 && x.repair.underReplicatedChunks === 0);
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'full redundancy without the lost disk' },
  );
  assert.equal(await unreadable([nodes[0]!, nodes[1]!]), []);
});

test.run();
