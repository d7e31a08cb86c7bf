// The change feed a client sees: every member's feed of a bucket (change-feed.ts; each member holds
// the changes it coordinated) merged into one stream, with one cursor for all of them.
//
// The cursor is `base64url(JSON {t, c: {member: memberCursor}})`: the position reached in each
// member's outbox, and the time the client first connected (t). A member the cursor does not name
// yet (down when the client connected, or joined later) is read from `since=t`, so its changes
// from that time on are not missed either. Each `id:` the client receives is the cursor of exactly
// what it has received: positions move only in the one chain that writes to the client, so an
// event still on its way is never counted as seen. Reconnecting with it (Last-Event-ID) resumes
// every member where the client left it.
//
// A member that cannot be reached is retried with backoff while it is in the cluster map; its
// changes wait in its outbox (durable) and arrive when it is back, within the retention window. A
// member's `reset` (its part of the cursor expired, or its outbox was lost) is passed on with the
// member's name: the client re-lists. Order: per member, outbox order; across members, the
// records' sequencers order the events of one key (docs/events.md).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { s3Error } from '../util/errors.ts';
import { logger } from '../util/log.ts';
import { streamSse, type FeedMessage } from './change-feed.ts';
import type { SseMessage } from './sse.ts';

const log = logger('change-feed');

export interface FeedMember {
  id: string;
}
export interface MemberFeedParams {
  prefix: string;
  cursor?: string;
  since?: number;
}

export interface ClusterFeedOptions<M extends FeedMember> {
  /** The members whose feeds to read (every member of the cluster map that may have coordinated writes). */
  members(): M[];
  /** A member's feed of the bucket; the iterable ends (or throws) when the connection does. */
  open(member: M, bucket: string, params: MemberFeedParams, signal: AbortSignal): Promise<AsyncIterable<SseMessage>>;
  heartbeatMs?: number; // default 15 s
  rescanMs?: number; // how often new members are looked for (default 2 s)
  retryMs?: { min: number; max: number }; // a member's reconnect backoff (default 0.25 s → 5 s)
  signal?: AbortSignal; // aborted when the server shuts down
  now?: () => number;
}

export interface FeedCursor {
  t: number;
  c: Record<string, string>;
}

export function encodeFeedCursor(c: FeedCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** The cursor a client gave, or undefined when it is not one this feed gave out. */
export function decodeFeedCursor(s: string): FeedCursor | undefined {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as FeedCursor;
    if (!Number.isSafeInteger(v?.t) || typeof v.c !== 'object' || v.c === null || Array.isArray(v.c)) return undefined;
    if (!Object.values(v.c).every((x) => typeof x === 'string' && x.length < 64)) return undefined;
    return { t: v.t, c: { ...v.c } };
  } catch {
    return undefined;
  }
}

const abortable = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      r();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export function clusterChangeFeed<M extends FeedMember>(o: ClusterFeedOptions<M>) {
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const rescanMs = o.rescanMs ?? 2_000;
  const retry = o.retryMs ?? { min: 250, max: 5_000 };
  const now = o.now ?? Date.now;

  /** Serve the feed; a bad cursor throws InvalidArgument before anything is written. */
  return async (_req: IncomingMessage, res: ServerResponse, bucket: string, q: { prefix: string; cursor?: string }): Promise<void> => {
    const given = q.cursor ? decodeFeedCursor(q.cursor) : undefined;
    if (q.cursor && !given) throw s3Error('InvalidArgument', 'The cursor is not one this feed gave out.');
    // What the client has received: changed only by the writer, just before it writes.
    const seen: FeedCursor = given ?? { t: now(), c: {} };
    const id = () => encodeFeedCursor(seen);

    await streamSse(res, (signal) => merged(signal), o.signal);

    async function* merged(outer: AbortSignal): AsyncGenerator<FeedMessage> {
      // The readers stop with the stream, however it ends.
      const readersStop = new AbortController();
      const signal = AbortSignal.any([outer, readersStop.signal]);
      // Member readers hand messages over one at a time; each waits until its message was taken.
      const inbox: { member: string; m: SseMessage; taken: () => void }[] = [];
      let wake: (() => void) | undefined;
      signal.addEventListener('abort', () => wake?.(), { once: true });
      const deliver = (member: string, m: SseMessage) =>
        new Promise<void>((taken) => {
          inbox.push({ member, m, taken });
          wake?.();
        });
      const readers = new Map<string, Promise<void>>();
      const read = async (member: M) => {
        let backoff = retry.min;
        while (!signal.aborted) {
          try {
            const cursor = seen.c[member.id];
            const stream = await o.open(member, bucket, { prefix: q.prefix, ...(cursor ? { cursor } : { since: seen.t }) }, signal);
            for await (const m of stream) {
              if (signal.aborted) return;
              backoff = retry.min;
              if (m.id !== undefined) await deliver(member.id, m);
            }
          } catch (e) {
            if (signal.aborted) return;
            log.debug({ bucket, member: member.id, err: String((e as Error)?.message ?? e) }, 'member feed interrupted; retrying');
          }
          if (!o.members().some((x) => x.id === member.id)) return; // forgotten: nothing more will come from it
          await abortable(backoff, signal);
          backoff = Math.min(retry.max, backoff * 2);
        }
      };
      const scan = () => {
        for (const m of o.members())
          if (!readers.has(m.id))
            readers.set(
              m.id,
              read(m).finally(() => readers.delete(m.id)),
            );
      };
      const timer = setInterval(
        () => {
          scan();
          wake?.();
        },
        Math.min(rescanMs, heartbeatMs),
      );
      try {
        yield { event: 'ready', id: id(), data: JSON.stringify({ cursor: id() }) };
        scan();
        let lastYield = now();
        while (!signal.aborted) {
          const next = inbox.shift();
          if (!next) {
            if (now() - lastYield >= heartbeatMs) {
              lastYield = now();
              yield { id: id() };
              continue;
            }
            let t: NodeJS.Timeout | undefined;
            await new Promise<void>((r) => {
              wake = r;
              t = setTimeout(r, Math.max(1, heartbeatMs - (now() - lastYield)));
            });
            clearTimeout(t);
            wake = undefined;
            continue;
          }
          const { member, m, taken } = next;
          seen.c[member] = m.id!;
          if (m.event === 'reset') {
            const data = JSON.parse(m.data ?? '{}') as { reason?: string };
            lastYield = now();
            yield { event: 'reset', id: id(), data: JSON.stringify({ reason: data.reason ?? 'unknown', member, cursor: id() }) };
          } else if (m.event === undefined && m.data !== undefined) {
            lastYield = now();
            yield { id: id(), data: m.data };
          }
          // ready and heartbeats only move the member's position (sent with the next message).
          taken();
        }
      } finally {
        clearInterval(timer);
        readersStop.abort();
        for (const x of inbox.splice(0)) x.taken();
        await Promise.allSettled([...readers.values()]);
      }
    }
  };
}
