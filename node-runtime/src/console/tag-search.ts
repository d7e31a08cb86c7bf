// Search by tag: the keys under a prefix whose object tags hold `key=value` (or `key` with any
// value). S3 has no query by tag and the console has no power of its own, so this is what the user
// could do with any S3 tool, bounded: list one page of keys under the prefix (ListObjectsV2, as the
// user), read each key's tags (GetObjectTagging, as the user, a few at a time), keep the matches,
// and hand back S3's continuation token. Every call costs at most one page of keys, so a bucket of
// 100,000 keys is searched in steps the app shows, never in one request that hangs. An index would
// be cheaper to query but would have to be kept beside every replica's metadata and filtered by the
// caller's permissions key by key; that is a storage feature, not a console one.
import type { TagQuery, TagSearchPage, TaggedEntry } from './api.ts';
import { TAG_SEARCH_MAX_SCAN } from './api.ts';
import { badRequest, type ConsoleError } from './errors.ts';
import { validateTag } from '../s3/semantics/tagging.ts';

/** Tag reads in flight per search page: enough to hide the round trips, few enough to stay polite. */
export const TAG_READS_IN_FLIGHT = 16;

/**
 * `key=value` or `key` (any value) from what the user typed. The text is split at the first `=`,
 * since a value may hold `=` itself; the outer blanks are trimmed, inner ones kept (S3 tags may
 * hold spaces). Tags that S3 could never store are refused with S3's own reason.
 */
export function parseTagQuery(text: string | null | undefined): TagQuery {
  const t = (text ?? '').trim();
  if (!t) throw badRequest('Enter a tag to search for: key=value, or key alone for any value.');
  const eq = t.indexOf('=');
  const q: TagQuery = eq < 0 ? { key: t } : { key: t.slice(0, eq), value: t.slice(eq + 1) };
  if (!q.key) throw badRequest(`"${t}" has no tag key before "=": write key=value, or key alone.`);
  try {
    validateTag({ key: q.key, value: q.value ?? '' });
  } catch (e) {
    throw badRequest(`"${t}" is not a tag S3 could store: ${(e as Error).message}.`);
  }
  return q;
}

export function carriesTag(tags: readonly { key: string; value: string }[], q: TagQuery): boolean {
  return tags.some((t) => t.key === q.key && (q.value === undefined || t.value === q.value));
}

/** The S3 calls one search page needs, made as the signed-in user (UserFiles). */
export interface TagSource {
  /** One ListObjectsV2 page without a delimiter: every key under the prefix. */
  list(prefix: string, token: string | undefined, max: number): Promise<{ entries: Omit<TaggedEntry, 'tags'>[]; nextToken?: string }>;
  /** A key's tags; a ConsoleError with S3's code when S3 refuses. */
  tagsOf(key: string): Promise<{ key: string; value: string }[]>;
}

/** One page of a tag search: up to `max` keys listed and their tags read. */
export async function searchByTag(source: TagSource, prefix: string, q: TagQuery, token: string | undefined, max: number): Promise<TagSearchPage> {
  if (!Number.isInteger(max) || max < 1 || max > TAG_SEARCH_MAX_SCAN) throw badRequest(`max is 1-${TAG_SEARCH_MAX_SCAN}.`);
  const listed = await source.list(prefix, token, max);
  // The folder we search in is not a result of its own search.
  const candidates = listed.entries.filter((e) => e.key !== prefix || !prefix.endsWith('/'));
  const found: (TaggedEntry | undefined)[] = new Array(candidates.length);
  let unreadable = 0;
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      let tags: { key: string; value: string }[];
      try {
        tags = await source.tagsOf(candidates[i].key);
      } catch (e) {
        const code = (e as ConsoleError).code;
        // Deleted since the listing: it carries nothing now.
        if (code === 'NoSuchKey' || code === 'NotFound') continue;
        // Listing may be allowed where reading tags is not: say how many were left out, and go on.
        if (code === 'AccessDenied') {
          unreadable++;
          continue;
        }
        throw e;
      }
      if (carriesTag(tags, q)) found[i] = { ...candidates[i], tags };
    }
  };
  await Promise.all(Array.from({ length: Math.min(TAG_READS_IN_FLIGHT, candidates.length) }, worker));
  return {
    prefix,
    tag: q,
    entries: found.filter((e): e is TaggedEntry => e !== undefined),
    scanned: candidates.length,
    unreadable,
    nextToken: listed.nextToken,
  };
}
