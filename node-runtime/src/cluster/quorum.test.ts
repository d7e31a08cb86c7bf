// Real processes on loopback: 1 root + 3 nodes, a bucket with R=3 (W=2). With two nodes killed a
// write fails with 503 ServiceUnavailable in bounded time and leaves no visible object; once one
// node is back it succeeds. Also: the cluster port refuses calls without the cluster secret, the
// admin API refuses a drain that cannot finish, and `cairn status` prints the cluster for people.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as Minio from 'minio';
import { request } from 'undici';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient, AdminApiError } from '../admin/client.ts';
import { RpcClient } from '../rpc/client.ts';
import { RemoteChunkReplica } from '../rpc/replicas-remote.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKQUORUM', secretKey = 'quorum-secret-key';
const env = { CAIRN_FAILURE_TIMEOUT_MS: '2500', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn' };
const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', '65536'] };
const BUCKET = 'quorum';
const bin = new URL('../../bin/cairn.js', import.meta.url).pathname;

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const admin = () => createAdminClient({ url: root.cluster, secret });
function s3(p: CairnProcess) {
  const u = new URL(p.endpoint);
  // No client retries: the test asserts the server's own answer to a write without quorum.
  return new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey, secretKey, pathStyle: true, region: 'us-east-1', retryOptions: { disableRetry: true } });
}
// For the 503 check: the minio client turns a 503 into a generic retry error without the S3 code.
function aws(p: CairnProcess) {
  return new S3Client({ endpoint: p.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
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
  } finally {
    await nodes[1].restart();
  }
  await waitFor(async () => (await activeCount()) === 2, { timeoutMs: 10_000, what: 'one node back' });
  // The failed write left nothing visible.
  try { await s3(nodes[0]).statObject(BUCKET, 'during'); assert.unreachable('no object after a failed write'); }
  catch (e) { assert.is((e as { code?: string }).code, 'NotFound'); }
  const listed: string[] = [];
  for await (const o of s3(nodes[1]).listObjectsV2(BUCKET, '', true)) listed.push((o as { name: string }).name);
  assert.equal(listed, ['before']);

  await s3(nodes[0]).putObject(BUCKET, 'during', body, body.length);
  assert.is(sha(await read(nodes[1], 'during')), sha(body));
  assert.is(sha(await read(root, 'before')), sha(before));
});

test.after.each(async () => {
  // Every test starts with all members up, whatever the previous one left behind.
  for (const p of procs) if (!(await fetch(`${p.cluster}/healthz`).then((r) => r.ok, () => false))) await p.restart();
});

test('the cluster port refuses internal RPC and admin calls without the cluster secret (401, no effect)', async () => {
  const body = Buffer.from('not allowed in');
  const id = sha(body);
  for (const auth of [undefined, 'Bearer wrong-secret']) {
    const res = await request(`${nodes[0].cluster}/rpc/v1/chunks/${id}`, { method: 'PUT', body, headers: { 'content-length': String(body.length), ...(auth ? { authorization: auth } : {}) } });
    assert.is(res.statusCode, 401);
    await res.body.dump();
    const adm = await request(`${root.cluster}/admin/v1/buckets/sneaky`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } });
    assert.is(adm.statusCode, 401);
    await adm.body.dump();
  }
  const rpc = new RpcClient({ secret });
  try {
    const id0 = (await admin().status()).members.find((m) => m.name === nodes[0].name)!.id;
    assert.equal(await new RemoteChunkReplica(id0, nodes[0].cluster, rpc).hasChunks([id]), [false], 'nothing stored');
  } finally { await rpc.close(); }
  assert.ok(!(await admin().status()).buckets.some((b) => b.name === 'sneaky'));
});

test('admin: drain refused when the rest cannot hold R replicas; keys and buckets; cairn status for people and scripts', async () => {
  try { await admin().drain(nodes[0].name); assert.unreachable(); }
  catch (e) {
    assert.instance(e, AdminApiError);
    assert.is((e as AdminApiError).status, 409);
    assert.is((e as AdminApiError).code, 'DrainRefused');
    assert.match((e as Error).message, /fewer than the 3 replicas of bucket quorum/);
  }
  const key = await admin().createKey({ name: 'app' });
  assert.match(key.accessKeyId, /^CK/);
  await admin().putBucket({ name: 'small', replicas: 1, access: 'public-read' });
  const k = new Minio.Client({ endPoint: new URL(nodes[2].endpoint).hostname, port: Number(new URL(nodes[2].endpoint).port), useSSL: false, accessKey: key.accessKeyId, secretKey: key.secretAccessKey, pathStyle: true, region: 'us-east-1' });
  await k.putObject('small', 'hello.txt', Buffer.from('hi'), 2);
  // Drain and undrain a member when R allows it.
  await admin().deleteBucket('small', { purge: true });
  await admin().putBucket({ name: BUCKET, replicas: 2 });
  const drained = await admin().drain(nodes[2].name);
  assert.is(drained.state, 'draining');
  assert.is((await admin().undrain(nodes[2].name)).state, 'active');

  // Settings change at run time and reach every member; nonsense is refused.
  const changed = await admin().putSettings!({ repairConcurrency: 7 });
  assert.is(changed.repairConcurrency, 7);
  assert.is((await createAdminClient({ url: nodes[2].cluster, secret }).settings!()).repairConcurrency, 7, 'seen by a node at once');
  try { await admin().putSettings!({ failureTimeoutMs: -1 }); assert.unreachable(); }
  catch (e) { assert.is((e as AdminApiError).status, 400); assert.match((e as Error).message, /failureTimeoutMs/); }
  try { await admin().putSettings!({ bogus: 1 } as never); assert.unreachable(); }
  catch (e) { assert.is((e as AdminApiError).status, 400); }

  const run = promisify(execFile);
  const text = (await run(process.execPath, [bin, 'status', '--admin', root.cluster, '--secret', secret], { env: { ...process.env, ...env } })).stdout;
  for (const n of nodes) assert.ok(text.includes(n.name), `status lists ${n.name}:\n${text}`);
  assert.match(text, /NAME\s+ID\s+ROLES\s+STATE/);
  assert.match(text, /quorum\s+2\s+private/);
  const json = JSON.parse((await run(process.execPath, [bin, 'status', '--json', '--admin', root.cluster], { env: { ...process.env, ...env, CAIRN_CLUSTER_SECRET: secret } })).stdout);
  assert.is(json.members.length, 4);
  const bad = await run(process.execPath, [bin, 'status', '--admin', root.cluster, '--secret', 'wrong'], { env: { ...process.env, ...env } }).catch((e) => e as { code: number; stderr: string });
  assert.is((bad as { code: number }).code, 1);
  assert.match((bad as { stderr: string }).stderr, /Unauthorized/);

  const cli = (...args: string[]) => run(process.execPath, [bin, ...args, '--admin', root.cluster, '--secret', secret], { env: { ...process.env, ...env } });
  assert.match((await cli('bucket', 'create', 'cli-made', '--replicas', '2', '--public')).stdout, /bucket cli-made: 2 replicas, public-read/);
  assert.is((await admin().status()).buckets.find((b) => b.name === 'cli-made')?.access, 'public-read');
  assert.match((await cli('keys', 'add', '--id', 'AKCLI', '--secret-key', 'cli-secret-123')).stdout, /AKCLI/);
  const viaKey = new Minio.Client({ endPoint: new URL(nodes[1].endpoint).hostname, port: Number(new URL(nodes[1].endpoint).port), useSSL: false, accessKey: 'AKCLI', secretKey: 'cli-secret-123', pathStyle: true, region: 'us-east-1' });
  await viaKey.putObject('cli-made', 'k', Buffer.from('v'), 1);
  assert.match((await cli('drain', nodes[1].name)).stdout, /draining/);
  assert.match((await cli('undrain', nodes[1].name)).stdout, /active/);
  const refused = await cli('bucket', 'create', 'x', '--replicas', 'zero').catch((e) => e as { code: number; stderr: string });
  assert.is((refused as { code: number }).code, 1);
  assert.match((refused as { stderr: string }).stderr, /replicas must be a positive integer/);
});

test.run();
