// What every XML body Cairn reads must not contain: a document type declaration. DTDs bring
// entities (internal ones expand into the document — `<!ENTITY v "victim">` once made a
// DeleteObjects delete the key "victim" — and external or parameter ones reach for files and
// URLs). No S3 request needs one, so any DOCTYPE is refused before a parser sees the body.
export function hasDoctype(text: string): boolean {
  return /<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text);
}
