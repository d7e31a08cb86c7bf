// The merged feed over fake member feeds: every id a client receives resumes exactly after what it
// received (each member from its own position), a member the cursor does not name starts at the
// client's first connection time, an unreachable member is retried, and a bad cursor is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { isS3Error } from '../util/errors.ts';
import { clusterChangeFeed, decodeFeedCursor, encodeFeedCursor, type MemberFeedParams } from './cluster-feed.ts';
import { sseMessages, type SseMessage } from './sse.ts';

/** A member feed: `a.<n>` positions; `push` appends a change; opening records the params it was given. */
function fakeMember(id: string) {
  const log: string[] = [];
  const at: number[] = [];
  const opened: MemberFeedParams[] = [];
  let wake = () => {};
  let down = false;
  return {
    id,
    opened,
    log,
    push(k: string) {
      log.push(k);
      at.push(Date.now());
      wake();
    },
    set down(v: boolean) {
      down = v;
    },
    async open(p: MemberFeedParams, signal: AbortSignal): Promise<AsyncIterable<SseMessage>> {
      if (down) throw new Error('connect ECONNREFUSED');
      opened.push(p);
      const since = (t: number) => {
        const i = at.findIndex((x) => x >= t);
        return i < 0 ? log.length : i;
      };
      let pos = p.cursor ? Number(p.cursor.split('.')[1]) : p.since !== undefined ? since(p.since) : log.length;
      return (async function* () {
        yield { event: 'ready', id: `${id}.${pos}`, data: '{}' };
        while (!signal.aborted) {
          while (pos < log.length) {
            pos++;
            yield { id: `${id}.${pos}`, data: JSON.stringify({ Key: log[pos - 1] }) };
          }
          await new Promise<void>((r) => {
            wake = r;
            signal.addEventListener('abort', () => r(), { once: true });
          });
        }
      })();
    },
  };
}

async function serve(members: ReturnType<typeof fakeMember>[], visible = () => members) {
  const shutdown = new AbortController();
  const feed = clusterChangeFeed({
    members: visible,
    open: (m, _b, p, s) => members.find((x) => x.id === m.id)!.open(p, s),
    heartbeatMs: 60_000,
    rescanMs: 50,
    retryMs: { min: 20, max: 50 },
    signal: shutdown.signal,
  });
  const server = createServer((req, res) => {
    const cursor = req.headers['last-event-id'] as string | undefined;
    feed(req, res, 'b', { prefix: '', ...(cursor ? { cursor } : {}) }).catch((e) => {
      res.writeHead(isS3Error(e) ? e.status : 500).end(isS3Error(e) ? e.code : String(e));
    });
  });
  const host = loopbackAddress();
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    url: `http://${host}:${(server.address() as { port: number }).port}/`,
    close: () =>
      new Promise<void>((r) => {
        shutdown.abort();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function client(url: string, cursor?: string) {
  const ctl = new AbortController();
  const s = { keys: [] as string[], lastId: cursor, status: 0, stop: () => ctl.abort(), done: undefined as unknown as Promise<void> };
  s.done = (async () => {
    const res = await fetch(url, { headers: cursor ? { 'last-event-id': cursor } : {}, signal: ctl.signal });
    s.status = res.status;
    if (res.status !== 200) {
      await res.body?.cancel();
      return;
    }
    for await (const m of sseMessages(res.body!)) {
      if (m.data !== undefined && m.event === undefined) s.keys.push((JSON.parse(m.data) as { Key: string }).Key);
      if (m.id !== undefined) s.lastId = m.id;
    }
  })().catch(() => {});
  return s;
}

test('resumes every member after exactly what the client received; a member it never named starts at its first connection', async () => {
  const a = fakeMember('a'),
    b = fakeMember('b'),
    c = fakeMember('c');
  let withC = false;
  const srv = await serve([a, b, c], () => (withC ? [a, b, c] : [a, b]));
  try {
    a.push('a0'); // before the client: not in its feed
    const pushedAt = Date.now();
    await waitFor(() => Date.now() > pushedAt, { intervalMs: 1, what: 'the clock past a0' });
    const one = client(srv.url);
    await waitFor(() => a.opened.length && b.opened.length, { what: 'members opened' });
    a.push('a1');
    b.push('b0');
    a.push('a2');
    await waitFor(() => one.keys.length === 3, { what: 'three changes' });
    one.stop();
    await one.done;
    assert.equal(one.keys.sort(), ['a1', 'a2', 'b0']);
    const cur = decodeFeedCursor(one.lastId!)!;
    assert.equal(cur.c, { a: 'a.3', b: 'b.1' });

    b.push('b1');
    a.push('a3');
    withC = true; // joined while the client was away
    c.push('c0');
    const two = client(srv.url, one.lastId);
    await waitFor(() => two.keys.length === 3, { what: 'the changes made while away' });
    assert.equal(two.keys.sort(), ['a3', 'b1', 'c0']);
    assert.equal(c.opened.at(-1), { prefix: '', since: cur.t }, 'a member the cursor does not name: from the first connection');
    assert.equal(a.opened.at(-1), { prefix: '', cursor: 'a.3' });
    two.stop();
    await two.done;
  } finally {
    await srv.close();
  }
});

test('a member that cannot be reached is retried; its changes come when it is back', async () => {
  const a = fakeMember('a'),
    b = fakeMember('b');
  b.down = true;
  const srv = await serve([a, b]);
  try {
    const one = client(srv.url);
    await waitFor(() => a.opened.length, { what: 'a opened' });
    a.push('a0');
    await waitFor(() => one.keys.includes('a0'), { what: 'a0' });
    b.push('b0'); // recorded while b's feed cannot be read
    b.down = false;
    await waitFor(() => one.keys.includes('b0'), { what: 'b0 once b is back' });
    one.stop();
    await one.done;
  } finally {
    await srv.close();
  }
});

test('a cursor the feed never gave out is refused', async () => {
  const srv = await serve([fakeMember('a')]);
  try {
    const bad = client(srv.url, 'garbage');
    await bad.done;
    assert.is(bad.status, 400);
    assert.is(decodeFeedCursor(encodeFeedCursor({ t: 5, c: { a: 'x.1' } }))?.c.a, 'x.1');
    assert.is(decodeFeedCursor(Buffer.from('{"t":"x","c":{}}').toString('base64url')), undefined);
  } finally {
    await srv.close();
  }
});

test.run();
