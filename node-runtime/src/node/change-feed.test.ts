// The change feed end to end: a root and three nodes (real processes; R=2 so one may be down); writes through every member;
// clients read the merged feed over HTTP with presigned URLs (as EventSource would) and with
// `cairn watch`. A client that disconnects mid-stream and reconnects — to another member — with its
// last cursor gets every change since, once; a member that is down while the client reads delivers
// its changes when it is back; the prefix filter and the authentication hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import type { EventMessage } from '../events/record.ts';
import { sseMessages } from '../events/sse.ts';
import { presignUrl } from '../s3/presign.ts';

const secret = randomBytes(12).toString('hex');
const env = { CAIRN_FAILURE_TIMEOUT_MS: '4000', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: process.env.CAIRN_LOG_LEVEL ?? 'warn' };
const BUCKET = 'sync';
const bin = new URL('../../bin/cairn.js', import.meta.url).pathname;

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
let key: { accessKeyId: string; secretAccessKey: string };
let stranger: { accessKeyId: string; secretAccessKey: string };
const clients = new Map<CairnProcess, S3Client>();
const admin = () => createAdminClient({ url: root.cluster, secret });

function s3(p: CairnProcess): S3Client {
  let c = clients.get(p);
  if (!c) clients.set(p, (c = new S3Client({ endpoint: p.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: key })));
  return c;
}
const put = (p: CairnProcess, k: string) => s3(p).send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: randomBytes(16) }));
const feedUrl = (p: CairnProcess, o: { prefix?: string; creds?: typeof key } = {}) =>
  presignUrl({
    endpoint: p.endpoint,
    bucket: BUCKET,
    query: [['changes', ''], ...(o.prefix ? [['prefix', o.prefix] as [string, string]] : [])],
    accessKeyId: (o.creds ?? key).accessKeyId,
    secretAccessKey: (o.creds ?? key).secretAccessKey,
    region: 'us-east-1',
  });

/** An SSE client: every change received (`EventName key`), the last id, and a way to hang up. */
function follow(url: string, cursor?: string) {
  const ctl = new AbortController();
  const state = {
    status: 0,
    changes: [] as string[],
    resets: [] as string[],
    lastId: cursor,
    ready: false,
    error: undefined as unknown,
    stop: () => ctl.abort(),
    done: undefined as unknown as Promise<void>,
  };
  state.done = (async () => {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...(cursor ? { 'last-event-id': cursor } : {}) }, signal: ctl.signal });
    state.status = res.status;
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      return;
    }
    for await (const m of sseMessages(res.body)) {
      if (m.event === 'ready') state.ready = true;
      else if (m.event === 'reset') state.resets.push(m.data!);
      else if (m.data !== undefined) {
        const e = JSON.parse(m.data) as EventMessage;
        state.changes.push(`${e.EventName} ${e.Key.slice(BUCKET.length + 1)}`);
      }
      if (m.id !== undefined) state.lastId = m.id;
    }
  })().catch((e) => {
    if (!ctl.signal.aborted) state.error = e;
  });
  return state;
}
const counts = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
const once = (xs: string[]) => new Map(xs.map((x) => [x, 1]));

test.before(async () => {
  const common = { secret, env };
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  procs.push(root);
  nodes = await Promise.all([0, 1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  await waitFor(async () => (await admin().status()).counts.active === 4, { timeoutMs: 15_000, what: 'members active' });
  await admin().putUser({ id: 'app' });
  await admin().putUser({ id: 'other' });
  key = await admin().createKey({ user: 'app' });
  stranger = await admin().createKey({ user: 'other' });
  await admin().putBucket({ name: BUCKET, owner: 'app', replicas: 2 });
});

test.after(async () => {
  for (const c of clients.values()) c.destroy();
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test("refused without the bucket's keys, or with a cursor the feed never gave out", async () => {
  assert.is((await fetch(`${nodes[0].endpoint}/${BUCKET}?changes`)).status, 403, 'anonymous');
  const other = follow(feedUrl(nodes[0], { creds: stranger }));
  await other.done;
  assert.is(other.status, 403, 'another user');
  const bad = follow(feedUrl(nodes[0]), 'not-a-cursor');
  await bad.done;
  assert.is(bad.status, 400);
});

test('every change through any member once; a client that hangs up and reconnects elsewhere with its cursor misses nothing', async () => {
  const a = follow(feedUrl(nodes[0]));
  await waitFor(() => a.ready, { what: 'feed ready' });
  const first = procs.flatMap((p, n) => [0, 1, 2].map((i) => ({ p, k: `docs/${n}-${i}` })));
  for (const { p, k } of first) await put(p, k);
  await s3(nodes[1]).send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'docs/0-0' }));
  const want1 = [...first.map(({ k }) => `s3:ObjectCreated:Put ${k}`), 's3:ObjectRemoved:Delete docs/0-0'];
  await waitFor(() => a.changes.length >= want1.length, { timeoutMs: 10_000, what: `${want1.length} changes` });
  a.stop();
  await a.done;
  assert.equal(counts(a.changes), once(want1));

  // Disconnected: more changes through every member, then a reconnect to another member.
  const second = procs.flatMap((p, n) => [0, 1].map((i) => ({ p, k: `img/${n}-${i}` })));
  await Promise.all(second.map(({ p, k }) => put(p, k)));
  const b = follow(feedUrl(nodes[1]), a.lastId);
  const want2 = second.map(({ k }) => `s3:ObjectCreated:Put ${k}`);
  await waitFor(() => b.changes.length >= want2.length, { timeoutMs: 10_000, what: 'the changes made while away' });
  // Quiet for a moment more: nothing from before the cursor comes again.
  await put(root, 'img/marker');
  await waitFor(() => b.changes.includes('s3:ObjectCreated:Put img/marker'), { what: 'the marker' });
  b.stop();
  await b.done;
  assert.equal(counts(b.changes), once([...want2, 's3:ObjectCreated:Put img/marker']));
  assert.equal(b.resets, []);
});

test('prefix: only the keys under it', async () => {
  const c = follow(feedUrl(root, { prefix: 'img/' }));
  await waitFor(() => c.ready, { what: 'feed ready' });
  await put(nodes[0], 'docs/skip');
  await put(nodes[1], 'img/take');
  await put(nodes[0], 'img/take2');
  await waitFor(() => c.changes.length >= 2, { what: 'the img/ changes' });
  await put(root, 'img/last');
  await waitFor(() => c.changes.length >= 3, { what: 'the last change' });
  c.stop();
  await c.done;
  assert.equal(
    c.changes,
    ['s3:ObjectCreated:Put img/take', 's3:ObjectCreated:Put img/take2', 's3:ObjectCreated:Put img/last'].filter((x) => c.changes.includes(x)),
  );
  assert.equal(counts(c.changes), once(['s3:ObjectCreated:Put img/take', 's3:ObjectCreated:Put img/take2', 's3:ObjectCreated:Put img/last']));
});

test('a member down while the client reads: its changes come when it is back, none lost, none twice', async () => {
  const victim = nodes[1];
  const d = follow(feedUrl(root));
  await waitFor(() => d.ready, { what: 'feed ready' });
  const before = ['crash/0', 'crash/1', 'crash/2'];
  for (const k of before) await put(victim, k);
  // SIGKILL: whatever the client had not received yet is in the member's outbox, on disk.
  await victim.kill('SIGKILL');
  // Until the roots see it down, a write placed on it may be refused (503, nothing kept): try again.
  await waitFor(
    () =>
      put(nodes[0], 'crash/elsewhere').then(
        () => true,
        (e: { $metadata?: { httpStatusCode?: number } }) => {
          if (e.$metadata?.httpStatusCode !== 503) throw e;
          return false;
        },
      ),
    { timeoutMs: 15_000, what: 'a write while the member is down' },
  );
  await waitFor(() => d.changes.includes('s3:ObjectCreated:Put crash/elsewhere'), { what: 'changes of the live members go on' });
  await victim.restart();
  await put(victim, 'crash/after');
  const want = [...before, 'crash/elsewhere', 'crash/after'].map((k) => `s3:ObjectCreated:Put ${k}`);
  await waitFor(() => want.every((w) => d.changes.includes(w)), { timeoutMs: 20_000, what: "the restarted member's changes" });
  d.stop();
  await d.done;
  assert.is(d.error, undefined, 'the stream stayed up');
  assert.equal(counts(d.changes), once(want));
});

test('`cairn watch BUCKET --prefix P` prints the changes and resumes after the node it reads restarts', async () => {
  const out: string[] = [];
  const child = spawn(process.execPath, [bin, 'watch', BUCKET, '--prefix', 'w/', '--endpoint', nodes[0].endpoint, '--json'], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      out.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  try {
    const keys = () => out.map((l) => (JSON.parse(l) as EventMessage).Key.slice(BUCKET.length + 1));
    // Until the watch is connected, writes may come before its start: write until one shows.
    await waitFor(
      async () => {
        await put(root, 'w/probe');
        return out.length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 300, what: 'the watch connected' },
    );
    await put(nodes[1], 'w/one');
    await put(root, 'x/not-this');
    await waitFor(() => keys().includes('w/one'), { what: 'w/one printed' });
    await nodes[0].restart();
    await put(root, 'w/two');
    await waitFor(() => keys().includes('w/two'), { timeoutMs: 15_000, what: 'w/two printed after the restart' });
    assert.equal(
      keys().filter((k) => k !== 'w/probe'),
      ['w/one', 'w/two'],
      'each once, in order, nothing outside the prefix',
    );
    assert.ok(JSON.parse(out.at(-1)!).cursor, 'each line carries its cursor');
  } finally {
    child.kill('SIGTERM');
  }
});

test.run();
