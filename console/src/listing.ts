// A folder's entries as the file list shows them (pure): folders first, then the chosen order;
// a filter on the name. Works on what has been loaded so far; the list says when more is coming.
import type { ObjectEntry } from '../../node-runtime/src/console/api.ts';
import { nameOf } from './paths.ts';

export type SortKey = 'name' | 'size' | 'modified';
export interface SortOrder {
  key: SortKey;
  descending: boolean;
}

// Names compare as S3 lists them (by code unit), not with a locale's collation: pages arrive in
// that order, so rows already shown never move when the next page lands, and sorting what is
// already in order costs one pass.
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function compareEntries(a: ObjectEntry, b: ObjectEntry, order: SortOrder): number {
  if (a.folder !== b.folder) return a.folder ? -1 : 1;
  let c = 0;
  if (order.key === 'size') c = a.size - b.size;
  else if (order.key === 'modified') c = byKey(a.lastModified ?? '', b.lastModified ?? '');
  if (c === 0) c = byKey(a.key, b.key);
  return order.descending ? -c : c;
}

/** The visible rows: filtered by a case-insensitive part of the name, then sorted. */
export function visibleEntries(entries: readonly ObjectEntry[], order: SortOrder, filter: string): ObjectEntry[] {
  const needle = filter.trim().toLowerCase();
  const rows = needle ? entries.filter((e) => nameOf(e.key).toLowerCase().includes(needle)) : entries.slice();
  return rows.sort((a, b) => compareEntries(a, b, order));
}

/** Clicking a column: the same column flips the direction, another starts ascending. */
export function nextOrder(current: SortOrder, key: SortKey): SortOrder {
  return current.key === key ? { key, descending: !current.descending } : { key, descending: false };
}

/** Rows a virtual list renders: those in view plus `overscan` on each side. */
export function windowOf(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last };
}
