// Real processes on loopback: 1 root + 3 nodes driven through the admin API (admin/client.ts) and
// the `cairn` CLI: drain refused when the rest cannot hold R replicas, drain/undrain, keys and
// buckets, run-time settings, forgetting a down member, and `cairn status` for people and scripts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as Minio from 'minio';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient, AdminApiError } from './client.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKADMIN',
  secretKey = 'admin-secret-key';
const env = { CAIRN_FAILURE_TIMEOUT_MS: '2500', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn' };
const common = { secret, accessKey, secretKey, env };
const BUCKET = 'quorum';
const bin = new URL('../../bin/cairn.js', import.meta.url).pathname;

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
const admin = () => createAdminClient({ url: root.cluster, secret });

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  procs.push(root);
  nodes = await Promise.all([0, 1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  await waitFor(async () => (await admin().status()).counts.active === 4, { timeoutMs: 10_000, what: 'members active' });
  await admin().putBucket({ name: BUCKET, replicas: 3 });
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('admin: drain refused when the rest cannot hold R replicas; keys and buckets; cairn status for people and scripts', async () => {
  try {
    await admin().drain(nodes[0].name);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, AdminApiError);
    assert.is((e as AdminApiError).status, 409);
    assert.is((e as AdminApiError).code, 'DrainRefused');
    assert.match((e as Error).message, /fewer than the 3 replicas of bucket quorum/);
  }
  const malformed = await fetch(`${root.cluster}/admin/v1/keys`, {
    method: 'POST',
    body: '{oops',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
  });
  assert.is(malformed.status, 400);
  assert.is(((await malformed.json()) as { error: { code: string } }).error.code, 'InvalidRequest');
  await admin().putUser({ id: 'app' });
  const key = await admin().createKey({ user: 'app' });
  assert.match(key.accessKeyId, /^CK/);
  await admin().putBucket({ name: 'small', owner: 'app', replicas: 1, access: 'public-read' });
  const k = new Minio.Client({
    endPoint: new URL(nodes[2].endpoint).hostname,
    port: Number(new URL(nodes[2].endpoint).port),
    useSSL: false,
    accessKey: key.accessKeyId,
    secretKey: key.secretAccessKey,
    pathStyle: true,
    region: 'us-east-1',
  });
  await k.putObject('small', 'hello.txt', Buffer.from('hi'), 2);
  // Grants (how Kubernetes Buckets share) and the default encryption: the status says what the cluster holds.
  await admin().putUser({ id: 'reader' });
  const shared = await admin().putBucket({ name: 'small', grants: [{ user: 'reader', access: 'read' }], encryption: 'AES256' });
  assert.equal([shared.shares, shared.encryption], [[{ user: 'reader', access: 'read' }], 'AES256']);
  const listed = (await admin().status()).buckets.find((b) => b.name === 'small');
  assert.equal([listed?.shares, listed?.encryption, listed?.owner], [[{ user: 'reader', access: 'read' }], 'AES256', 'app']);
  const cleared = await admin().putBucket({ name: 'small', grants: [], encryption: null });
  assert.equal([cleared.shares, cleared.encryption], [undefined, undefined]);
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
  try {
    await admin().putSettings!({ failureTimeoutMs: -1 });
    assert.unreachable();
  } catch (e) {
    assert.is((e as AdminApiError).status, 400);
    assert.match((e as Error).message, /failureTimeoutMs/);
  }
  try {
    await admin().putSettings!({ bogus: 1 } as never);
    assert.unreachable();
  } catch (e) {
    assert.is((e as AdminApiError).status, 400);
  }

  const run = promisify(execFile);
  const text = (await run(process.execPath, [bin, 'status', '--admin', root.cluster, '--secret', secret], { env: { ...process.env, ...env } })).stdout;
  for (const n of nodes) assert.ok(text.includes(n.name), `status lists ${n.name}:\n${text}`);
  assert.match(text, /NAME\s+ID\s+ROLES\s+STATE/);
  assert.match(text, /quorum\s+2\s+private/);
  const json = JSON.parse(
    (await run(process.execPath, [bin, 'status', '--json', '--admin', root.cluster], { env: { ...process.env, ...env, CAIRN_CLUSTER_SECRET: secret } })).stdout,
  );
  assert.is(json.members.length, 4);
  const bad = await run(process.execPath, [bin, 'status', '--admin', root.cluster, '--secret', 'wrong'], { env: { ...process.env, ...env } }).catch(
    (e) => e as { code: number; stderr: string },
  );
  assert.is((bad as { code: number }).code, 1);
  assert.match((bad as { stderr: string }).stderr, /Unauthorized/);

  const cli = (...args: string[]) => run(process.execPath, [bin, ...args, '--admin', root.cluster, '--secret', secret], { env: { ...process.env, ...env } });
  assert.match((await cli('user', 'create', 'cli-user', '--display-name', 'CLI user')).stdout, /user cli-user \(CLI user\)/);
  assert.match(
    (await cli('bucket', 'create', 'cli-made', '--replicas', '2', '--public', '--owner', 'cli-user')).stdout,
    /bucket cli-made: owner cli-user, 2 replicas, public-read/,
  );
  assert.is((await admin().status()).buckets.find((b) => b.name === 'cli-made')?.access, 'public-read');
  assert.match((await cli('keys', 'add', '--user', 'cli-user', '--id', 'AKCLI', '--secret-key', 'cli-secret-123')).stdout, /AKCLI/);
  const noUser = await cli('keys', 'add', '--id', 'AKNOUSER').catch((e) => e as { code: number; stderr: string });
  assert.is((noUser as { code: number }).code, 1, 'a key needs a user');
  const viaKey = new Minio.Client({
    endPoint: new URL(nodes[1].endpoint).hostname,
    port: Number(new URL(nodes[1].endpoint).port),
    useSSL: false,
    accessKey: 'AKCLI',
    secretKey: 'cli-secret-123',
    pathStyle: true,
    region: 'us-east-1',
  });
  await viaKey.putObject('cli-made', 'k', Buffer.from('v'), 1);
  assert.match((await cli('drain', nodes[1].name)).stdout, /draining/);
  assert.match((await cli('undrain', nodes[1].name)).stdout, /active/);
  const refused = await cli('bucket', 'create', 'x', '--replicas', 'zero').catch((e) => e as { code: number; stderr: string });
  assert.is((refused as { code: number }).code, 1);
  assert.match((refused as { stderr: string }).stderr, /replicas must be a positive integer/);
});

test('admin: a down member can be forgotten (an active one cannot); it registers again with the same id when it returns', async () => {
  const victim = nodes[2];
  const id = (await admin().status()).members.find((m) => m.name === victim.name)!.id;
  try {
    await admin().forget(victim.name);
    assert.unreachable();
  } catch (e) {
    assert.is((e as AdminApiError).status, 409);
  }
  await victim.kill('SIGKILL');
  await waitFor(async () => (await admin().status()).members.find((m) => m.name === victim.name)?.state === 'down', { timeoutMs: 10_000, what: 'down' });
  await admin().forget(victim.name);
  assert.not.ok(
    (await admin().status()).members.some((m) => m.name === victim.name),
    'gone from the map',
  );
  await victim.restart();
  await waitFor(async () => (await admin().status()).members.find((m) => m.id === id)?.state === 'active', {
    timeoutMs: 10_000,
    what: 'back under the same id',
  });
});

test.run();
