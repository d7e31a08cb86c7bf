// Write availability through a stopped member (issue 19, finding 2), with real processes on loopback:
// 1 root + 4 nodes, a bucket with R=2, and one node SIGSTOPped — it keeps its sockets and answers
// nothing, the hardest failure for a coordinator to see. The stopped node holds the bucket's
// metadata partition, so every write needs a stand-in for it. While it is stopped at least 99.9 %
// of 1,000 writes must succeed (before: about 30 % answered 503 until the 30 s failure timeout); the
// roots must call it down in seconds, not the 30 s failure timeout; and every acknowledged write must
// read back once it returns, and again once it has been replaced by a new node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { readSha256, s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import { replicasFor } from '../cluster/placement.ts';

const WRITES = 1_000;
const WRITERS = 8;
const secret = randomBytes(12).toString('hex');
const accessKey = 'AKAVAILABLE',
  secretKey = 'availability-secret-key';
// The default failure timeout (30 s): the detector has to beat it by itself.
const env = { CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'error', CAIRN_REPAIR_INTERVAL_MS: '2000' };
const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', '65536'] };
const BUCKET = 'available';
const sizes = [700, 20_000, 100_000, 200_000];

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
const acked = new Map<string, string>(); // key → sha256 of the body the client was told is stored
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const admin = () => createAdminClient({ url: root.cluster, secret });
const stateOf = async (name: string) => (await admin().status()).members.find((m) => m.name === name)?.state;

async function readsBack(through: CairnProcess[]): Promise<string[]> {
  const wrong: string[] = [];
  let i = 0;
  for (const [key, want] of acked) {
    const p = through[i++ % through.length]!;
    const got = await readSha256(s3Client(p), BUCKET, key).catch((e: Error) => `error: ${e.message}`);
    if (got !== want) wrong.push(`${key} via ${p.name}: ${got}`);
  }
  return wrong;
}

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  procs.push(root);
  nodes = await Promise.all([0, 1, 2, 3].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  await waitFor(async () => (await admin().status()).counts.active === 5, { timeoutMs: 15_000, what: 'all members active' });
  await admin().putBucket({ name: BUCKET, replicas: 2 });
});

test.after(async () => {
  for (const p of procs) {
    try {
      process.kill(-p.pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  }
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

let victim: CairnProcess;

test('with one of four nodes stopped, at least 99.9 % of 1,000 R=2 writes succeed; the node is down in seconds', async () => {
  const st = await admin().status();
  const holder = replicasFor(
    `bucket:${BUCKET}`,
    st.members.map((m) => ({ ...m, lastHeartbeat: 0 })),
    2,
  )[0]!;
  victim = nodes.find((n) => n.name === holder.name)!;
  const live = [root, ...nodes.filter((n) => n !== victim)];
  process.kill(-victim.pid, 'SIGSTOP');
  const stoppedAt = Date.now();
  let downAfterMs: number | undefined;
  const watchDown = (async () => {
    await waitFor(async () => (await stateOf(victim.name)) === 'down', { timeoutMs: 25_000, intervalMs: 200, what: `${victim.name} down` });
    downAfterMs = Date.now() - stoppedAt;
  })();

  let next = 0,
    failed = 0;
  const errors: string[] = [];
  const writer = async (w: number) => {
    for (let n = next++; n < WRITES; n = next++) {
      const key = `k${n}`;
      const body = randomBytes(sizes[n % sizes.length]!);
      try {
        await s3Client(live[(n + w) % live.length]!).putObject(BUCKET, key, body, body.length);
        acked.set(key, sha(body));
      } catch (e) {
        failed++;
        if (errors.length < 5) errors.push(`${key}: ${(e as Error).message}`);
      }
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  const ms = Date.now() - started;
  await watchDown;
  console.log(
    `write availability: ${WRITES - failed}/${WRITES} writes succeeded in ${(ms / 1000).toFixed(1)} s with ${victim.name} stopped; down after ${downAfterMs} ms`,
  );
  assert.ok((WRITES - failed) / WRITES >= 0.999, `${failed} of ${WRITES} writes failed: ${errors.join('; ')}`);
  assert.ok(downAfterMs! < 15_000, `the roots marked the stopped node down after ${downAfterMs} ms`);
});

test('every acknowledged write reads back after the stopped node returns, and the stand-ins hand their copies back', async () => {
  process.kill(-victim.pid, 'SIGCONT');
  await waitFor(async () => (await stateOf(victim.name)) === 'active', { timeoutMs: 20_000, what: `${victim.name} active again` });
  assert.equal(await readsBack([root, ...nodes]), []);
  // Hinted handoff: copies written to stand-ins reach the members placement wants, then leave the stand-ins.
  const t0 = Date.now();
  await waitFor(
    async () => {
      const data = (await admin().status()).members.filter((m) => m.roles.includes('node'));
      return data.every((m) => (m.repair.lastPassAt ?? 0) > t0 && m.repair.misplacedChunks === 0 && m.repair.underReplicatedChunks === 0);
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'no misplaced or under-replicated chunk left' },
  );
});

test('and after it is replaced by a new node', async () => {
  await victim.kill('SIGKILL');
  await waitFor(async () => (await stateOf(victim.name)) === 'down', { timeoutMs: 20_000, what: `${victim.name} down` });
  await admin().forget(victim.name);
  const replacement = await startCairnProcess({ ...common, roles: ['node'], name: 'nodes-4', roots: [root.cluster] });
  procs.push(replacement);
  const t0 = Date.now();
  await waitFor(
    async () => {
      const s = await admin().status();
      const data = s.members.filter((m) => m.roles.includes('node'));
      return data.length === 4 && data.every((m) => m.state === 'active' && (m.repair.lastPassAt ?? 0) > t0) && s.repair.underReplicatedChunks === 0;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'full redundancy without the old node' },
  );
  assert.equal(await readsBack([replacement, ...nodes.filter((n) => n !== victim)]), []);
});

test.run();
