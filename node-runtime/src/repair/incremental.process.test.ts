// Incremental repair with real `cairn server` processes (1 root + 3 nodes, R=2): once the cluster
// settled, repair passes keep running but read nothing (the entries-visited counter stands still);
// a holder that lost its copy of a partition and a chunk while it was stopped is brought back by the
// others' incremental passes (digests differ, chunk counts changed), not by the full safety-net pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { chunkFiles, s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import { RpcClient } from '../rpc/client.ts';
import { RemoteMetaReplica } from '../data/remote-replica.ts';
import { MetaStore } from '../meta/store.ts';
import { sameDigest } from '../meta/digest.ts';
import type { MemberRepairReport } from '../node/self-healing.ts';

const secret = randomBytes(12).toString('hex');
const env = { CAIRN_FAILURE_TIMEOUT_MS: '3000', CAIRN_HEARTBEAT_MS: '250', CAIRN_REPAIR_INTERVAL_MS: '300', CAIRN_LOG_LEVEL: 'error' };
const common = { secret, accessKey: 'AKINCREMENTAL', secretKey: 'incremental-secret-key', env, extraArgs: ['--chunk-size', '65536'] };
const BUCKET = 'inc';
let root: CairnProcess;
const nodes: CairnProcess[] = [];
const rpc = new RpcClient({ secret, retries: 0 });
const admin = () => createAdminClient({ url: root.cluster, secret });

async function report(p: CairnProcess): Promise<MemberRepairReport> {
  const res = await fetch(`${p.cluster}/rpc/v1/repair`, { headers: { authorization: `Bearer ${secret}` } });
  return (await res.json()) as MemberRepairReport;
}
async function visitedTotal(p: CairnProcess): Promise<number> {
  const text = await (await fetch(`${p.cluster}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^cairn_repair_entries_visited_total\{[^}]*\} (\S+)$/gm)) sum += Number(m[1]);
  return sum;
}
const digests = (p: CairnProcess) => new RemoteMetaReplica(p.name, p.cluster, rpc).partitionDigests();
/** Wait until every node's last pass left the chunk phase out and read nothing, two passes or more after
 *  this call (a pass reporting so from before the last writes would say nothing about them). */
async function settled(what: string): Promise<void> {
  const since = await Promise.all(nodes.map(async (n) => (await report(n)).repair.passes));
  await waitFor(
    async () => {
      const reports = await Promise.all(nodes.map(report));
      return reports.every((r, i) => {
        const last = r.repair.lastPass;
        return r.repair.passes >= since[i]! + 2 && last?.kind === 'incremental' && !last.chunks && last.visited === 0;
      });
    },
    { timeoutMs: 30_000, intervalMs: 200, what },
  );
}

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  for (let i = 0; i < 3; i++) nodes.push(await startCairnProcess({ ...common, roles: ['node'], name: `node-${i}`, roots: [root.cluster] }));
  await waitFor(async () => (await admin().status()).counts.active === 4, { timeoutMs: 15_000, what: 'members active' });
  await admin().putBucket({ name: BUCKET, replicas: 2 });
  const s3 = s3Client(nodes[0]!);
  for (let i = 0; i < 30; i++) await s3.putObject(BUCKET, `small-${i}`, randomBytes(1000), 1000);
  for (let i = 0; i < 4; i++) await s3.putObject(BUCKET, `big-${i}`, randomBytes(200_000), 200_000);
});

test.after(async () => {
  await Promise.allSettled([root, ...nodes].map((p) => p?.cleanup()));
  await rpc.close();
});

test('a settled cluster keeps passing but reads nothing: no partition entry, no index record, no chunk', async () => {
  await settled('every node skipping');
  const before = await Promise.all(nodes.map(async (n) => ({ passes: (await report(n)).repair.passes, visited: await visitedTotal(n) })));
  await waitFor(async () => (await Promise.all(nodes.map(report))).every((r, i) => r.repair.passes >= before[i]!.passes + 3), {
    timeoutMs: 15_000,
    what: 'three more passes on every node',
  });
  const after = await Promise.all(nodes.map(visitedTotal));
  assert.equal(
    after,
    before.map((b) => b.visited),
    'passes with nothing changed visit no entry',
  );
  for (const n of nodes) assert.is((await report(n)).repair.fullPasses, 1, 'only the first pass was full');
});

test('a holder that lost its partition copy and a chunk is repaired by the others incremental passes', async () => {
  const held = await Promise.all(nodes.map(digests));
  const holders = nodes.filter((_, i) => held[i]![BUCKET]);
  assert.is(holders.length, 2, 'R=2 holders of the partition');
  const [x, other] = holders as [CairnProcess, CairnProcess];
  const fullBefore = (await report(other)).repair.fullPasses;
  const chunksBefore = (await chunkFiles(x)).length;
  assert.ok(chunksBefore > 0);

  // Lose the partition and one chunk while x is stopped (as a disk restored from an old backup would).
  await x.stop();
  const store = MetaStore.open(x.dataDir);
  await store.dropPartition(BUCKET);
  await store.close();
  await unlink((await chunkFiles(x))[0]!);
  await x.restart();

  const want = held[nodes.indexOf(other)]![BUCKET];
  await waitFor(async () => sameDigest((await digests(x))[BUCKET], want), { timeoutMs: 30_000, intervalMs: 200, what: 'partition pushed back to x' });
  await waitFor(async () => (await chunkFiles(x)).length === chunksBefore, { timeoutMs: 30_000, intervalMs: 200, what: 'chunk copied back to x' });
  assert.is((await report(other)).repair.fullPasses, fullBefore, 'repaired by incremental passes, not the safety net');
  // And the cluster settles into skipping again.
  await settled('every node skipping again');
  const s3 = s3Client(x);
  for (let i = 0; i < 4; i++) assert.is((await s3.statObject(BUCKET, `big-${i}`)).size, 200_000);
});

test.run();
