// Object and bucket tags: the Tagging document and the x-amz-tagging header, validated with S3's limits, and the Tagging answer.
//
// Lengths count UTF-16 code units, as S3 documents ("object tags are internally represented in
// UTF-16"), which is what String.length measures. Tags are answered in key order (UTF-8 byte
// order, as S3 and RGW list them): s3-tests' test_put_obj_with_tags sends `foo=bar&bar` and
// expects bar first.
import { S3Error, s3Error } from '../../util/errors.ts';
import { buildXml } from '../xml.ts';
import { children, onlyChildren, parseDocument, textOf } from './document.ts';

export interface Tag {
  key: string;
  value: string;
}

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;

// AWS's tag character set: letters, numbers, separators (spaces), and _ . : / = + - @.
const ALLOWED = /^[\p{L}\p{Z}\p{N}\p{M}_.:/=+\-@]*$/u;

const invalidTag = (message: string) => new S3Error('InvalidTag', 400, message);
const headerInvalid = () =>
  new S3Error('InvalidArgument', 400, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.");

/** One tag's own rules; shared with lifecycle filters, whose tags obey the same limits. */
export function validateTag(tag: Tag): void {
  if (tag.key === '') throw invalidTag('The TagKey you have provided is invalid');
  if (tag.key.length > MAX_TAG_KEY) throw invalidTag(`The TagKey you have provided is too long, max ${MAX_TAG_KEY}`);
  if (tag.value.length > MAX_TAG_VALUE) throw invalidTag(`The TagValue you have provided is too long, max ${MAX_TAG_VALUE}`);
  if (!ALLOWED.test(tag.key)) throw invalidTag('The TagKey you have provided is invalid');
  if (!ALLOWED.test(tag.value)) throw invalidTag('The TagValue you have provided is invalid');
  if (tag.key.toLowerCase().startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:');
}

function validateSet(tags: Tag[], scope: 'object' | 'bucket'): Tag[] {
  const max = scope === 'object' ? MAX_OBJECT_TAGS : MAX_BUCKET_TAGS;
  if (tags.length > max) throw invalidTag(`${scope === 'object' ? 'Object' : 'Bucket'} tags cannot be greater than ${max}`);
  const seen = new Set<string>();
  for (const tag of tags) {
    validateTag(tag);
    if (seen.has(tag.key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(tag.key);
  }
  return tags;
}

/**
 * A PutObjectTagging / PutBucketTagging body, or the `tagging` field of a POST upload:
 * `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`. An empty TagSet is valid
 * (it clears the tags). InvalidTag for limits, duplicates and reserved keys; MalformedXML for shape.
 */
export function parseTaggingXml(body: string, scope: 'object' | 'bucket'): Tag[] {
  const root = parseDocument(body, 'Tagging', ['Tag']);
  onlyChildren(root, ['TagSet']);
  const set = children(root, 'TagSet');
  if (set.length !== 1) throw s3Error('MalformedXML');
  onlyChildren(set[0], ['Tag']);
  const tags = children(set[0], 'Tag').map((t) => {
    onlyChildren(t, ['Key', 'Value']);
    const key = textOf(t, 'Key');
    const value = textOf(t, 'Value');
    if (key === undefined || value === undefined) throw s3Error('MalformedXML');
    return { key, value };
  });
  return validateSet(tags, scope);
}

/**
 * The x-amz-tagging header of PutObject, CreateMultipartUpload and CopyObject (REPLACE):
 * URL-encoded `k1=v1&k2` (a key without `=` has the empty value; `+` is a space, as in forms).
 * Bad encoding, an empty key or a repeated key is InvalidArgument, as S3 answers for this header;
 * more than 10 tags is BadRequest with S3's message.
 */
export function parseTaggingHeader(header: string): Tag[] {
  const tags: Tag[] = [];
  const seen = new Set<string>();
  for (const pair of header.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let key: string, value: string;
    try {
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      key = decode(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    } catch {
      throw headerInvalid();
    }
    if (key === '' || seen.has(key)) throw headerInvalid();
    seen.add(key);
    tags.push({ key, value });
  }
  if (tags.length > MAX_OBJECT_TAGS) throw new S3Error('BadRequest', 400, `Object tags cannot be greater than ${MAX_OBJECT_TAGS}`);
  for (const tag of tags) validateTag(tag);
  return tags;
}

/** x-amz-tagging-directive of CopyObject: COPY (the default) keeps the source's tags. */
export function parseTaggingDirective(header: string | undefined): 'COPY' | 'REPLACE' {
  if (header === undefined || header === 'COPY') return 'COPY';
  if (header === 'REPLACE') return 'REPLACE';
  throw new S3Error('InvalidArgument', 400, 'Unknown tagging directive.', { extra: { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: header } });
}

const byKey = (a: Tag, b: Tag) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

/** The GetObjectTagging / GetBucketTagging answer, tags in key order. */
export function renderTagging(tags: readonly Tag[]): string {
  const sorted = [...tags].sort(byKey);
  return buildXml('Tagging', { TagSet: { Tag: sorted.map((t) => ({ Key: t.key, Value: t.value })) } });
}

/** Tags as the header form, for x-amz-tagging on replication or for storing compactly. */
export function formatTaggingHeader(tags: readonly Tag[]): string {
  return [...tags]
    .sort(byKey)
    .map((t) => `${encodeURIComponent(t.key)}=${encodeURIComponent(t.value)}`)
    .join('&');
}
