// The change feed: a bucket's changes as Server-Sent Events over the outbox, resumable from an opaque cursor.
//
// GET …?prefix=P[&cursor=C] (or a `Last-Event-ID: C` header, which wins: it is what EventSource
// sends when it reconnects) answers `text/event-stream`:
//   retry: 1000
//   event: ready            id: C0   data: {"cursor":"C0"}        — the position it starts from
//   id: C1                  data: {EventName, Key, Records:[…]}  — one per change, in outbox order
//   : heartbeat             id: Cn                                — every heartbeatMs of silence
// Every `id:` is a cursor: reconnecting with the last one received resumes right after that
// event, so a client misses nothing and gets nothing twice. Heartbeats carry an id too, so a client
// of a quiet bucket keeps a fresh position while other buckets' events go by (an id-only message
// still sets EventSource's lastEventId). Without a cursor the feed starts at the newest change.
//
// Past the retention window: a cursor older than the first retained entry, from another lifetime
// of the outbox (its directory was lost), or overtaken mid-stream by a full outbox, gets
//   event: reset   id: Cnow   data: {"reason":"expired"|"unknown"|"dropped","cursor":"Cnow"}
// and the stream goes on from the newest change: the client re-lists the bucket, then applies what
// follows (events it already saw in the listing apply again harmlessly; records carry sequencers).
// A reset rather than a 410 keeps EventSource clients working: they cannot read an error status.
// A malformed cursor is a 400.
//
// This serves one node's outbox: the changes this node coordinated. A cluster-wide feed needs the
// events of a bucket in one place (or one cursor per node) — the wiring's decision, not this file's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isS3Error } from '../util/errors.ts';
import type { Outbox } from './outbox.ts';
import { decodeKey, eventMessage, type OutboxEvent } from './record.ts';

export interface ChangeFeedOptions {
  outbox: Outbox<OutboxEvent>;
  /** May this request read the bucket's changes? Throwing an S3Error answers with its status and code. */
  authorize: (req: IncomingMessage, bucket: string) => boolean | Promise<boolean>;
  heartbeatMs?: number;        // default 15 s
  readBatch?: number;          // default 256
  /** Aborted when the server shuts down: every stream ends cleanly. */
  signal?: AbortSignal;
}

export type ChangeFeedHandler = (req: IncomingMessage, res: ServerResponse, bucket: string) => Promise<void>;

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message }));
}

export function changeFeed(opts: ChangeFeedOptions): ChangeFeedHandler {
  const { outbox } = opts;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const readBatch = opts.readBatch ?? 256;

  return async (req, res, bucket) => {
    try {
      if (!(await opts.authorize(req, bucket))) return refuse(res, 403, 'AccessDenied', 'Access Denied');
    } catch (e) {
      if (isS3Error(e)) return refuse(res, e.status, e.code, e.message);
      throw e;
    }
    const query = new URL(req.url ?? '/', 'http://feed').searchParams;
    const prefix = query.get('prefix') ?? '';
    const given = req.headers['last-event-id'] ?? query.get('cursor') ?? undefined;
    let pos = outbox.end;
    let reset: string | undefined;
    if (given !== undefined && given !== '') {
      const parsed = outbox.parseCursor(String(given));
      if ('error' in parsed && parsed.error === 'malformed') return refuse(res, 400, 'InvalidArgument', 'The cursor is not one this feed gave out.');
      if ('error' in parsed || parsed.seq > outbox.end) reset = 'unknown';
      else if (parsed.seq < outbox.first) reset = 'expired';
      else pos = parsed.seq;
    }

    // The stream ends when the client goes, the server shuts down, or the outbox closes.
    const stop = new AbortController();
    const end = () => stop.abort();
    res.once('close', end);   // the response's close, not the request's: that one fires once a GET's (empty) body is read
    opts.signal?.addEventListener('abort', end, { once: true });
    let lastWrite = Date.now();
    const write = async (text: string) => {
      lastWrite = Date.now();
      if (!res.write(text)) await new Promise<void>((r) => { res.once('drain', r); stop.signal.addEventListener('abort', () => r(), { once: true }); });
    };
    const control = (event: string, data: Record<string, string>) => write(`event: ${event}\nid: ${data.cursor}\ndata: ${JSON.stringify(data)}\n\n`);

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
    try {
      await write('retry: 1000\n\n');
      if (reset) await control('reset', { reason: reset, cursor: outbox.encodeCursor(pos) });
      else await control('ready', { cursor: outbox.encodeCursor(pos) });
      while (!stop.signal.aborted && !outbox.isClosed) {
        const r = await outbox.read(pos, readBatch);
        if (r.skipped > 0) {
          pos = outbox.end;
          await control('reset', { reason: 'dropped', cursor: outbox.encodeCursor(pos) });
          continue;
        }
        for (const e of r.entries) {
          if (stop.signal.aborted) break;
          const { record } = e.value;
          if (record.s3.bucket.name !== bucket || !decodeKey(record.s3.object.key).startsWith(prefix)) continue;
          await write(`id: ${outbox.encodeCursor(e.seq + 1)}\ndata: ${JSON.stringify(eventMessage(record))}\n\n`);
        }
        if (stop.signal.aborted) break;
        pos = r.next;
        if (r.entries.length === 0) await outbox.waitForAppend(pos, { signal: stop.signal, timeoutMs: Math.max(1, heartbeatMs - (Date.now() - lastWrite)) });
        if (Date.now() - lastWrite >= heartbeatMs) await write(`: heartbeat\nid: ${outbox.encodeCursor(pos)}\n\n`);
      }
    } finally {
      res.off('close', end);
      opts.signal?.removeEventListener('abort', end);
      if (!res.writableEnded) res.end();
    }
  };
}
