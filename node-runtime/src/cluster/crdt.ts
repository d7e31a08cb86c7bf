// Last-writer-wins maps: the replicated state of the roots (cluster map, bucket registry, access keys,
// cluster settings). Each key holds one entry (value + timestamp + writer id); merging two maps keeps,
// per key, the newer entry, ties broken on the writer id. That merge is commutative, associative and
// idempotent, so roots and nodes can exchange whole maps in any order, any number of times, and
// still converge to the same state without a consensus protocol (DESIGN.md: none is hand-written).
// A removal is an entry whose value is null (a tombstone), so it wins over older writes everywhere.

export interface LwwEntry<T> {
  value: T | null; // null = removed
  ts: number; // ms since epoch at the writer (kept monotonic per key, see `write`)
  writer: string; // member id of the writer; tie-break for equal timestamps
}

/** A whole LWW map as plain JSON (what is persisted and sent over the wire). */
export type LwwMap<T> = Record<string, LwwEntry<T>>;

/** True when entry a wins over entry b. Equal ts and writer: compare values so the merge stays a function of the set of entries. */
export function newer<T>(a: LwwEntry<T>, b: LwwEntry<T>): boolean {
  // The same entry object (a process's agent and root share entries): nothing to compare.
  if (a === b) return false;
  if (a.ts !== b.ts) return a.ts > b.ts;
  if (a.writer !== b.writer) return a.writer > b.writer;
  return JSON.stringify(a.value) > JSON.stringify(b.value);
}

export function mergeEntry<T>(a: LwwEntry<T> | undefined, b: LwwEntry<T> | undefined): LwwEntry<T> | undefined {
  if (!a) return b;
  if (!b) return a;
  return newer(b, a) ? b : a;
}

/** The merge of two maps (a new object; inputs are not changed). */
export function merge<T>(a: LwwMap<T>, b: LwwMap<T>): LwwMap<T> {
  const out: LwwMap<T> = { ...a };
  for (const [k, e] of Object.entries(b)) {
    if (!isEntry(e)) continue;
    out[k] = mergeEntry(out[k], e)!;
  }
  return out;
}

/** Merge `incoming` into `target` in place; returns the keys whose entry changed. */
export function mergeInto<T>(target: LwwMap<T>, incoming: LwwMap<T>): string[] {
  const changed: string[] = [];
  for (const [k, e] of Object.entries(incoming ?? {})) {
    if (!isEntry(e)) continue;
    const cur = target[k];
    if (!cur || newer(e, cur)) {
      target[k] = e;
      changed.push(k);
    }
  }
  return changed;
}

/** A new entry for `key` written now by `writer`, strictly newer than what the map holds (clock skew or same-ms writes). */
export function write<T>(map: LwwMap<T>, key: string, value: T | null, writer: string, now = Date.now()): LwwEntry<T> {
  const cur = map[key];
  const ts = cur && cur.ts >= now ? Math.floor(cur.ts) + 1 : now;
  const e = { value, ts, writer };
  map[key] = e;
  return e;
}

/**
 * An entry that is a consequence of the current one (e.g. `drained` of a `draining`): ordered just
 * after it (ts + 0.5) and before any write made later with `write`, which always lands on a whole
 * step past what it saw. So a decision taken on a stale entry can never override a newer one: a node
 * that finishes draining a moment after an operator undrained it loses to the undrain everywhere.
 */
export function follow<T>(map: LwwMap<T>, key: string, value: T | null, writer: string): LwwEntry<T> {
  const cur = map[key];
  const e = { value, ts: cur ? cur.ts + 0.5 : 0, writer };
  map[key] = e;
  return e;
}

/** Live values (tombstones left out). */
export function values<T>(map: LwwMap<T>): T[] {
  const out: T[] = [];
  for (const e of Object.values(map)) if (e.value !== null) out.push(e.value);
  return out;
}

export function get<T>(map: LwwMap<T>, key: string): T | undefined {
  const e = map[key];
  return e && e.value !== null ? e.value : undefined;
}

// Maps arrive over the network and from disk: ignore anything that is not an entry rather than crash.
function isEntry(e: unknown): e is LwwEntry<unknown> {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as LwwEntry<unknown>).ts === 'number' &&
    typeof (e as LwwEntry<unknown>).writer === 'string' &&
    'value' in e
  );
}
