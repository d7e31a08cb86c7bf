// The change feed wiring: each member serves its own outbox's feed on the cluster port (behind the
// cluster secret), and the file API serves the merged feed of every member (events/cluster-feed.ts),
// reading this member's outbox in process and the others' over HTTP. Streams end on shutdown
// before the servers close, so a stop does not wait on connected clients.
import type { Express } from 'express';
import type { Member } from '../cluster/types.ts';
import { changeFeed, feedMessages, feedStart } from '../events/change-feed.ts';
import { clusterChangeFeed, type MemberFeedParams } from '../events/cluster-feed.ts';
import type { Outbox } from '../events/outbox.ts';
import type { OutboxEvent } from '../events/record.ts';
import { sseMessages, type SseMessage } from '../events/sse.ts';
import { requireClusterSecret } from '../rpc/auth.ts';
import type { S3Deps } from '../s3/types.ts';

export const MEMBER_FEED_PATH = '/rpc/v1/events/changes';

export interface ChangeFeedWiring {
  changeFeed: NonNullable<S3Deps['changeFeed']>;
  stop(): void;
}

export function wireChangeFeed(o: {
  selfId: string;
  view: { members(): Member[] };
  outbox: Outbox<OutboxEvent>;
  secret?: string;
  clusterApp: Express;
  heartbeatMs?: number;
}): ChangeFeedWiring {
  const shutdown = new AbortController();
  if (o.secret) {
    const serve = changeFeed({ outbox: o.outbox, authorize: () => true, signal: shutdown.signal, heartbeatMs: o.heartbeatMs });
    o.clusterApp.get(`${MEMBER_FEED_PATH}/:bucket`, requireClusterSecret(o.secret), (req, res, next) => {
      serve(req, res, String(req.params.bucket)).catch(next);
    });
  }
  const local = async function* (bucket: string, p: MemberFeedParams, signal: AbortSignal): AsyncGenerator<SseMessage> {
    const start = await feedStart(o.outbox, p);
    if ('error' in start) throw new Error('a malformed member cursor');
    yield* feedMessages(o.outbox, bucket, p.prefix, start, signal, { heartbeatMs: o.heartbeatMs });
  };
  const remote = async (m: Member, bucket: string, p: MemberFeedParams, signal: AbortSignal): Promise<AsyncIterable<SseMessage>> => {
    const q = new URLSearchParams({
      prefix: p.prefix,
      ...(p.cursor ? { cursor: p.cursor } : {}),
      ...(p.since !== undefined ? { since: String(p.since) } : {}),
    });
    const res = await fetch(`${m.cluster}${MEMBER_FEED_PATH}/${encodeURIComponent(bucket)}?${q}`, {
      headers: { authorization: `Bearer ${o.secret}`, accept: 'text/event-stream' },
      signal,
    });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      throw new Error(`member ${m.name}: HTTP ${res.status}`);
    }
    return sseMessages(res.body);
  };
  const merged = clusterChangeFeed<Member>({
    // Every member that may have coordinated writes (roots answer file requests too); others only with the secret.
    members: () => o.view.members().filter((m) => m.id === o.selfId || o.secret),
    open: async (m, bucket, p, signal) => (m.id === o.selfId ? local(bucket, p, signal) : remote(m, bucket, p, signal)),
    heartbeatMs: o.heartbeatMs,
    signal: shutdown.signal,
  });
  return { changeFeed: merged, stop: () => shutdown.abort() };
}
