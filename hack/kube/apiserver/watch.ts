// Watch: newline-delimited JSON events over a chunked response. Starts from "now" with synthetic
// ADDED events (rv unset or "0"), or replays the event window after an exact resourceVersion;
// a version older than the window gets an ERROR event with a 410 Expired Status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api } from './api.ts';
import { apiVersionOf } from './api.ts';
import { gone } from './errors.ts';
import type { ResourceType } from './registry.ts';
import { parseFieldSelector, parseLabelSelector, selectableFields } from './selectors.ts';
import type { KObject, StoreEvent } from './store.ts';
import { toTable } from './table.ts';

export interface WatchOptions {
  bookmarkIntervalMs: number /** Open watches of this server, so that close() can end them. */;
  open: Set<ServerResponse>;
}

export interface WatchRequest {
  t: ResourceType;
  namespace?: string;
  name?: string;
  query: URLSearchParams;
  table: boolean;
}

export function serveWatch(api: Api, req: IncomingMessage, res: ServerResponse, w: WatchRequest, opts: WatchOptions): void {
  const { t, query } = w;
  const byLabel = parseLabelSelector(query.get('labelSelector'));
  const byField = parseFieldSelector(query.get('fieldSelector'), selectableFields(t.group, t.resource, t.selectableFields));
  const inScope = (o: KObject) =>
    (!t.namespaced || w.namespace === undefined || o.metadata.namespace === w.namespace) && (!w.name || o.metadata.name === w.name);
  const match = (o: KObject | undefined) => !!o && inScope(o) && byLabel(o) && byField(o);
  const bookmarks = query.get('allowWatchBookmarks') === 'true' || query.get('allowWatchBookmarks') === '1';
  const rvParam = query.get('resourceVersion') ?? '';
  const sendInitial = query.get('sendInitialEvents') === 'true';

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  opts.open.add(res);
  const write = (type: string, object: unknown) => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const emitObject = (type: string, o: KObject) => {
    const presented = api.present(t, o);
    write(type, w.table ? toTable(t, [presented], { resourceVersion: o.metadata.resourceVersion }, query.get('includeObject') ?? 'Metadata') : presented);
  };
  const bookmark = (rv: number, annotations?: Record<string, string>) =>
    write('BOOKMARK', { kind: t.kind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) } });

  const relevant = (e: StoreEvent) => e.group === t.group && e.resource === t.resource;
  const deliver = (e: StoreEvent) => {
    if (!relevant(e)) return;
    const now = match(e.object);
    const before = match(e.previous);
    if (e.type === 'DELETED') {
      if (before || now) emitObject('DELETED', e.object);
      return;
    }
    if (e.type === 'ADDED') {
      if (now) emitObject('ADDED', e.object);
      return;
    }
    // A modification moves an object into or out of the selector: ADDED / DELETED, as the cacher does.
    if (now && before) emitObject('MODIFIED', e.object);
    else if (now) emitObject('ADDED', e.object);
    else if (before) emitObject('DELETED', e.object);
  };

  let unsubscribe = () => {};
  const timers: NodeJS.Timeout[] = [];
  const end = () => {
    unsubscribe();
    for (const tm of timers) {
      clearTimeout(tm);
      clearInterval(tm);
    }
    opts.open.delete(res);
    if (!res.writableEnded) res.end();
  };
  req.on('close', end);
  res.on('close', end);

  if (rvParam === '' || rvParam === '0' || sendInitial) {
    const items = api.store.list(t.group, t.resource, t.namespaced ? w.namespace : undefined, match);
    for (const o of items) emitObject('ADDED', o);
    if (sendInitial && bookmarks) bookmark(api.store.rv, { 'k8s.io/initial-events-end': 'true' });
  } else {
    const from = Number(rvParam);
    if (!Number.isInteger(from) || from < 0) {
      write('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `invalid resource version: ${rvParam}`,
        reason: 'BadRequest',
        code: 400,
      });
      return end();
    }
    const events = api.store.since(from);
    if (!events) {
      const why =
        from > api.store.rv
          ? `too large resource version: ${from}, current: ${api.store.rv} (the server restarted without its data)`
          : `too old resource version: ${from} (${api.store.historyStart + 1})`;
      write('ERROR', gone(why).toStatus());
      return end();
    }
    for (const e of events) deliver(e);
  }
  unsubscribe = api.store.subscribe(deliver);
  if (bookmarks) {
    const iv = setInterval(() => bookmark(api.store.rv), opts.bookmarkIntervalMs);
    iv.unref();
    timers.push(iv);
  }
  const timeout = Number(query.get('timeoutSeconds') ?? 0);
  if (timeout > 0) {
    const tm = setTimeout(end, timeout * 1000);
    tm.unref();
    timers.push(tm);
  }
}
