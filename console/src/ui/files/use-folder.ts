// A folder's listing, loaded page by page (1,000 keys per S3 ListObjectsV2 call, continuation
// tokens) as the list scrolls near its end, or all of it (up to a cap) when a sort or a filter
// needs every entry. Entries live in one array that grows in place; `version` says it changed,
// so 100,000 keys never get copied per page. Local changes (an upload finished, a delete) edit it.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ObjectEntry } from '../../../../node-runtime/src/console/api.ts';
import { api, errorText } from '../../api.ts';

export const LOAD_ALL_CAP = 200_000;

export interface Folder {
  entries: ObjectEntry[];
  version: number;
  loading: boolean;
  complete: boolean;
  error: string;
  loadMore(): void;
  loadAll(): void;
  reload(): void;
  upsert(e: ObjectEntry): void;
  remove(keys: Iterable<string>): void;
}

interface Cursor {
  entries: ObjectEntry[];
  local: Set<string>;
  token?: string;
  complete: boolean;
  loading: boolean;
  all: boolean;
  ctrl: AbortController;
}

/** `search`: list every key under prefix+search (no folders) instead of the folder itself. */
export function useFolder(bucket: string, prefix: string, search: string | undefined): Folder {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState('');
  const [generation, setGeneration] = useState(0);
  const cursor = useRef<Cursor>({ entries: [], local: new Set(), complete: false, loading: false, all: false, ctrl: new AbortController() });
  const bump = () => setVersion((v) => v + 1);

  async function fetchNext(c: Cursor): Promise<void> {
    if (c.loading || c.complete || c !== cursor.current) return;
    c.loading = true;
    bump();
    try {
      const page = await api.page(bucket, search === undefined ? prefix : prefix + search, c.token, { folders: search === undefined, signal: c.ctrl.signal });
      if (c !== cursor.current) return;
      // Keys added here already (a finished upload) may come again in a later page.
      for (const e of page.entries) if (!c.local.has(e.key)) c.entries.push(e);
      c.token = page.nextToken;
      c.complete = !page.nextToken;
      setError('');
    } catch (e) {
      if (c !== cursor.current || (e as Error).name === 'AbortError') return;
      c.all = false; // stop a load-all on the first failure; Retry goes on from here
      setError(errorText(e));
    } finally {
      c.loading = false;
      if (c === cursor.current) bump();
    }
    if (c.all && !c.complete && c.entries.length < LOAD_ALL_CAP) void fetchNext(c);
  }

  useEffect(() => {
    const c: Cursor = { entries: [], local: new Set(), complete: false, loading: false, all: false, ctrl: new AbortController() };
    cursor.current = c;
    setError('');
    bump();
    void fetchNext(c);
    return () => c.ctrl.abort();
  }, [bucket, prefix, search, generation]);

  const c = cursor.current;
  return {
    entries: c.entries,
    version,
    loading: c.loading,
    complete: c.complete,
    error,
    loadMore: () => {
      void fetchNext(cursor.current);
    },
    loadAll: () => {
      const cur = cursor.current;
      if (!cur.all) {
        cur.all = true;
        void fetchNext(cur);
      }
    },
    reload: () => setGeneration((g) => g + 1),
    upsert: (e) => {
      const list = cursor.current.entries;
      cursor.current.local.add(e.key);
      const i = list.findIndex((x) => x.key === e.key);
      if (i >= 0) list[i] = e;
      else list.push(e);
      bump();
    },
    remove: (keys) => {
      const gone = new Set(keys);
      const list = cursor.current.entries;
      let w = 0;
      for (const e of list) if (!gone.has(e.key)) list[w++] = e;
      list.length = w;
      bump();
    },
  };
}
