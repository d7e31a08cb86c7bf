// Replication to another S3 store end to end: a source cluster (a root and two nodes) replicates a
// bucket to a second, separate Cairn (its own process, address and keys) with the minio client.
// Objects that were there before the rule are backfilled; new, changed and deleted ones through any
// member follow; across an outage of the target and a restart of a source node the two buckets end
// identical (keys, bodies, content type, user metadata).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import * as Minio from 'minio';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { AdminApiError, createAdminClient } from '../admin/client.ts';

const secret = randomBytes(12).toString('hex');
const env = { CAIRN_FAILURE_TIMEOUT_MS: '4000', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'error', CAIRN_EVENTS_RETRY_MAX_MS: '1000' };
const SRC = 'photos',
  DST = 'mirror';

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
let target: CairnProcess;
const source = () => [root, ...nodes];
let key: { accessKeyId: string; secretAccessKey: string };
const admin = () => createAdminClient({ url: root.cluster, secret });
const minio = (p: CairnProcess, k: { accessKey: string; secretKey: string }) => {
  const u = new URL(p.endpoint);
  return new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, pathStyle: true, region: 'us-east-1', ...k });
};
const src = (p: CairnProcess) => minio(p, { accessKey: key.accessKeyId, secretKey: key.secretAccessKey });
const dst = () => minio(target, { accessKey: target.accessKey, secretKey: target.secretKey });
const put = (p: CairnProcess, k: string, body: Buffer = randomBytes(100 + Math.floor(Math.random() * 5000))) =>
  src(p).putObject(SRC, k, body, body.length, { 'Content-Type': 'image/jpeg', 'X-Amz-Meta-Camera': `cam-${k}` });

/** Keys → sha256 of body, content type and user metadata: what must be the same on both sides. */
async function contents(c: Minio.Client, bucket: string): Promise<Map<string, string>> {
  const keys: string[] = [];
  for await (const o of c.listObjectsV2(bucket, '', true)) keys.push((o as { name: string }).name);
  const out = new Map<string, string>();
  for (const k of keys.sort()) {
    const chunks: Buffer[] = [];
    for await (const b of await c.getObject(bucket, k)) chunks.push(b as Buffer);
    const st = await c.statObject(bucket, k);
    out.set(k, `${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')} ${st.metaData['content-type']} ${st.metaData.camera}`);
  }
  return out;
}
async function identical(what: string, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  let last = '';
  await waitFor(
    async () => {
      const [a, b] = await Promise.all([contents(src(root), SRC), contents(dst(), DST)]);
      last = `source ${a.size} keys, target ${b.size}`;
      return a.size > 0 && JSON.stringify([...a]) === JSON.stringify([...b]);
    },
    { timeoutMs, intervalMs: 200, what: `${what} (${last})` },
  );
  return Date.now() - t0;
}
const metric = async (p: CairnProcess, re: RegExp) => [...(await (await fetch(`${p.cluster}/metrics`)).text()).matchAll(re)].map((m) => Number(m[1]));

test.before(async () => {
  root = await startCairnProcess({ secret, env, roles: ['root'], name: 'root-0' });
  procs.push(root);
  nodes = await Promise.all([0, 1].map((i) => startCairnProcess({ secret, env, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  target = await startCairnProcess({ env, name: 'other-store' }); // a separate Cairn: its own secret, keys, data
  procs.push(target);
  await waitFor(async () => (await admin().status()).counts.active === 3, { timeoutMs: 15_000, what: 'members active' });
  await admin().putUser({ id: 'app' });
  key = await admin().createKey({ user: 'app' });
  await admin().putBucket({ name: SRC, owner: 'app', replicas: 2 });
  await dst().makeBucket(DST, 'us-east-1');
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

const rule = () => ({ endpoint: target.endpoint, bucket: DST, accessKeyId: target.accessKey, secretAccessKey: target.secretKey, deletes: true });

test('a bad rule is refused and changes nothing; existing objects are backfilled when the rule is added', async () => {
  for (const [bad, msg] of [
    [{ ...rule(), endpoint: 'ftp://x' }, /endpoint is http/],
    [{ ...rule(), bucket: 'No_Such' }, /not an S3 bucket name/],
    [{ ...rule(), secretAccessKey: '' }, /required/],
  ] as const) {
    try {
      await admin().putBucket({ name: SRC, replicateTo: bad });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, AdminApiError);
      assert.is((e as AdminApiError).status, 400);
      assert.match((e as Error).message, msg);
    }
  }
  for (let i = 0; i < 12; i++) await put(source()[i % 3], `before/${i}.jpg`);
  const st = await admin().putBucket({ name: SRC, replicateTo: rule() });
  assert.equal([st.replicateTo?.endpoint, st.replicateTo?.bucket, st.replicateTo?.deletes], [target.endpoint, DST, true]);
  assert.not.ok(JSON.stringify(st).includes(target.secretKey), 'the secret is never shown');
  const id = st.replicateTo!.id;
  assert.is((await admin().putBucket({ name: SRC, replicateTo: rule() })).replicateTo?.id, id, 'the same rule again: no second backfill');
  console.log(`backfill of 12 objects: identical after ${await identical('the backfill')} ms`);
});

test('new, changed and deleted objects through every member follow', async () => {
  await Promise.all(source().map((p, n) => put(p, `new/${n}.jpg`)));
  await put(nodes[1], 'before/0.jpg', Buffer.from('changed'));
  await src(nodes[0]).removeObject(SRC, 'before/1.jpg');
  console.log(`new/changed/deleted: identical after ${await identical('the changes')} ms`);
  const copied = await Promise.all(source().map((p) => metric(p, /^cairn_replication_objects_total\{bucket="photos",result="copied"[^}]*\} (\S+)$/gm)));
  assert.ok(copied.flat().reduce((a, b) => a + b, 0) >= 16, 'copies counted');
  await waitFor(
    async () =>
      (await Promise.all(source().map((p) => metric(p, /^cairn_replication_lag_seconds\{bucket="photos"[^}]*\} (\S+)$/gm)))).flat().every((v) => v === 0),
    { what: 'no lag once caught up' },
  );
});

test('the target down for a while: copies wait and all land when it is back; lag shows meanwhile', async () => {
  await target.kill('SIGKILL');
  const keys = Array.from({ length: 15 }, (_, i) => `outage/${i}.jpg`);
  await Promise.all(keys.map((k, i) => put(source()[i % 3], k)));
  await src(root).removeObject(SRC, 'new/0.jpg');
  await waitFor(
    async () =>
      (await Promise.all(source().map((p) => metric(p, /^cairn_replication_lag_seconds\{bucket="photos"[^}]*\} (\S+)$/gm)))).flat().some((v) => v >= 1),
    { timeoutMs: 10_000, what: 'lag while the target is down' },
  );
  const during = await admin().putBucket({ name: SRC }); // a PUT without changes answers with the status
  assert.ok(
    during.replicateTo!.progress!.lagSeconds >= 1 && during.replicateTo!.progress!.backlog > 0,
    `backlog and lag in the bucket's status: ${JSON.stringify(during.replicateTo?.progress)}`,
  );
  assert.is(during.replicateTo!.progress!.membersAnswered, 3);
  await target.restart();
  console.log(`after a target outage: identical ${await identical('after the outage')} ms after it was back`);
  await waitFor(
    async () => {
      const p = (await admin().putBucket({ name: SRC })).replicateTo!.progress!;
      return p.lagSeconds === 0 && p.backfill === 'done';
    },
    { what: 'status caught up' },
  );
});

test('a source node restarted with copies pending: they resume from its cursor', async () => {
  await target.kill('SIGKILL');
  for (let i = 0; i < 6; i++) await put(nodes[0], `restart/${i}.jpg`);
  await nodes[0].restart();
  await target.restart();
  console.log(`after a source restart: identical ${await identical('after the source restart')} ms after the target was back`);
});

test('the rule removed: nothing more is copied', async () => {
  const st = await admin().putBucket({ name: SRC, replicateTo: null });
  assert.is(st.replicateTo, undefined);
  await waitFor(
    async () => (await Promise.all(source().map((p) => metric(p, /^cairn_replication_backlog\{bucket="photos"[^}]*\} (\S+)$/gm)))).flat().length === 0,
    { what: 'workers stopped' },
  );
  await put(root, 'after-rule.jpg');
  await put(nodes[1], 'after-rule-2.jpg');
  // The copies that would have been made are made by now if anything still ran: the target's listing says no.
  await waitFor(async () => (await contents(src(root), SRC)).has('after-rule-2.jpg'), { what: 'written' });
  assert.not.ok((await contents(dst(), DST)).has('after-rule.jpg'));
});

test.run();
