// A folder's listing, loaded page by page (1,000 keys per S3 ListObjectsV2 call, continuation
// tokens) as the list scrolls near its end, or all of it (up to a cap) when a sort or a filter
// needs every entry. Entries live in one array that grows in place; `version` says it changed,
// so 100,000 keys never get copied per page. Local changes (an upload finished, a delete) edit it.
// A search by tag walks the same way, one page of keys per call (the server reads their tags), and
// goes on by itself for a bounded number of keys before it waits for the user to ask for more.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ObjectEntry, ObjectPage } from '../../../../node-runtime/src/console/api.ts';
import { ApiError, api, errorText } from '../../api.ts';

export const LOAD_ALL_CAP = 200_000;
/** Keys a tag search reads before it stops and offers to go on: 5 calls of 1,000 keys. */
export const TAG_SEARCH_STEP = 5_000;

/** What the list shows instead of the folder: keys under prefix+text, or keys under prefix with a tag. */
export type Search = { by: 'prefix'; text: string } | { by: 'tag'; text: string };

export interface Folder {
  entries: ObjectEntry[];
  version: number;
  loading: boolean;
  complete: boolean;
  error: string;
  /** The error is the request's own fault (bad input): asking again would not help. */
  errorFinal: boolean;
  /** A tag search: keys read so far, those whose tags the user may not read, and whether it waits for "go on". */
  tagScan?: { scanned: number; unreadable: number; waiting: boolean };
  loadMore(): void;
  /** A tag search that waits: read the next step of keys. */
  searchOn(): void;
  loadAll(): void;
  reload(): void;
  upsert(e: ObjectEntry): void;
  remove(keys: Iterable<string>): void;
}

interface Cursor {
  listing: string; // what it lists: bucket, prefix, search, generation
  entries: ObjectEntry[];
  local: Set<string>;
  token?: string;
  complete: boolean;
  loading: boolean;
  all: boolean;
  ctrl: AbortController;
  scanned: number;
  unreadable: number;
  budget: number; // keys a tag search may still read before it waits
}

const newCursor = (listing = ''): Cursor => ({
  listing,
  entries: [],
  local: new Set(),
  complete: false,
  loading: false,
  all: false,
  ctrl: new AbortController(),
  scanned: 0,
  unreadable: 0,
  budget: TAG_SEARCH_STEP,
});

const PENDING: Cursor = { ...newCursor('pending'), loading: true };

/** `search`: list every key under prefix+text, or every key under prefix with a tag, instead of the folder itself. */
export function useFolder(bucket: string, prefix: string, search: Search | undefined): Folder {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<{ text: string; final: boolean }>({ text: '', final: false });
  const [generation, setGeneration] = useState(0);
  const cursor = useRef<Cursor>(newCursor());
  const bump = () => setVersion((v) => v + 1);

  async function fetchNext(c: Cursor): Promise<void> {
    if (c.loading || c.complete || c !== cursor.current) return;
    c.loading = true;
    bump();
    let failed = false;
    try {
      let page: ObjectPage;
      if (search?.by === 'tag') {
        const step = await api.tagged(bucket, prefix, search.text, c.token, c.ctrl.signal);
        c.scanned += step.scanned;
        c.unreadable += step.unreadable;
        c.budget -= step.scanned;
        page = step;
      } else page = await api.page(bucket, search ? prefix + search.text : prefix, c.token, { folders: search === undefined, signal: c.ctrl.signal });
      if (c !== cursor.current) return;
      // Keys added here already (a finished upload) may come again in a later page.
      for (const e of page.entries) if (!c.local.has(e.key)) c.entries.push(e);
      c.token = page.nextToken;
      c.complete = !page.nextToken;
      setError({ text: '', final: false });
    } catch (e) {
      if (c !== cursor.current || (e as Error).name === 'AbortError') return;
      c.all = false; // stop a load-all on the first failure; Retry goes on from here
      failed = true;
      setError({ text: errorText(e), final: e instanceof ApiError && e.status === 400 });
    } finally {
      c.loading = false;
      if (c === cursor.current) bump();
    }
    // A tag search finds few keys per page: it goes on by itself until a screenful is found or its step is used up.
    const tagging = search?.by === 'tag' && c.budget > 0 && c.entries.length < 100;
    if (!failed && (c.all || tagging) && !c.complete && c.entries.length < LOAD_ALL_CAP) void fetchNext(c);
  }

  const listing = JSON.stringify([bucket, prefix, search?.by ?? '', search?.text ?? '', generation]);
  useEffect(() => {
    const c = newCursor(listing);
    cursor.current = c;
    setError({ text: '', final: false });
    bump();
    void fetchNext(c);
    return () => c.ctrl.abort();
  }, [listing]);

  // In the render between a new folder or search and its effect, the cursor still holds the old
  // listing: show nothing yet, rather than the old entries under the new title for a frame.
  const c = cursor.current.listing === listing ? cursor.current : PENDING;
  return {
    entries: c.entries,
    version,
    loading: c.loading,
    complete: c.complete,
    error: error.text,
    errorFinal: error.final,
    tagScan: search?.by === 'tag' ? { scanned: c.scanned, unreadable: c.unreadable, waiting: c.budget <= 0 && !c.complete && !c.loading } : undefined,
    loadMore: () => {
      // A scroll never makes a tag search read past its step: only "Search on" does.
      if (search?.by !== 'tag' || cursor.current.budget > 0) void fetchNext(cursor.current);
    },
    searchOn: () => {
      cursor.current.budget = TAG_SEARCH_STEP;
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
