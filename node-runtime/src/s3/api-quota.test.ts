// Quotas on a real cluster (a root and three nodes on loopback), driven with the AWS SDK through
// every node at once: a small quota under concurrent writers stays within the documented bound
// (docs/quotas.md), usage is exact once the writes are done, a change of a bucket's quota or of a
// user's plan (`cairn user quota`) applies on every node within seconds, and a refusal is S3's 403
// QuotaExceeded with nothing kept. `cairn status` and the roots' metrics show usage against limits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import { MIN_PART_SIZE } from '../data/multipart.ts';

const secret = randomBytes(12).toString('hex');
const env = { CAIRN_FAILURE_TIMEOUT_MS: '3000', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn' };
const bin = new URL('../../bin/cairn.js', import.meta.url).pathname;
const run = promisify(execFile);

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
let clients: S3Client[];
const admin = () => createAdminClient({ url: root.cluster, secret });
const cli = (...args: string[]) => run(process.execPath, [bin, ...args, '--admin', root.cluster, '--secret', secret], { env: { ...process.env, ...env } });

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof S3ServiceException) return `${e.$metadata.httpStatusCode} ${e.name}`;
    throw e;
  }
}

test.before(async () => {
  root = await startCairnProcess({ secret, env, roles: ['root'], name: 'root-0' });
  procs.push(root);
  nodes = await Promise.all([0, 1, 2].map((i) => startCairnProcess({ secret, env, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  await waitFor(async () => (await admin().status()).counts.active === 4, { timeoutMs: 15_000, what: 'members active' });
  await admin().putUser({ id: 'tenant' });
  const key = await admin().createKey({ user: 'tenant' });
  clients = nodes.map(
    (n) =>
      new S3Client({
        endpoint: n.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      }),
  );
  await admin().putBucket({ name: 'plan-a', owner: 'tenant', replicas: 2, quotaObjects: 10 });
  await waitFor(async () => (await Promise.all(clients.map((c) => outcome(c.send(new ListObjectsV2Command({ Bucket: 'plan-a' })))))).every((o) => o === 'ok'), {
    what: 'bucket on every node',
  });
});

test.after(async () => {
  for (const c of clients ?? []) c.destroy();
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('concurrent writers through every node stay within (nodes - 1) x the room left; usage is exact afterwards', async () => {
  const writers = 60; // 20 through each node, each its own key, for a quota of 10 objects
  const results = await Promise.all(
    Array.from({ length: writers }, (_, i) => outcome(clients[i % 3].send(new PutObjectCommand({ Bucket: 'plan-a', Key: `w/${i}`, Body: randomBytes(100) })))),
  );
  const ok = results.filter((r) => r === 'ok').length;
  assert.equal([...new Set(results)].sort(), ['403 QuotaExceeded', 'ok'], 'every writer got 200 or 403 QuotaExceeded');
  assert.ok(ok >= 10 && ok <= 10 + 2 * 10, `${ok} of ${writers} writes admitted with room for 10 (bound: 30)`);
  console.log(`quota of 10 objects, ${writers} concurrent writers through 3 nodes: ${ok} admitted (${ok - 10} over; bound 20 over)`);
  const listed = (await clients[1].send(new ListObjectsV2Command({ Bucket: 'plan-a' }))).KeyCount;
  assert.is(listed, ok, 'every acknowledged write is there, nothing else');
  await waitFor(
    async () => {
      const b = (await admin().status()).buckets.find((x) => x.name === 'plan-a')!;
      return b.objects === ok && b.bytes === ok * 100;
    },
    { timeoutMs: 10_000, what: 'usage exact' },
  );
  assert.is(await outcome(clients[2].send(new PutObjectCommand({ Bucket: 'plan-a', Key: 'late', Body: 'x' }))), '403 QuotaExceeded');
});

test("a quota change applies on every node within seconds; a refused write is S3's 403 QuotaExceeded and keeps nothing", async () => {
  const before = (await admin().status()).buckets.find((x) => x.name === 'plan-a')!.objects;
  await createAdminClient({ url: nodes[0].cluster, secret }).putBucket({ name: 'plan-a', quotaObjects: before + 1 });
  const started = Date.now();
  await waitFor(async () => (await outcome(clients[2].send(new PutObjectCommand({ Bucket: 'plan-a', Key: 'raised', Body: 'x' })))) === 'ok', {
    timeoutMs: 5_000,
    what: 'raised quota seen by nodes-2',
  });
  assert.ok(Date.now() - started < 5_000);

  // A user's plan, set with the CLI, over all the user's buckets.
  await clients[0].send(new CreateBucketCommand({ Bucket: 'plan-b' }));
  await cli('user', 'quota', 'tenant', '--bytes', '10KiB', '--buckets', '2');
  await waitFor(
    async () => (await outcome(clients[1].send(new PutObjectCommand({ Bucket: 'plan-b', Key: 'big', Body: randomBytes(10_000) })))) === '403 QuotaExceeded',
    { timeoutMs: 5_000, what: 'plan seen by nodes-1' },
  );
  assert.is(await outcome(clients[2].send(new HeadObjectCommand({ Bucket: 'plan-b', Key: 'big' }))), '404 NotFound', 'nothing kept');
  assert.is(await outcome(clients[2].send(new CreateBucketCommand({ Bucket: 'plan-c' }))), '400 TooManyBuckets');
  // Multipart: the parts are taken, the completion is refused, no object appears.
  const up = await clients[0].send(new CreateMultipartUploadCommand({ Bucket: 'plan-b', Key: 'mp' }));
  const part = await clients[0].send(
    new UploadPartCommand({ Bucket: 'plan-b', Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: randomBytes(MIN_PART_SIZE) }),
  );
  const done = clients[0].send(
    new CompleteMultipartUploadCommand({
      Bucket: 'plan-b',
      Key: 'mp',
      UploadId: up.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  assert.is(await outcome(done), '403 QuotaExceeded');
  assert.is(await outcome(clients[1].send(new HeadObjectCommand({ Bucket: 'plan-b', Key: 'mp' }))), '404 NotFound');
  // The answer names the limit.
  try {
    await clients[1].send(new PutObjectCommand({ Bucket: 'plan-b', Key: 'big', Body: randomBytes(10_000) }));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /User tenant would hold \d+ bytes in their buckets; their quota is 10240/);
  }

  const text = (await cli('status')).stdout;
  assert.match(text, /USER\s+BUCKETS\s+OBJECTS\s+BYTES/);
  assert.match(text, /tenant\s+2\/2\s+\d+\s+[\d.]+ (B|KiB)\/10\.0 KiB/);
  assert.match(text, /plan-a\s+2\s+private\s+\d+\/\d+/);
  const metrics = await (await fetch(`${root.cluster}/metrics`)).text();
  assert.match(metrics, /cairn_user_quota_bytes\{user="tenant",node="root-0"\} 10240/);
  assert.match(metrics, /cairn_bucket_quota_objects\{bucket="plan-a",node="root-0"\} \d+/);
  const refused = await (await fetch(`${nodes[1].cluster}/metrics`)).text();
  assert.match(refused, /cairn_quota_refusals_total\{scope="user",limit="bytes",node="nodes-1"\} [1-9]/);

  await cli('user', 'quota', 'tenant', '--clear');
  await waitFor(async () => (await outcome(clients[0].send(new PutObjectCommand({ Bucket: 'plan-b', Key: 'big', Body: randomBytes(10_000) })))) === 'ok', {
    timeoutMs: 5_000,
    what: 'plan removed',
  });
  const bad = await cli('user', 'quota', 'tenant', '--bytes', 'lots').catch((e) => e as { code: number; stderr: string });
  assert.is((bad as { code: number }).code, 1);
  assert.match((bad as { stderr: string }).stderr, /not a size: lots/);
});

test.run();
