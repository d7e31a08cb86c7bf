// Real processes on loopback: 1 root + 4 nodes, a bucket with R=2. Killing any one node (SIGKILL)
// loses nothing: every object reads back intact through every surviving member; once the root has
// marked the node down, writes succeed again; a restarted node keeps its identity and its data; with
// the root killed, reads and writes continue from the nodes' cached maps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { readSha256, s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import type { ClusterStatus } from '../admin/types.ts';
import { replicasFor } from './placement.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKFAILOVER',
  secretKey = 'failover-secret-key';
const env = { CAIRN_FAILURE_TIMEOUT_MS: '3000', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn' };
const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', '65536'] };
const BUCKET = 'failover';

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
const objects = new Map<string, string>(); // key → sha256 of the body

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const s3 = (p: CairnProcess) => s3Client(p);
const read = (p: CairnProcess, key: string) => readSha256(s3(p), BUCKET, key);
async function put(p: CairnProcess, key: string, size: number): Promise<void> {
  const body = randomBytes(size);
  await s3(p).putObject(BUCKET, key, body, body.length);
  objects.set(key, sha(body));
}
async function readsIntactThrough(survivors: CairnProcess[], only?: (key: string) => boolean): Promise<void> {
  for (const p of survivors) {
    for (const [key, want] of objects) {
      if (only && !only(key)) continue;
      let got: string;
      try {
        got = await read(p, key);
      } catch (e) {
        throw new Error(`${key} through ${p.name}: ${(e as Error).message}`);
      }
      assert.is(got, want, `${key} through ${p.name}`);
    }
  }
}
const admin = () => createAdminClient({ url: root.cluster, secret });
const stateIn = (s: ClusterStatus, name: string) => s.members.find((m) => m.name === name)?.state;

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  procs.push(root);
  nodes = await Promise.all([0, 1, 2, 3].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  await waitFor(async () => (await admin().status()).counts.active === 5, { timeoutMs: 10_000, what: 'all members active' });
  const b = await admin().putBucket({ name: BUCKET, replicas: 2 });
  assert.is(b.replicas, 2);
  // Inline, one-chunk and multi-chunk bodies, written through different members.
  const sizes = [100, 5000, 65536, 200_000, 140_001, 70_000];
  await Promise.all(sizes.map((size, i) => put([root, ...nodes][i % 5], `obj-${i}`, size)));
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('SIGKILL of any one node: every object reads back intact through every surviving member', async () => {
  for (const victim of nodes) {
    await victim.kill('SIGKILL');
    try {
      await readsIntactThrough([root, ...nodes.filter((n) => n !== victim)]);
    } finally {
      await victim.restart();
    }
    await waitFor(async () => stateIn(await admin().status(), victim.name) === 'active', { timeoutMs: 10_000, what: `${victim.name} active again` });
  }
});

test('after a node is marked down writes succeed again, and old and new objects read back everywhere', async () => {
  // The hard case: a holder of the bucket's metadata partition.
  const st = await admin().status();
  const holder = replicasFor(
    `bucket:${BUCKET}`,
    st.members.map((m) => ({ ...m, lastHeartbeat: 0 })),
    2,
  )[0];
  const victim = nodes.find((n) => n.name === holder.name)!;
  const before = st.members.find((m) => m.name === victim.name)!;
  await victim.kill('SIGKILL');
  const survivors = [root, ...nodes.filter((n) => n !== victim)];
  try {
    await waitFor(async () => stateIn(await admin().status(), victim.name) === 'down', { timeoutMs: 10_000, what: `${victim.name} down` });
    for (let i = 0; i < 4; i++) await put(survivors[i % survivors.length], `after-down-${i}`, i % 2 ? 90_000 : 500);
    await readsIntactThrough(survivors);
  } finally {
    // The node comes back with the same id and the chunks it held.
    await victim.restart();
  }
  const s: ClusterStatus = await waitFor(
    async () => {
      const st = await admin().status();
      return stateIn(st, victim.name) === 'active' ? st : undefined;
    },
    { timeoutMs: 10_000, what: 'victim active again' },
  );
  const back = s.members.filter((m) => m.name === victim.name);
  assert.is(back.length, 1, 'one entry: the same member, not a new one');
  assert.is(back[0].id, before.id);
  await waitFor(async () => ((await admin().status()).members.find((m) => m.name === victim.name)?.chunks ?? 0) >= before.chunks, {
    timeoutMs: 5000,
    what: 'chunks kept',
  });
  // Objects written while it was down, and the older ones, read back through every member now it is back.
  await readsIntactThrough([root, ...nodes]);
});

test('with the root killed, reads and writes continue through the nodes, also after a node restart', async () => {
  await root.kill('SIGKILL');
  for (let i = 0; i < 4; i++) await put(nodes[i], `rootless-${i}`, 120_000);
  // Objects written while a node was down are the previous test's concern (they need repair).
  await readsIntactThrough(nodes, (key) => !key.startsWith('after-down-'));
  // A node restarted while no root is up comes back from its cached map and serves.
  await nodes[0].restart();
  await put(nodes[0], 'rootless-after-restart', 80_000);
  await readsIntactThrough([nodes[0], nodes[3]], (key) => !key.startsWith('after-down-'));
  await root.restart();
  await waitFor(async () => (await admin().status()).counts.active === 5, { timeoutMs: 10_000, what: 'root back, all active' });
});

test.run();
