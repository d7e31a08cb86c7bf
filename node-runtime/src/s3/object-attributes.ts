// GetObjectAttributes: what a HEAD says and more, as XML — the ETag, the stored checksum, the parts
// of a multipart object (paged by x-amz-max-parts and x-amz-part-number-marker, each with its size
// and checksum), the storage class and the size — each only when asked for in x-amz-object-attributes.
import type { ObjectVersion } from '../data/types.ts';
import { s3Error } from '../util/errors.ts';
import { authorizedRead } from './object-access.ts';
import { checksumElement, checksumXml } from './object-checksums.ts';
import { requireCustomerKey } from './object.ts';
import { sendXml } from './respond.ts';
import { target, type Handler } from './types.ts';
import { versionHeaders, versionIdOf } from './versions.ts';
import type { XmlObject } from './xml.ts';

export const OBJECT_ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof OBJECT_ATTRIBUTES)[number];

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

/** x-amz-object-attributes: a comma list of the names above (at least one; case as S3 spells them). */
export function requestedAttributes(value: string | string[] | undefined): Set<Attribute> {
  const names = (one(value) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw s3Error('InvalidArgument', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty', {
      extra: { ArgumentName: 'x-amz-object-attributes' },
    });
  for (const n of names) {
    if (!(OBJECT_ATTRIBUTES as readonly string[]).includes(n))
      throw s3Error('InvalidArgument', `Invalid attribute name specified: ${n}`, { extra: { ArgumentName: 'x-amz-object-attributes', ArgumentValue: n } });
  }
  return new Set(names as Attribute[]);
}

function boundedInt(value: string | string[] | undefined, name: string, dflt: number, max: number): number {
  const v = one(value);
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v.trim()))
    throw s3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { extra: { ArgumentName: name, ArgumentValue: v } });
  return Math.min(Number(v), max);
}

/** The answer's document for `v` (pure: the paging arguments as the headers gave them). */
export function objectAttributesXml(v: ObjectVersion, wanted: Set<Attribute>, paging: { maxParts: number; marker: number }): XmlObject {
  const out: XmlObject = {};
  if (wanted.has('ETag')) out.ETag = v.etag;
  if (wanted.has('Checksum') && v.checksum) out.Checksum = checksumXml(v.checksum);
  if (wanted.has('ObjectParts') && v.parts) {
    const after = v.parts.filter((p) => p.number > paging.marker);
    const page = after.slice(0, paging.maxParts);
    const algorithm = v.checksum?.algorithm;
    out.ObjectParts = {
      PartsCount: v.parts.length, // S3 names it so in the XML (the SDKs call it TotalPartsCount)
      PartNumberMarker: paging.marker,
      NextPartNumberMarker: page.length ? page[page.length - 1].number : paging.marker,
      MaxParts: paging.maxParts,
      IsTruncated: after.length > page.length,
      Part: page.map((p) => ({ PartNumber: p.number, Size: p.size, ...(p.checksum && algorithm ? { [checksumElement(algorithm)]: p.checksum } : {}) })),
    };
  }
  if (wanted.has('StorageClass')) out.StorageClass = 'STANDARD';
  if (wanted.has('ObjectSize')) out.ObjectSize = v.size;
  return out;
}

export const getObjectAttributes: Handler = async (req, res, ctx) => {
  const { bucket, key } = target(ctx);
  const wanted = requestedAttributes(req.headers['x-amz-object-attributes']);
  const paging = {
    maxParts: boundedInt(req.headers['x-amz-max-parts'], 'x-amz-max-parts', 1000, 1000),
    marker: boundedInt(req.headers['x-amz-part-number-marker'], 'x-amz-part-number-marker', 0, 10_000),
  };
  // A version by id (?versionId=), as HEAD reads it; the answer names the version it describes.
  const versionId = versionIdOf(ctx);
  const v = await authorizedRead(
    ctx,
    'GetObjectAttributes',
    { bucket, key },
    () => ctx.deps.objects.headObject(bucket, key, { versionId }),
    (x) => x,
  );
  requireCustomerKey(ctx, v, req.headers);
  res.set('Last-Modified', new Date(v.timestamp).toUTCString());
  for (const [k, value] of Object.entries(versionHeaders(ctx.deps.bucket(bucket), v))) res.set(k, value);
  sendXml(res, 200, 'GetObjectAttributesResponse', objectAttributesXml(v, wanted, paging));
};
