// S3 XML bodies, built and parsed with fast-xml-parser. Values are kept as strings when parsing
// (keys like "0001" or " a " must survive exactly), and invalid documents become MalformedXML.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { s3Error } from '../util/errors.ts';
import { hasDoctype } from '../util/xml-guard.ts';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

// Elements that may repeat in request bodies we accept; always arrays after parsing.
const repeated = new Set(['Object', 'Part']);
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  isArray: (name) => repeated.has(name),
});

export type XmlValue = string | number | boolean | undefined | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

/** `<?xml ...?><root xmlns="S3 ns">...</root>`; arrays repeat their element, undefined is omitted. */
export function buildXml(root: string, body: XmlObject, opts: { namespace?: boolean } = {}): string {
  const rootBody = opts.namespace === false ? body : { '@_xmlns': S3_NS, ...body };
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + escapeControls(builder.build({ [root]: rootBody }));
}

/**
 * Keys may hold characters XML 1.0 cannot carry (controls) or that a parser rewrites (CR becomes
 * LF): they go out as character references, as S3 sends them, never raw. Clients that want plain
 * text ask for encoding-type=url.
 */
const escapeControls = (xml: string) => xml.replace(/[\x00-\x08\x0B\x0C\x0D\x0E-\x1F]/g, (c) => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);

/** Parse a request body; returns the document element's content. */
export function parseXml(text: string, root: string): XmlObject {
  if (!text.trim() || hasDoctype(text) || XMLValidator.validate(text) !== true) throw s3Error('MalformedXML');
  const doc = parser.parse(text) as XmlObject;
  const top = doc[root];
  if (top === undefined) throw s3Error('MalformedXML');
  if (typeof top === 'string') return {}; // <Root></Root> or whitespace only
  if (typeof top !== 'object' || Array.isArray(top)) throw s3Error('MalformedXML');
  return top as XmlObject;
}

/** Text of a child element (strings only; a nested element is malformed here). */
export function text(node: XmlObject, name: string): string | undefined {
  const v = node[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return '';
  throw s3Error('MalformedXML');
}

/** Children that repeat (declared in `repeated`), each an element object. */
export function list(node: XmlObject, name: string): XmlObject[] {
  const v = node[name];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw s3Error('MalformedXML');
  return v.map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw s3Error('MalformedXML');
    return item as XmlObject;
  });
}
