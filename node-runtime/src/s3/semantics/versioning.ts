// Version ids and the ListObjectVersions page: order, key and version-id markers, IsLatest, common prefixes — pure functions over a sorted version list.
//
// S3 lists keys in UTF-8 byte order and, within a key, versions newest first. "Newest" must be
// the metadata layer's own last-writer-wins order (meta/lww.ts: timestamp, then writer, then
// version id), or IsLatest here could disagree with what a GET serves; so the order is that
// comparator, reused. The null version (id `null`, written while versioning is off or
// suspended) takes its place by its timestamp like any other. Version ids Cairn issues sort
// newest first as strings too (an inverted microsecond time, then randomness), which lets a
// version-id marker whose version has since been deleted still say where the page resumes.
import { compareVersions } from '../../meta/lww.ts';
import { versionIdTime } from '../../meta/version-ids.ts';
import { s3Error } from '../../util/errors.ts';

export { newVersionId, versionIdTime } from '../../meta/version-ids.ts';

export const NULL_VERSION_ID = 'null';
export const MAX_VERSION_ID_BYTES = 1024;

/** A `versionId` / `version-id-marker` parameter: opaque, 1..1024 bytes, no control characters. */
export function parseVersionIdParam(value: string): string {
  if (value === '' || Buffer.byteLength(value) > MAX_VERSION_ID_BYTES || /[\u0000-\u001f\u007f]/.test(value)) {
    throw s3Error('InvalidArgument', 'Invalid version id specified', { extra: { ArgumentName: 'versionId', ArgumentValue: value } });
  }
  return value;
}

/** S3's key order: UTF-8 bytes (JavaScript's UTF-16 order differs above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** What listing needs of one version or delete marker. */
export interface ListedVersion {
  key: string;
  versionId: string;
  timestamp: number;
  writer: string;
}

/** List order: key ascending, then newest first. */
export function compareListOrder(a: ListedVersion, b: ListedVersion): number {
  return compareKeys(a.key, b.key) || -compareVersions(a, b);
}

export interface ListVersionsParams {
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys: number; // versions, delete markers and common prefixes together
}

export interface VersionsPage<T> {
  entries: (T & { isLatest: boolean })[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

/** Whether `v` comes after the version-id marker of its key (v is of the marker's key). */
function afterVersionMarker(v: ListedVersion, marker: string, markerSeen: boolean): boolean {
  if (markerSeen) return true;
  const t = versionIdTime(marker);
  if (t === undefined) return false; // unknown marker not met yet: still before it
  // the marker's version is gone: place it by the time in its id
  return v.timestamp < t || (v.timestamp === t && v.versionId < marker);
}

/**
 * One page of ListObjectVersions from `sorted` (compareListOrder order, every version of each
 * key it holds, starting at or before the key marker). InvalidArgument for a version-id marker
 * without a key marker.
 */
export function listVersionsPage<T extends ListedVersion>(sorted: Iterable<T>, params: ListVersionsParams): VersionsPage<T> {
  const { prefix = '', delimiter, keyMarker, versionIdMarker, maxKeys } = params;
  if (versionIdMarker !== undefined && versionIdMarker !== '' && !keyMarker) {
    throw s3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.');
  }
  const page: VersionsPage<T> = { entries: [], commonPrefixes: [], isTruncated: false };
  if (maxKeys <= 0) return page;
  // A key marker that is a common prefix resumes after everything rolled into it.
  const skipPrefix = delimiter && keyMarker?.startsWith(prefix) && keyMarker.endsWith(delimiter) ? keyMarker : undefined;
  let previousKey: string | undefined;
  let markerSeen = false;
  let lastPrefix: string | undefined;
  let count = 0;
  for (const v of sorted) {
    const isLatest = v.key !== previousKey;
    previousKey = v.key;
    if (!v.key.startsWith(prefix)) continue;
    if (keyMarker) {
      const order = compareKeys(v.key, keyMarker);
      if (order < 0) continue;
      if (order === 0) {
        if (!versionIdMarker) continue;
        const after = afterVersionMarker(v, versionIdMarker, markerSeen);
        if (v.versionId === versionIdMarker) markerSeen = true;
        if (!after) continue;
      }
      if (skipPrefix && v.key.startsWith(skipPrefix)) continue;
    }
    let common: string | undefined;
    if (delimiter) {
      const at = v.key.indexOf(delimiter, prefix.length);
      if (at >= 0) common = v.key.slice(0, at + delimiter.length);
    }
    if (common !== undefined && common === lastPrefix) continue; // already listed
    if (count === maxKeys) {
      page.isTruncated = true;
      break;
    }
    count++;
    if (common !== undefined) {
      lastPrefix = common;
      page.commonPrefixes.push(common);
      page.nextKeyMarker = common;
      page.nextVersionIdMarker = undefined;
    } else {
      page.entries.push({ ...v, isLatest });
      page.nextKeyMarker = v.key;
      page.nextVersionIdMarker = v.versionId;
    }
  }
  if (!page.isTruncated) {
    page.nextKeyMarker = undefined;
    page.nextVersionIdMarker = undefined;
  }
  return page;
}
