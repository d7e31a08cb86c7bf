// Real processes on loopback with two roots (one root+node, one root only) and three nodes: the
// roots share the cluster map by gossip; with one root killed the other keeps the service going
// (registry writes, failure detection, admin); the returning root catches up on what it missed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKROOTS',
  secretKey = 'roots-secret-key';
const env = { CAIRN_FAILURE_TIMEOUT_MS: '2500', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn' };
const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', '65536'] };

const procs: CairnProcess[] = [];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const s3 = (p: CairnProcess) => s3Client(p);
async function read(p: CairnProcess, bucket: string, key: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of await s3(p).getObject(bucket, key)) parts.push(b as Buffer);
  return sha(Buffer.concat(parts));
}

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('two roots: gossip, one root killed, the other carries on, the first catches up', async () => {
  // root-1 starts first; root-0 (also a data node) lists it, and their push-pull gossip rides on
  // root-0's heartbeats, so each learns everything the other knows.
  const r1 = await startCairnProcess({ ...common, roles: ['root'], name: 'root-1' });
  const r0 = await startCairnProcess({ ...common, roles: ['root', 'node'], name: 'root-0', roots: [r1.cluster] });
  procs.push(r0, r1);
  const rootUrls = [r0.cluster, r1.cluster];
  const nodes = await Promise.all([0, 1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: rootUrls })));
  procs.push(...nodes);
  const admin = (url: string) => createAdminClient({ url, secret });
  for (const url of rootUrls) {
    await waitFor(async () => (await admin(url).status()).counts.active === 5, { timeoutMs: 10_000, what: `5 active members at ${url}` });
  }
  await admin(rootUrls[0]).putBucket({ name: 'shared', replicas: 2 });
  await waitFor(async () => (await admin(rootUrls[1]).status()).buckets.some((b) => b.name === 'shared'), { timeoutMs: 3000, what: 'bucket gossiped' });
  const body = randomBytes(150_000);
  await s3(nodes[0]).putObject('shared', 'a', body, body.length);

  await r0.kill('SIGKILL');
  await waitFor(async () => (await admin(rootUrls[1]).status()).members.find((m) => m.name === 'root-0')?.state === 'down', {
    timeoutMs: 10_000,
    what: 'root-0 down at root-1',
  });
  await admin(rootUrls[1]).putBucket({ name: 'while-down', replicas: 2 });
  await s3(nodes[1]).putObject('while-down', 'b', body, body.length);
  for (const n of nodes) {
    assert.is(await read(n, 'shared', 'a'), sha(body), `shared/a through ${n.name}`);
    assert.is(await read(n, 'while-down', 'b'), sha(body), `while-down/b through ${n.name}`);
  }

  await r0.restart();
  await waitFor(
    async () => {
      const s = await admin(rootUrls[0]).status();
      return s.buckets.some((b) => b.name === 'while-down') && s.members.find((m) => m.name === 'root-0')?.state === 'active';
    },
    { timeoutMs: 10_000, what: 'root-0 caught up and active' },
  );
  assert.is(await read(r0, 'while-down', 'b'), sha(body));
});

test.run();
