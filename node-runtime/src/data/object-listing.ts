// Listings of a bucket over its metadata replicas: the keys' records merged slot by slot, a key at a
// time (every slot of a key is needed to know its current version: meta/slots.ts), then ListObjects
// (current live versions, rolled up by delimiter) and the version batches ListObjectVersions pages.
import type { BucketSettings } from '../cluster/types.ts';
import type { ListVersionsOptions } from '../meta/records.ts';
import { currentOf, versionsNewestFirst } from '../meta/slots.ts';
import type { BucketMetadata } from './metadata.ts';
import { commonPrefixOf, compareKeys, mergePages, pastPrefix } from './listing.ts';
import type { ListOptions, ListResult, ObjectVersion, VersionBatch } from './types.ts';

/**
 * Every key's records from `startAfter` (exclusive) on, a key at a time, in key order. The consumer
 * may answer a key with another key to skip to (exclusive): the rest of a rolled-up prefix, say.
 */
export async function* keyGroups(
  meta: BucketMetadata,
  b: BucketSettings,
  opts: { prefix?: string; startAfter?: string; startAt?: string; batch: number; fields?: ListVersionsOptions['fields'] },
): AsyncGenerator<ObjectVersion[], void, string | undefined> {
  let after: { key: string; slot?: string; at?: true } | undefined =
    opts.startAfter !== undefined ? { key: opts.startAfter } : opts.startAt !== undefined ? { key: opts.startAt, at: true } : undefined;
  let group: ObjectVersion[] = [];
  let skipTo: string | undefined;
  for (;;) {
    const from = after?.at ? { startAt: after.key } : { startAfter: after?.key, startAfterSlot: after?.slot };
    const pages = await meta.listPages(b, { prefix: opts.prefix, ...from, limit: opts.batch, fields: opts.fields });
    const { versions, complete, bound } = mergePages(pages, opts.batch);
    for (const v of versions) {
      if (skipTo !== undefined && compareKeys(v.key, skipTo) <= 0) continue;
      if (group.length > 0 && group[0]!.key !== v.key) {
        const jump = yield group;
        group = [];
        if (jump !== undefined) {
          skipTo = jump;
          if (compareKeys(v.key, jump) <= 0) continue;
        }
      }
      group.push(v);
    }
    if (complete) {
      if (group.length) yield group;
      return;
    }
    after = { key: bound!.key, slot: bound!.slot };
    // A skip past the bound starts the next page there (the open group is of a key before it: done).
    if (skipTo !== undefined && compareKeys(skipTo, bound!.key) > 0) {
      if (group.length) {
        yield group;
        group = [];
      }
      after = { key: skipTo };
    }
  }
}

/** ListObjects: the current live version of each key, rolled up by delimiter, a page of maxKeys. */
export async function listCurrent(meta: BucketMetadata, b: BucketSettings, opts: ListOptions): Promise<ListResult> {
  const prefix = opts.prefix ?? '';
  const result: ListResult = { objects: [], commonPrefixes: [], isTruncated: false };
  if (opts.maxKeys <= 0) return result;
  const batch = Math.min(1000, Math.max(100, opts.maxKeys + 1));
  let cursor = opts.startAfter;
  // A startAfter that is itself a rolled-up prefix ("photos/") was returned already: skip inside it.
  const startPrefix = cursor?.startsWith(prefix) ? commonPrefixOf(cursor, prefix, opts.delimiter) : undefined;
  if (startPrefix !== undefined && startPrefix === cursor) cursor = pastPrefix(startPrefix);
  let lastPrefix: string | undefined;
  let lastReturned: string | undefined;
  const groups = keyGroups(meta, b, { prefix, startAfter: cursor, batch, fields: 'listing' });
  let jump: string | undefined;
  try {
    for (let g = await groups.next(); !g.done; g = await groups.next(jump)) {
      jump = undefined;
      const v = currentOf(g.value);
      if (!v || v.deleted) continue;
      const p = commonPrefixOf(v.key, prefix, opts.delimiter);
      if (p !== undefined && (p === lastPrefix || (opts.startAfter !== undefined && compareKeys(p, opts.startAfter) <= 0))) {
        jump = pastPrefix(p);
        continue;
      }
      if (result.objects.length + result.commonPrefixes.length >= opts.maxKeys) {
        result.isTruncated = true;
        result.nextStartAfter = lastReturned;
        return result;
      }
      // Skip the rest of a rolled-up prefix instead of reading all its keys.
      if (p !== undefined) {
        result.commonPrefixes.push(p);
        lastPrefix = p;
        lastReturned = p;
        jump = pastPrefix(p);
      } else {
        result.objects.push(v);
        lastReturned = v.key;
      }
    }
    return result;
  } finally {
    await groups.return(undefined);
  }
}

/**
 * Every version (delete markers included, removed slots left out) of the keys from `from` (inclusive)
 * or after `after`, newest first within a key, whole keys until at least `limit` versions.
 */
export async function versionBatch(
  meta: BucketMetadata,
  b: BucketSettings,
  opts: { prefix?: string; from?: string; after?: string; limit: number },
): Promise<VersionBatch> {
  const out: VersionBatch = { versions: [] };
  const groups = keyGroups(meta, b, {
    prefix: opts.prefix,
    startAfter: opts.after,
    startAt: opts.after === undefined ? opts.from : undefined,
    batch: Math.min(1000, Math.max(100, opts.limit + 1)),
    fields: 'listing',
  });
  try {
    for await (const group of groups) {
      out.versions.push(...versionsNewestFirst(group));
      if (out.versions.length >= opts.limit) {
        out.next = group[0]!.key;
        return out;
      }
    }
    return out;
  } finally {
    await groups.return(undefined);
  }
}
