// Request documents of the S3 semantics (Tagging, CORS, Lifecycle): parsed like s3/xml.ts, with each document's own repeated elements.
//
// s3/xml.ts's parser knows only the elements its own documents repeat; these documents repeat
// others (Tag, Rule, AllowedOrigin ...), and fast-xml-parser must be told which, or a single
// occurrence comes back as a value and two as an array. Values stay strings, untrimmed.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { s3Error } from '../../util/errors.ts';
import type { XmlObject, XmlValue } from '../xml.ts';

const parsers = new Map<string, XMLParser>();

function parserFor(repeated: readonly string[]): XMLParser {
  const id = repeated.join('\n');
  let p = parsers.get(id);
  if (!p) {
    const names = new Set(repeated);
    p = new XMLParser({
      ignoreAttributes: true,
      parseTagValue: false,
      trimValues: false,
      ignoreDeclaration: true,
      ignorePiTags: true,
      removeNSPrefix: true,
      isArray: (name) => names.has(name),
    });
    parsers.set(id, p);
  }
  return p;
}

/** The document element's content; MalformedXML for anything that is not a `<root>` document. */
export function parseDocument(body: string, root: string, repeated: readonly string[]): XmlObject {
  if (!body.trim() || XMLValidator.validate(body) !== true) throw s3Error('MalformedXML');
  let doc: XmlObject;
  try {
    doc = parserFor(repeated).parse(body) as XmlObject;
  } catch (e) {
    throw s3Error('MalformedXML', undefined, { cause: e });
  }
  const names = Object.keys(doc).filter((n) => n !== '#text');
  if (names.length !== 1 || names[0] !== root) throw s3Error('MalformedXML');
  return asElement(doc[root]);
}

/** An element's content as an object: an empty element is {}, text where children belong is malformed. */
function asElement(v: XmlValue): XmlObject {
  if (typeof v === 'string') {
    if (v.trim() !== '') throw s3Error('MalformedXML');
    return {};
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw s3Error('MalformedXML');
  if (typeof v['#text'] === 'string' && v['#text'].trim() !== '') throw s3Error('MalformedXML');
  return v;
}

function single(node: XmlObject, name: string): XmlValue | undefined {
  const v = node[name];
  if (Array.isArray(v)) {
    if (v.length !== 1) throw s3Error('MalformedXML');
    return v[0];
  }
  return v;
}

/** A child element that may appear once. */
export function child(node: XmlObject, name: string): XmlObject | undefined {
  const v = single(node, name);
  return v === undefined ? undefined : asElement(v);
}

/** A child element that may repeat (listed as repeated when parsing). */
export function children(node: XmlObject, name: string): XmlObject[] {
  const v = node[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(asElement);
}

/** The text of a child that may appear once; an element with children inside is malformed. */
export function textOf(node: XmlObject, name: string): string | undefined {
  const v = single(node, name);
  if (v === undefined || typeof v === 'string') return v;
  if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return '';
  throw s3Error('MalformedXML');
}

/** The texts of a child that may repeat. */
export function textsOf(node: XmlObject, name: string): string[] {
  const v = node[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((item) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'object' && item !== null && !Array.isArray(item) && Object.keys(item).length === 0) return '';
    throw s3Error('MalformedXML');
  });
}

/** S3 refuses elements its schema does not have: MalformedXML for any child not in `allowed`. */
export function onlyChildren(node: XmlObject, allowed: readonly string[]): void {
  for (const name of Object.keys(node)) {
    if (name !== '#text' && !allowed.includes(name)) throw s3Error('MalformedXML', `Unexpected element ${name}.`);
  }
}
