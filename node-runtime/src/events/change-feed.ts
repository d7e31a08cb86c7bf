// The change feed of one member: a bucket's changes it coordinated, as Server-Sent Events over its
// outbox, resumable from an opaque cursor. (events/cluster-feed.ts merges every member's feed into
// the one a client sees; this is what each member serves it.)
//
// GET …?prefix=P[&cursor=C | &since=MS] (or a `Last-Event-ID: C` header, which wins: it is what
// EventSource sends when it reconnects) answers `text/event-stream`:
//   retry: 1000
//   event: ready            id: C0   data: {"cursor":"C0"}        — the position it starts from
//   id: C1                  data: {EventName, Key, Records:[…]}  — one per change, in outbox order
//   : heartbeat             id: Cn                                — every heartbeatMs of silence
// Every `id:` is a cursor: reconnecting with the last one received resumes right after that
// event, so a client misses nothing and gets nothing twice. Heartbeats carry an id too, so a client
// of a quiet bucket keeps a fresh position while other buckets' events go by (an id-only message
// still sets EventSource's lastEventId). Without a cursor the feed starts at the newest change, or
// with `since` at the first change recorded at or after that time (epoch ms): how the merged feed
// starts on a member it has no cursor for yet.
//
// Past the retention window: a cursor older than the first retained entry (or a `since` older than
// the window when entries were let go), from another lifetime of the outbox (its directory was
// lost), or overtaken mid-stream by a full outbox, gets
//   event: reset   id: Cnow   data: {"reason":"expired"|"unknown"|"dropped","cursor":"Cnow"}
// and the stream goes on from the newest change: the client re-lists the bucket, then applies what
// follows (events it already saw in the listing apply again harmlessly; records carry sequencers).
// A reset rather than a 410 keeps EventSource clients working: they cannot read an error status.
// A malformed cursor is a 400.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isS3Error } from '../util/errors.ts';
import type { Outbox } from './outbox.ts';
import { decodeKey, eventMessage, type OutboxEvent } from './record.ts';

export interface ChangeFeedOptions {
  outbox: Outbox<OutboxEvent>;
  /** May this request read the bucket's changes? Throwing an S3Error answers with its status and code. */
  authorize: (req: IncomingMessage, bucket: string) => boolean | Promise<boolean>;
  heartbeatMs?: number; // default 15 s
  readBatch?: number; // default 256
  /** Aborted when the server shuts down: every stream ends cleanly. */
  signal?: AbortSignal;
}

export type ChangeFeedHandler = (req: IncomingMessage, res: ServerResponse, bucket: string) => Promise<void>;

/** One message of a feed: a change (data), a control event (ready, reset), or a heartbeat (id only). */
export interface FeedMessage {
  event?: 'ready' | 'reset';
  id: string;
  data?: string;
}
export type FeedStart = { pos: number; reset?: 'expired' | 'unknown' } | { error: 'malformed' };

/** Where a feed starts: after a cursor, at a time, or at the newest change. */
export async function feedStart(outbox: Outbox<OutboxEvent>, given: { cursor?: string; since?: number }, now = Date.now()): Promise<FeedStart> {
  if (given.cursor) {
    const parsed = outbox.parseCursor(given.cursor);
    if ('error' in parsed && parsed.error === 'malformed') return { error: 'malformed' };
    if ('error' in parsed || parsed.seq > outbox.end) return { pos: outbox.end, reset: 'unknown' };
    if (parsed.seq < outbox.first) return { pos: outbox.end, reset: 'expired' };
    return { pos: parsed.seq };
  }
  if (given.since !== undefined) {
    // Entries let go since then may have been at or after it: say so rather than start silently.
    if (outbox.first > 0 && now - given.since > outbox.retentionMs) return { pos: outbox.end, reset: 'expired' };
    for (let pos = outbox.first; ; ) {
      const r = await outbox.read(pos, 1024);
      const hit = r.entries.find((e) => e.at >= given.since!);
      if (hit) return { pos: hit.seq };
      if (r.entries.length === 0) return { pos: r.next };
      pos = r.next;
    }
  }
  return { pos: outbox.end };
}

/** The bucket's changes from `start` on, until the signal aborts or the outbox closes. */
export async function* feedMessages(
  outbox: Outbox<OutboxEvent>,
  bucket: string,
  prefix: string,
  start: { pos: number; reset?: string },
  signal: AbortSignal,
  o: { heartbeatMs?: number; readBatch?: number } = {},
): AsyncGenerator<FeedMessage> {
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const readBatch = o.readBatch ?? 256;
  let pos = start.pos;
  const control = (event: 'ready' | 'reset', extra: Record<string, string> = {}): FeedMessage => {
    const cursor = outbox.encodeCursor(pos);
    return { event, id: cursor, data: JSON.stringify({ ...extra, cursor }) };
  };
  let lastYield = Date.now();
  yield start.reset ? control('reset', { reason: start.reset }) : control('ready');
  while (!signal.aborted && !outbox.isClosed) {
    const r = await outbox.read(pos, readBatch);
    if (r.skipped > 0) {
      pos = outbox.end;
      lastYield = Date.now();
      yield control('reset', { reason: 'dropped' });
      continue;
    }
    for (const e of r.entries) {
      if (signal.aborted) return;
      const { record } = e.value;
      if (record.s3.bucket.name !== bucket || !decodeKey(record.s3.object.key).startsWith(prefix)) continue;
      lastYield = Date.now();
      yield { id: outbox.encodeCursor(e.seq + 1), data: JSON.stringify(eventMessage(record)) };
    }
    if (signal.aborted) return;
    pos = r.next;
    if (r.entries.length === 0) await outbox.waitForAppend(pos, { signal, timeoutMs: Math.max(1, heartbeatMs - (Date.now() - lastYield)) });
    if (Date.now() - lastYield >= heartbeatMs) {
      lastYield = Date.now();
      yield { id: outbox.encodeCursor(pos) };
    }
  }
}

/** A message as text/event-stream. */
export function sseText(m: FeedMessage): string {
  if (m.data === undefined) return `: heartbeat\nid: ${m.id}\n\n`;
  return `${m.event ? `event: ${m.event}\n` : ''}id: ${m.id}\ndata: ${m.data}\n\n`;
}

export function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message }));
}

/** Write messages to an SSE response until they end or the client goes; waits for a slow client. */
export async function streamSse(res: ServerResponse, messages: (signal: AbortSignal) => AsyncIterable<FeedMessage>, shutdown?: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const end = () => stop.abort();
  res.once('close', end); // the response's close, not the request's: that one fires once a GET's (empty) body is read
  shutdown?.addEventListener('abort', end, { once: true });
  const write = async (text: string) => {
    if (!res.write(text))
      await new Promise<void>((r) => {
        res.once('drain', r);
        stop.signal.addEventListener('abort', () => r(), { once: true });
      });
  };
  if (!res.headersSent)
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
  try {
    await write('retry: 1000\n\n');
    for await (const m of messages(stop.signal)) {
      if (stop.signal.aborted) break;
      await write(sseText(m));
    }
  } finally {
    stop.abort();
    res.off('close', end);
    shutdown?.removeEventListener('abort', end);
    if (!res.writableEnded) res.end();
  }
}

export function changeFeed(opts: ChangeFeedOptions): ChangeFeedHandler {
  const { outbox } = opts;
  return async (req, res, bucket) => {
    try {
      if (!(await opts.authorize(req, bucket))) return refuse(res, 403, 'AccessDenied', 'Access Denied');
    } catch (e) {
      if (isS3Error(e)) return refuse(res, e.status, e.code, e.message);
      throw e;
    }
    const query = new URL(req.url ?? '/', 'http://feed').searchParams;
    const prefix = query.get('prefix') ?? '';
    const cursor = String(req.headers['last-event-id'] ?? query.get('cursor') ?? '');
    const since = query.get('since');
    if (since !== null && !/^\d{1,15}$/.test(since)) return refuse(res, 400, 'InvalidArgument', 'since is a time in epoch milliseconds.');
    const start = await feedStart(outbox, { cursor, ...(since !== null ? { since: Number(since) } : {}) });
    if ('error' in start) return refuse(res, 400, 'InvalidArgument', 'The cursor is not one this feed gave out.');
    await streamSse(res, (signal) => feedMessages(outbox, bucket, prefix, start, signal, opts), opts.signal);
  };
}
