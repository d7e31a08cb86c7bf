// Real `cairn server` processes on loopback (1 root + 4 nodes, R=2) driven with the minio client and
// the admin API (issue 4's "done when"): SIGKILL a node, the cluster reports under-replicated = 0
// again on its own, SIGKILL another, and every object reads back intact. Then: an object deleted
// while a node was down stays deleted when it returns; a node that joins gets its share; a drained
// node reaches `drained`; scrub replaces a corrupted chunk file; GC removes the chunks of deleted
// objects after the grace period and keeps live ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chunkFiles, readSha256, s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import type { ClusterStatus } from '../admin/types.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKREPAIR',
  secretKey = 'repair-secret-key';
const env = {
  CAIRN_FAILURE_TIMEOUT_MS: '2000',
  CAIRN_HEARTBEAT_MS: '250',
  CAIRN_REPAIR_INTERVAL_MS: '1000',
  CAIRN_GC_GRACE_MS: '3000',
  CAIRN_LOG_LEVEL: 'error',
};
const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', '65536'] };
const BUCKET = 'durable';
const bin = new URL('../../bin/cairn.js', import.meta.url).pathname;
const run = promisify(execFile);

let root: CairnProcess;
const nodes: CairnProcess[] = [];
const all = () => [root, ...nodes];
const objects = new Map<string, string>();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const admin = () => createAdminClient({ url: root.cluster, secret });
const s3 = (p: CairnProcess) => s3Client(p);
const read = (p: CairnProcess, key: string) => readSha256(s3(p), BUCKET, key);
async function put(p: CairnProcess, key: string, size: number) {
  const body = randomBytes(size);
  await s3(p).putObject(BUCKET, key, body, body.length);
  objects.set(key, sha(body));
}
const stateOf = (s: ClusterStatus, name: string) => s.members.find((m) => m.name === name)?.state;
/** Every data member that is up reports a pass started after `since` with nothing under-replicated. */
async function converged(since: number, what: string): Promise<ClusterStatus> {
  return waitFor(
    async () => {
      const s = await admin().status();
      const up = s.members.filter((m) => m.roles.includes('node') && (m.state === 'active' || m.state === 'draining'));
      const ok = up.every((m) => (m.repair.lastPassAt ?? 0) > since && m.repair.underReplicatedChunks === 0);
      return ok && s.repair.underReplicatedChunks === 0 ? s : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 250, what },
  );
}
async function kill(p: CairnProcess) {
  await p.kill('SIGKILL');
  await waitFor(async () => stateOf(await admin().status(), p.name) === 'down', { timeoutMs: 15_000, what: `${p.name} down` });
}

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  for (let i = 0; i < 4; i++) nodes.push(await startCairnProcess({ ...common, roles: ['node'], name: `node-${i}`, roots: [root.cluster] }));
  await waitFor(async () => (await admin().status()).counts.active === 5, { timeoutMs: 15_000, what: 'members active' });
  await admin().putBucket({ name: BUCKET, replicas: 2 });
});

test.after(async () => {
  await Promise.allSettled(all().map((p) => p.cleanup()));
});

test('kill a node → under-replicated back to 0 → kill another → every object intact', async () => {
  for (let i = 0; i < 16; i++) await put(nodes[i % 4]!, `obj-${i}`, 150_000 + i * 9_000);
  await converged(Date.now(), 'initial placement');
  await kill(nodes[1]!);
  const s = await converged(Date.now(), 'redundancy after the first loss');
  assert.ok(
    s.members.some((m) => m.repair.bytesMoved > 0),
    'repair copied bytes',
  );
  await kill(nodes[2]!);
  for (const p of [nodes[0]!, nodes[3]!, root]) for (const [key, want] of objects) assert.is(await read(p, key), want, `${key} via ${p.name}`);
});

test('returning nodes reconcile: deleted objects stay deleted, data converges to R again', async () => {
  await s3(nodes[0]!).removeObject(BUCKET, 'obj-0');
  objects.delete('obj-0');
  await put(nodes[3]!, 'obj-0-after', 120_000);
  await nodes[1]!.restart();
  await nodes[2]!.restart();
  await waitFor(async () => (await admin().status()).counts.active === 5, { timeoutMs: 15_000, what: 'back to 5 active' });
  await converged(Date.now(), 'reconciled');
  for (const p of nodes) {
    await s3(p)
      .statObject(BUCKET, 'obj-0')
      .then(
        () => assert.unreachable('obj-0 came back'),
        (e) => assert.is((e as { code?: string }).code, 'NotFound'),
      );
    for (const [key, want] of objects) assert.is(await read(p, key), want, `${key} via ${p.name}`);
  }
});

test('join: a new node gets its share without any command', async () => {
  const joined = await startCairnProcess({ ...common, roles: ['node'], name: 'node-4', roots: [root.cluster] });
  nodes.push(joined);
  await waitFor(async () => (await chunkFiles(joined)).length > 0, { timeoutMs: 30_000, what: 'chunks on the new node' });
  await converged(Date.now(), 'rebalanced');
  for (const [key, want] of objects) assert.is(await read(joined, key), want);
});

test('drain: data moves off and the node becomes drained', async () => {
  const target = nodes[0]!;
  // Through the CLI, as a person would (no terminal here: it prints the state and returns).
  const cli = (...args: string[]) => run(process.execPath, [bin, ...args, '--admin', root.cluster, '--secret', secret]);
  assert.match((await cli('drain', target.name)).stdout, new RegExp(`${target.name} \\(.*\\) is draining`));
  await waitFor(async () => stateOf(await admin().status(), target.name) === 'drained', { timeoutMs: 45_000, intervalMs: 250, what: 'drained' });
  const progress = JSON.parse((await cli('rebalance', 'status', '--json')).stdout) as {
    repair: { bytesMoved: number };
    members: { name: string; state: string }[];
  };
  assert.is(progress.members.find((x) => x.name === target.name)?.state, 'drained');
  assert.ok(progress.repair.bytesMoved > 0);
  await target.stop(); // what scale-down does next: nothing may be lost
  for (const [key, want] of objects) assert.is(await read(nodes[3]!, key), want, `${key} after drain`);
  nodes.splice(0, 1);
  await admin().forget(target.name);
});

test('scrub replaces a corrupted chunk file from a good replica', async () => {
  const p = nodes[2]!;
  const files = await chunkFiles(p);
  assert.ok(files.length > 0);
  await writeFile(files[0]!, randomBytes(65536));
  const res = await fetch(`${p.cluster}/rpc/v1/repair/scrub`, { method: 'POST', headers: { authorization: `Bearer ${secret}` } });
  assert.is(res.status, 202);
  await waitFor(
    async () => {
      const r = (await (await fetch(`${p.cluster}/rpc/v1/repair`, { headers: { authorization: `Bearer ${secret}` } })).json()) as {
        scrub: { repaired: number };
      };
      return r.scrub.repaired >= 1;
    },
    { timeoutMs: 20_000, what: 'scrub repaired' },
  );
  const id = files[0]!.split('/').pop()!;
  assert.is(sha(await readFile(files[0]!)), id, 'the file holds the right bytes again');
});

test('GC: chunks of deleted objects go after the grace period; live objects stay intact', async () => {
  const count = async () => (await Promise.all(nodes.map(chunkFiles))).reduce((n, f) => n + f.length, 0);
  const before = await count();
  for (const key of ['obj-1', 'obj-2', 'obj-3']) {
    await s3(nodes[1]!).removeObject(BUCKET, key);
    objects.delete(key);
  }
  await waitFor(async () => (await count()) < before, { timeoutMs: 30_000, intervalMs: 500, what: 'chunks collected' });
  await converged(Date.now(), 'after gc');
  for (const [key, want] of objects) assert.is(await read(nodes[1]!, key), want);
  // Every remaining chunk file is referenced: held == chunks of live objects × R.
  let expected = 0;
  for (const key of objects.keys()) expected += Math.ceil((await s3(nodes[1]!).statObject(BUCKET, key)).size / 65536) * 2;
  await waitFor(async () => (await count()) === expected, { timeoutMs: 30_000, intervalMs: 500, what: `exactly ${expected} chunk files` });
});

test.run();
