// The streaming multipart/form-data reader: fields, the file as a stream, delimiters split across
// reads at every position, file bytes that look like delimiters, and the bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { boundaryOf, readFormUntilFile } from './form-data.ts';

const B = '----cairnBoundary7MA4YWxkTrZu0gW';

function form(parts: { name: string; filename?: string; type?: string; value: Buffer | string }[], boundary = B): Buffer {
  const out: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    out.push(Buffer.from(p.value));
    out.push(Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

/** The body as reads of `size` bytes (1: every delimiter split at every position). */
async function* reads(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

async function readAll(body: Buffer, size: number) {
  const got = await readFormUntilFile(reads(body, size), B);
  let file: Buffer | undefined;
  if (got.file) {
    const pieces: Buffer[] = [];
    for await (const p of got.file.body) pieces.push(p as Buffer);
    file = Buffer.concat(pieces);
  }
  const drained = await got.drain();
  return { fields: Object.fromEntries(got.fields), filename: got.file?.filename, type: got.file?.contentType, file, drained };
}

test('boundary from the Content-Type; anything but multipart/form-data is refused', () => {
  assert.is(boundaryOf(`multipart/form-data; boundary=${B}`), B);
  assert.is(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b"'), 'a b');
  assert.throws(
    () => boundaryOf('application/x-www-form-urlencoded'),
    (e: Error & { code?: string }) => e.code === 'PreconditionFailed',
  );
  assert.throws(
    () => boundaryOf('multipart/form-data; charset=utf-8'),
    (e: Error & { code?: string }) => e.code === 'MalformedPOSTRequest',
  );
});

test('fields in order, the file as a stream, whatever the read sizes; what follows the file is drained', async () => {
  const data = Buffer.concat([randomBytes(20_000), Buffer.from(`\r\n--${B.slice(0, 10)}`), Buffer.from(`\r\n--${B}x`.slice(0, -2)), randomBytes(1000)]);
  const body = form([
    { name: 'key', value: 'photos/${filename}' },
    { name: 'Content-Type', value: 'image/png' },
    { name: 'x-amz-meta-note', value: 'naïve ✓' },
    { name: 'empty', value: '' },
    { name: 'file', filename: 'cat.png', type: 'image/png', value: data },
    { name: 'after', value: 'ignored' },
  ]);
  for (const size of [1, 7, 64, 4096, body.length]) {
    const got = await readAll(body, size);
    assert.equal(got.fields, { key: 'photos/${filename}', 'Content-Type': 'image/png', 'x-amz-meta-note': 'naïve ✓', empty: '' }, `read size ${size}`);
    assert.is(got.filename, 'cat.png');
    assert.is(got.type, 'image/png');
    assert.ok(got.file!.equals(data), `file bytes at read size ${size}`);
    assert.is(got.drained, true);
  }
});

test('a form without a file gives its fields; the file field name is case-insensitive', async () => {
  const noFile = await readAll(form([{ name: 'key', value: 'k' }]), 3);
  assert.equal([noFile.fields, noFile.file], [{ key: 'k' }, undefined]);
  const upper = await readAll(form([{ name: 'FILE', value: 'bytes' }]), 5);
  assert.is(upper.file!.toString(), 'bytes');
  const empty = await readAll(form([{ name: 'file', value: '' }]), 2);
  assert.is(empty.file!.length, 0);
});

test('malformed and oversized forms are MalformedPOSTRequest; the file must end with a delimiter', async () => {
  const code = async (body: Buffer, opts = {}) => {
    try {
      const got = await readFormUntilFile(reads(body, 11), B, opts);
      if (got.file)
        for await (const _ of got.file.body) {
          /* read */
        }
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code;
    }
  };
  const good = form([
    { name: 'key', value: 'k' },
    { name: 'file', value: 'abc' },
  ]);
  assert.is(await code(good), 'ok');
  assert.is(await code(good.subarray(0, good.indexOf('abc') + 2)), 'MalformedPOSTRequest', 'cut inside the file');
  assert.is(await code(Buffer.from('no delimiter at all')), 'MalformedPOSTRequest');
  assert.is(await code(form([{ name: 'policy', value: 'x'.repeat(2000) }]), { maxFieldBytes: 1000 }), 'MalformedPOSTRequest', 'fields are bounded');
  assert.is(await code(Buffer.from(`--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${B}--`)), 'MalformedPOSTRequest', 'no Content-Disposition');
  assert.is(
    await code(
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n2\r\n--${B}--`),
    ),
    'InvalidArgument',
    'a repeated field',
  );
});

test.run();
