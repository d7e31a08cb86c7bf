// multipart/form-data (RFC 7578) read as a stream, for browser form uploads (POST Object). The
// fields before the file are collected, bounded in size; the file part is handed on as a stream of
// its bytes as they arrive, with back pressure, holding at most one socket read plus a delimiter.
// Fields after the file are not read: S3 ignores them (the file must be the form's last field).
//
// Written here rather than taken from a library: the only parser in node_modules (busboy 0.3 with
// dicer 0.3, pulled in by a test tool) is years old and dicer 0.3 has a known crash on malformed
// headers (CVE-2022-24434), and this needs one narrow thing, done with bounded memory.
import { Readable } from 'node:stream';
import { S3Error } from '../util/errors.ts';

export interface FormFile {
  filename?: string;
  contentType?: string;
  body: Readable;
}

export interface FormUntilFile {
  fields: Map<string, string>; // names as sent (case kept), values as UTF-8 text
  file?: FormFile; // absent when the form has no field named `file`
  /** Read and drop what follows the file (the closing delimiter, ignored fields), up to `limit` bytes; false if more was left. */
  drain(limit?: number): Promise<boolean>;
}

export const MAX_FORM_FIELD_BYTES = 64 * 1024; // all fields but the file together
const MAX_HEADER_LINE = 8 * 1024;
const MAX_PART_HEADERS = 16;

export const malformedPost = (why: string) =>
  new S3Error('MalformedPOSTRequest', 400, `The body of your POST request is not well-formed multipart/form-data: ${why}`);

/** The boundary of a `multipart/form-data; boundary=...` Content-Type. */
export function boundaryOf(contentType: string | undefined): string {
  const m = /^\s*multipart\/form-data\s*;(.*)$/i.exec(contentType ?? '');
  if (!m)
    throw new S3Error('PreconditionFailed', 412, 'Bucket POST must be of the enclosure-type multipart/form-data', {
      extra: { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' },
    });
  const b = /(?:^|;)\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(m[1]);
  if (!b) throw malformedPost('no boundary');
  return b[1] ?? b[2];
}

/** Bytes read from the request, with the search and take operations the parser needs. */
class Input {
  // A CRLF in front makes the first delimiter look like every other one (RFC 2046 allows it without).
  buf: Buffer = Buffer.from('\r\n');
  private done = false;
  private readonly source: AsyncIterator<Buffer>;

  constructor(source: AsyncIterator<Buffer>) {
    this.source = source;
  }

  async more(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.source.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }

  take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** The bytes before `needle` (the needle is consumed too); holds at most `limit` bytes while looking. */
  async until(needle: Buffer, limit: number, what: string): Promise<Buffer> {
    for (let from = 0; ; ) {
      const at = this.buf.indexOf(needle, from);
      if (at >= 0) {
        if (at > limit) throw malformedPost(`${what} is too long`);
        const out = this.take(at);
        this.take(needle.length);
        return out;
      }
      if (this.buf.length > limit + needle.length) throw malformedPost(`${what} is too long`);
      from = Math.max(0, this.buf.length - needle.length + 1);
      if (!(await this.more())) throw malformedPost(`the body ended inside ${what}`);
    }
  }
}

interface PartHead {
  name: string;
  filename?: string;
  contentType?: string;
}

/** Content-Disposition parameters (quoted or bare; a backslash escapes inside quotes). */
function dispositionOf(value: string): PartHead {
  if (!/^\s*form-data\s*(;|$)/i.test(value)) throw malformedPost('a part is not form-data');
  const params = new Map<string, string>();
  for (const m of value.matchAll(/;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    params.set(m[1].toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim());
  }
  const name = params.get('name');
  if (name === undefined) throw malformedPost('a part has no name');
  return { name, filename: params.get('filename') };
}

async function readHead(input: Input): Promise<PartHead> {
  let head: PartHead | undefined;
  let contentType: string | undefined;
  for (let n = 0; ; n++) {
    if (n > MAX_PART_HEADERS) throw malformedPost('a part has too many headers');
    const line = (await input.until(Buffer.from('\r\n'), MAX_HEADER_LINE, 'a part header')).toString('utf8');
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformedPost('a part header has no name');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') head = dispositionOf(value);
    else if (name === 'content-type') contentType = value;
  }
  if (!head) throw malformedPost('a part has no Content-Disposition');
  return { ...head, ...(contentType !== undefined ? { contentType } : {}) };
}

/** After a delimiter: `--` ends the form, CRLF starts a part (transport padding allowed before it). */
async function nextPartFollows(input: Input): Promise<boolean> {
  const rest = (
    await input.until(Buffer.from('\r\n'), 256, 'a delimiter line').catch((e) => {
      if (input.buf.subarray(0, 2).toString() === '--') return Buffer.from('--'); // the final delimiter without its CRLF
      throw e;
    })
  ).toString('latin1');
  if (rest.startsWith('--')) return false;
  if (rest.trim() !== '') throw malformedPost('bad delimiter');
  return true;
}

/** The file's bytes up to the next delimiter, as they arrive; the delimiter's length is held back. */
async function* fileBytes(input: Input, delimiter: Buffer): AsyncGenerator<Buffer> {
  for (;;) {
    const at = input.buf.indexOf(delimiter);
    if (at >= 0) {
      if (at > 0) yield input.take(at);
      input.take(delimiter.length);
      return;
    }
    const safe = input.buf.length - (delimiter.length - 1);
    if (safe > 0) yield input.take(safe);
    if (!(await input.more())) throw malformedPost('the body ended inside the file');
  }
}

/**
 * Read a form up to its `file` field (the name compared case-insensitively). The file's body must
 * be read to its end before `drain`; fields are UTF-8 text.
 */
export async function readFormUntilFile(source: AsyncIterator<Buffer>, boundary: string, opts: { maxFieldBytes?: number } = {}): Promise<FormUntilFile> {
  const input = new Input(source);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const maxFieldBytes = opts.maxFieldBytes ?? MAX_FORM_FIELD_BYTES;
  const fields = new Map<string, string>();
  const drain = async (limit = 1024 * 1024) => {
    let seen = input.buf.length;
    input.take(input.buf.length);
    while (seen <= limit && (await input.more())) {
      seen += input.buf.length;
      input.take(input.buf.length);
    }
    return seen <= limit;
  };
  await input.until(delimiter, 64 * 1024, 'the preamble');
  let fieldBytes = 0;
  while (await nextPartFollows(input)) {
    const head = await readHead(input);
    if (head.name.toLowerCase() === 'file') {
      return {
        fields,
        file: { filename: head.filename, contentType: head.contentType, body: Readable.from(fileBytes(input, delimiter), { objectMode: false }) },
        drain,
      };
    }
    const value = await input.until(delimiter, maxFieldBytes - fieldBytes, 'the form fields');
    fieldBytes += value.length;
    if (fields.has(head.name)) throw new S3Error('InvalidArgument', 400, `The form field ${head.name} appears more than once.`);
    fields.set(head.name, value.toString('utf8'));
  }
  return { fields, drain };
}
