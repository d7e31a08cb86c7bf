// Real processes on loopback: 1 root + 3 nodes, a bucket with R=3 (W=2). With two nodes killed a
// write fails with 503 ServiceUnavailable in bounded time and leaves no visible object; once one
// node is back it succeeds. Also: the cluster port refuses calls without the cluster secret.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import { RpcClient } from '../rpc/client.ts';
import { RemoteChunkReplica } from '../data/remote-replica.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKQUORUM',
  secretKey = 'quorum-secret-key';
const env = { CAIRN_FAILURE_TIMEOUT_MS: '2500', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn' };
const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', '65536'] };
const BUCKET = 'quorum';

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const admin = () => createAdminClient({ url: root.cluster, secret });
// No client retries: the test asserts the server's own answer to a write without quorum.
const s3 = (p: CairnProcess) => s3Client(p, { retryOptions: { disableRetry: true } });
// For the 503 check: the minio client turns a 503 into a generic retry error without the S3 code.
function aws(p: CairnProcess) {
  return new S3Client({
    endpoint: p.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
  });
}
async function read(p: CairnProcess, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of await s3(p).getObject(BUCKET, key)) parts.push(b as Buffer);
  return Buffer.concat(parts);
}
const activeCount = async () => (await admin().status()).members.filter((m) => m.roles.includes('node') && m.state === 'active').length;

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  procs.push(root);
  nodes = await Promise.all([0, 1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  await waitFor(async () => (await activeCount()) === 3, { timeoutMs: 10_000, what: 'nodes active' });
  await admin().putBucket({ name: BUCKET, replicas: 3 });
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('R=3 with two nodes killed: PUT fails with 503 in bounded time, no object appears, and succeeds once one node returns', async () => {
  const before = randomBytes(150_000);
  await s3(nodes[0]).putObject(BUCKET, 'before', before, before.length);
  const probe = async (p: CairnProcess, path: string) => {
    const r = await fetch(`${p.cluster}${path}`);
    await r.body?.cancel();
    return r.status;
  };
  assert.is(await probe(nodes[0], '/maintenance'), 200, 'with R=3 one node may stop');
  assert.is(await probe(root, '/cluster/health'), 200);

  await Promise.all([nodes[1].kill('SIGKILL'), nodes[2].kill('SIGKILL')]);
  const body = randomBytes(200_000);
  try {
    for (const via of [nodes[0], root]) {
      const t0 = Date.now();
      try {
        await aws(via).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'during', Body: body }));
        assert.unreachable('the write must fail without a write quorum');
      } catch (e) {
        const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
        assert.is(err.name, 'ServiceUnavailable', `through ${via.name}: ${err.message}`);
        assert.is(err.$metadata?.httpStatusCode, 503);
      }
      assert.ok(Date.now() - t0 < 15_000, `failed within bounded time (${Date.now() - t0} ms)`);
    }
    await waitFor(async () => (await probe(root, '/cluster/health')) === 503, { timeoutMs: 10_000, what: 'cluster health 503 once both are down' });
    // nodes-0 learns the two `down` states from the root's map on its next heartbeat: poll, don't race it.
    await waitFor(async () => (await probe(nodes[0], '/maintenance')) === 412, { timeoutMs: 10_000, what: 'the last node may not stop (412)' });
  } finally {
    await nodes[1].restart();
  }
  await waitFor(async () => (await activeCount()) === 2, { timeoutMs: 10_000, what: 'one node back' });
  // The failed write left nothing visible.
  try {
    await s3(nodes[0]).statObject(BUCKET, 'during');
    assert.unreachable('no object after a failed write');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'NotFound');
  }
  const listed: string[] = [];
  for await (const o of s3(nodes[1]).listObjectsV2(BUCKET, '', true)) listed.push((o as { name: string }).name);
  assert.equal(listed, ['before']);

  await s3(nodes[0]).putObject(BUCKET, 'during', body, body.length);
  assert.is(sha(await read(nodes[1], 'during')), sha(body));
  assert.is(sha(await read(root, 'before')), sha(before));
});

test.after.each(async () => {
  // Every test starts with all members up, whatever the previous one left behind.
  for (const p of procs)
    if (
      !(await fetch(`${p.cluster}/healthz`).then(
        (r) => r.ok,
        () => false,
      ))
    )
      await p.restart();
});

test('the cluster port refuses internal RPC and admin calls without the cluster secret (401, no effect)', async () => {
  const body = Buffer.from('not allowed in');
  const id = sha(body);
  for (const auth of [undefined, 'Bearer wrong-secret']) {
    const res = await request(`${nodes[0].cluster}/rpc/v1/chunks/${id}`, {
      method: 'PUT',
      body,
      headers: { 'content-length': String(body.length), ...(auth ? { authorization: auth } : {}) },
    });
    assert.is(res.statusCode, 401);
    await res.body.dump();
    const adm = await request(`${root.cluster}/admin/v1/buckets/sneaky`, {
      method: 'PUT',
      body: '{}',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    });
    assert.is(adm.statusCode, 401);
    await adm.body.dump();
  }
  const rpc = new RpcClient({ secret });
  try {
    const id0 = (await admin().status()).members.find((m) => m.name === nodes[0].name)!.id;
    assert.equal(await new RemoteChunkReplica(id0, nodes[0].cluster, rpc).hasChunks([id]), [false], 'nothing stored');
  } finally {
    await rpc.close();
  }
  assert.ok(!(await admin().status()).buckets.some((b) => b.name === 'sneaky'));
});

test.run();
