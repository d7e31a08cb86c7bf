// GET/HEAD with `partNumber`: one part of a multipart object, as the byte range it was uploaded as.
// Pure. A simple object is its own single part 1. Errors as the conformance suite expects of S3:
// a part past the last is InvalidPart (400); partNumber with a Range is InvalidRequest.
import type { ObjectVersion } from '../data/types.ts';
import { s3Error } from '../util/errors.ts';

/** The `partNumber` parameter: an integer from 1 to 10000, or undefined when absent. */
export function partNumberParam(params: Map<string, string>): number | undefined {
  const text = params.get('partNumber');
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 10000) throw s3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
  return n;
}

/** The inclusive byte range of part `n` of `v` (undefined: an empty object's only part, served whole). */
export function partRange(v: Pick<ObjectVersion, 'parts' | 'size'>, n: number): { start: number; end: number } | undefined {
  const parts = v.parts ?? [{ number: 1, size: v.size, etag: '' }];
  if (n > parts.length) throw s3Error('InvalidPart', 'The requested partnumber is not satisfiable');
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += parts[i]!.size;
  const size = parts[n - 1]!.size;
  return size === 0 ? undefined : { start, end: start + size - 1 };
}

/** partNumber and Range name the bytes two ways: S3 refuses both at once. */
export function refuseRangeWithPart(range: string | string[] | undefined): void {
  if (range !== undefined) throw s3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
}
