import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { s3Error } from '../util/errors.ts';
import { changeFeed, feedStart, type ChangeFeedOptions } from './change-feed.ts';
import { Outbox, type OutboxOptions } from './outbox.ts';
import { eventRecord, type EventMessage, type OutboxEvent } from './record.ts';

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

let stamp = Date.parse('2026-07-01T00:00:00Z');
function change(bucket: string, key: string): OutboxEvent {
  stamp += 1;
  return {
    routes: [],
    record: eventRecord({
      eventName: 's3:ObjectCreated:Put',
      bucket,
      key,
      time: stamp,
      stamp: { timestamp: stamp, writer: 'n1' },
      size: 1,
      eTag: 'e',
      region: 'us-east-1',
      principalId: 'AK',
      bucketOwner: 'o',
      sourceIp: '127.0.0.1',
      requestId: 'r',
      node: 'n1',
    }),
  };
}

async function openOutbox(opts: Partial<OutboxOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-feed-'));
  dirs.push(dir);
  const outbox = await Outbox.open<OutboxEvent>({ dir, ...opts });
  cleanups.push(() => outbox.close());
  return outbox;
}

/** A server answering GET /feed/<bucket> with the change feed; `active` counts handlers still running. */
async function serve(outbox: Outbox<OutboxEvent>, opts: Partial<ChangeFeedOptions> = {}) {
  const shutdown = new AbortController();
  const handler = changeFeed({
    outbox,
    authorize: (req: IncomingMessage) => req.headers.authorization === 'Bearer good',
    heartbeatMs: 60_000,
    signal: shutdown.signal,
    ...opts,
  });
  let active = 0;
  const server = createServer((req, res) => {
    active++;
    handler(req, res, decodeURIComponent(/^\/feed\/([^/?]+)/.exec(req.url ?? '')![1])).finally(() => active--);
  });
  const host = loopbackAddress();
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanups.push(
    () =>
      new Promise((r) => {
        shutdown.abort();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return {
    base: `http://${host}:${(server.address() as { port: number }).port}/feed`,
    shutdown,
    get active() {
      return active;
    },
  };
}

interface Message {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** A minimal SSE client: the messages so far, the status, and whether the server ended the stream. */
function subscribe(url: string, headers: Record<string, string> = { authorization: 'Bearer good' }) {
  const state = { status: 0, messages: [] as Message[], body: '', ended: false, close: () => {} };
  let buf = '';
  const req = request(url, { headers }, (res) => {
    state.status = res.statusCode ?? 0;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (state.status !== 200) {
        state.body += chunk;
        return;
      }
      buf += chunk;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const m: Message = {};
        for (const line of buf.slice(0, i).split('\n')) {
          if (line.startsWith(':')) m.comment = line.slice(1).trim();
          else {
            const c = line.indexOf(':');
            (m as Record<string, string>)[line.slice(0, c)] = line.slice(c + 1).trimStart();
          }
        }
        buf = buf.slice(i + 2);
        state.messages.push(m);
      }
    });
    res.on('end', () => (state.ended = true));
  });
  req.on('error', () => {});
  req.end();
  state.close = () => req.destroy();
  return state;
}

const changes = (ms: Message[]) => ms.filter((m) => m.event === undefined && m.data).map((m) => JSON.parse(m.data!) as EventMessage);
const keys = (ms: Message[]) => changes(ms).map((m) => m.Key);

test('a client that reconnects with its last id gets every change once; prefix and bucket filter', async () => {
  const outbox = await openOutbox();
  const feed = await serve(outbox);
  await outbox.append(change('photos', 'p/before-connect'));
  const first = subscribe(`${feed.base}/photos?prefix=p/`);
  await waitFor(() => first.messages.some((m) => m.event === 'ready'), { what: 'ready' });
  const ready = first.messages.find((m) => m.event === 'ready')!;
  assert.equal(JSON.parse(ready.data!), { cursor: ready.id });
  for (const [b, k] of [
    ['photos', 'p/1'],
    ['other', 'p/x'],
    ['photos', 'q/1'],
    ['photos', 'p/2'],
    ['photos', 'p/3'],
  ])
    await outbox.append(change(b, k));
  await waitFor(() => keys(first.messages).length === 3, { what: 'three changes' });
  assert.equal(keys(first.messages), ['photos/p/1', 'photos/p/2', 'photos/p/3'], 'only the bucket and prefix asked for, from the newest on');
  first.close();
  await waitFor(() => feed.active === 0, { what: 'the handler to end when the client left' });
  const lastId = first.messages.at(-1)!.id!;
  for (const k of ['p/4', 'q/2', 'p/5 with space']) await outbox.append(change('photos', k));
  const second = subscribe(`${feed.base}/photos?prefix=p/&cursor=${encodeURIComponent(ready.id!)}`, { authorization: 'Bearer good', 'last-event-id': lastId });
  await waitFor(() => keys(second.messages).length === 2, { what: 'the changes made while away' });
  assert.equal(second.messages.find((m) => m.event)?.event, 'ready', 'Last-Event-ID wins over ?cursor=');
  assert.equal(keys(second.messages), ['photos/p/4', 'photos/p/5 with space']);
  const third = subscribe(`${feed.base}/photos?prefix=p/&cursor=${encodeURIComponent(ready.id!)}`);
  await waitFor(() => keys(third.messages).length === 5, { what: 'everything after the first cursor' });
  assert.equal(keys(third.messages), ['photos/p/1', 'photos/p/2', 'photos/p/3', 'photos/p/4', 'photos/p/5 with space']);
  const ids = third.messages.filter((m) => m.data && !m.event).map((m) => outbox.parseCursor(m.id!) as { seq: number });
  assert.ok(
    ids.every((c, i) => i === 0 || c.seq > ids[i - 1].seq),
    'ids move forward',
  );
  second.close();
  third.close();
});

test('a cursor past the retention window, or from another outbox, gets a reset and the newest changes; garbage is a 400', async () => {
  let now = Date.parse('2026-07-01T00:00:00Z');
  const outbox = await openOutbox({ segmentBytes: 2048, maxBytes: 1 << 20, retainMs: 60_000, now: () => now });
  const feed = await serve(outbox);
  const old = outbox.encodeCursor(outbox.end);
  for (let i = 0; i < 40; i++) await outbox.append(change('b', `k${i}`));
  now += 120_000;
  await outbox.collect();
  assert.ok(outbox.first > 0, 'old segments are gone');
  const expired = subscribe(`${feed.base}/b?cursor=${encodeURIComponent(old)}`);
  await waitFor(() => expired.messages.some((m) => m.event === 'reset'), { what: 'a reset' });
  const reset = expired.messages.find((m) => m.event === 'reset')!;
  assert.equal(JSON.parse(reset.data!), { reason: 'expired', cursor: outbox.encodeCursor(outbox.end) });
  assert.is(reset.id, outbox.encodeCursor(outbox.end));
  await outbox.append(change('b', 'after-reset'));
  await waitFor(() => keys(expired.messages).length === 1);
  assert.equal(keys(expired.messages), ['b/after-reset']);
  expired.close();

  const elsewhere = await openOutbox();
  const foreign = subscribe(`${feed.base}/b`, { authorization: 'Bearer good', 'last-event-id': elsewhere.encodeCursor(3) });
  await waitFor(() => foreign.messages.some((m) => m.event === 'reset'));
  assert.is(JSON.parse(foreign.messages.find((m) => m.event === 'reset')!.data!).reason, 'unknown');
  foreign.close();

  const garbage = subscribe(`${feed.base}/b?cursor=not-a-cursor`);
  await waitFor(() => garbage.ended, { what: 'the 400 answer' });
  assert.is(garbage.status, 400);
  assert.is(JSON.parse(garbage.body).code, 'InvalidArgument');
});

test('callers the check refuses get 403 (or the S3 error it throws) and no stream', async () => {
  const outbox = await openOutbox();
  const feed = await serve(outbox, {
    authorize: (req) => {
      if (req.headers.authorization === 'Bearer expired') throw s3Error('ExpiredToken', 'The provided token has expired.');
      return req.headers.authorization === 'Bearer good';
    },
  });
  const denied = subscribe(`${feed.base}/b`, { authorization: 'Bearer bad' });
  await waitFor(() => denied.ended);
  assert.is(denied.status, 403);
  assert.is(JSON.parse(denied.body).code, 'AccessDenied');
  const expired = subscribe(`${feed.base}/b`, { authorization: 'Bearer expired' });
  await waitFor(() => expired.ended);
  assert.is(expired.status, 500);
  assert.is(JSON.parse(expired.body).code, 'ExpiredToken');
  assert.is(feed.active, 0);
});

test("heartbeats carry a cursor past other buckets' changes; a server shutdown ends every stream", async () => {
  const outbox = await openOutbox();
  const feed = await serve(outbox, { heartbeatMs: 100 });
  const quiet = subscribe(`${feed.base}/quiet`);
  await waitFor(() => quiet.messages.some((m) => m.event === 'ready'));
  for (let i = 0; i < 5; i++) await outbox.append(change('busy', `k${i}`));
  const end = outbox.encodeCursor(outbox.end);
  await waitFor(() => quiet.messages.some((m) => m.comment === 'heartbeat' && m.id === end), { what: 'a heartbeat with the advanced cursor' });
  assert.equal(changes(quiet.messages), []);
  feed.shutdown.abort();
  await waitFor(() => quiet.ended && feed.active === 0, { what: 'the stream to end' });
});

test.after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('since: the first change recorded at or after that time (the merged feed starts a member it has no cursor for there)', async () => {
  let clock = 1_000_000;
  const outbox = await openOutbox({ now: () => clock });
  for (const k of ['x', 'y', 'z']) {
    await outbox.append(change('b', k));
    clock += 1000;
  }
  assert.equal(await feedStart(outbox, { since: 1_001_000 }), { pos: 1 });
  assert.equal(await feedStart(outbox, { since: 0 }), { pos: 0 });
  assert.equal(await feedStart(outbox, { since: clock }), { pos: 3 }, 'later than everything: the end');
  assert.equal(await feedStart(outbox, { cursor: 'nonsense' }), { error: 'malformed' });
  assert.equal(await feedStart(outbox, {}), { pos: 3 });
});

test.run();
