// XML building/parsing and the request documents built on it (Complete, Delete).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../util/errors.ts';
import { parseDeleteRequest } from './bucket.ts';
import { parseCompleteParts } from './multipart.ts';
import { buildXml, parseXml } from './xml.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return e.code;
    throw e;
  }
  return 'no error';
}

test('buildXml escapes text, repeats arrays, omits undefined and adds the S3 namespace', () => {
  const xml = buildXml('ListBucketResult', { Name: 'b', Prefix: 'a<&>"', Skip: undefined, Contents: [{ Key: 'x' }, { Key: 'y' }], IsTruncated: false });
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
  assert.match(xml, '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">');
  assert.match(xml, '<Prefix>a&lt;&amp;&gt;&quot;</Prefix>');
  assert.match(xml, '<Contents><Key>x</Key></Contents><Contents><Key>y</Key></Contents>');
  assert.not.match(xml, 'Skip');
  assert.match(xml, '<IsTruncated>false</IsTruncated>');
  assert.equal(parseXml(xml, 'ListBucketResult').Prefix, 'a<&>"');
});

test('buildXml never sends control characters raw: character references, CR included (a parser would make it LF)', () => {
  const xml = buildXml('ListBucketResult', { Key: 'a\x01b\rc\nd\te' });
  assert.match(xml, '<Key>a&#x1;b&#xD;c\nd\te</Key>');
  assert.not.match(xml, /[\x00-\x08\x0B-\x1F]/);
});

test('CompleteMultipartUpload: parts parsed with quotes stripped; bad documents are MalformedXML', () => {
  const doc =
    '<?xml version="1.0"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n' +
    '  <Part><ETag>"aa"</ETag><PartNumber>1</PartNumber></Part>\n  <Part><PartNumber>3</PartNumber><ETag>bb</ETag></Part>\n</CompleteMultipartUpload>';
  assert.equal(parseCompleteParts(doc), [
    { number: 1, etag: 'aa' },
    { number: 3, etag: 'bb' },
  ]);
  assert.is(
    code(() => parseCompleteParts('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>')),
    'MalformedXML',
  );
  assert.is(
    code(() => parseCompleteParts('not xml at all')),
    'MalformedXML',
  );
  assert.is(
    code(() => parseCompleteParts('')),
    'MalformedXML',
  );
  assert.is(
    code(() => parseCompleteParts('<Other/>')),
    'MalformedXML',
  );
  assert.is(
    code(() => parseCompleteParts('<CompleteMultipartUpload></CompleteMultipartUpload>')),
    'MalformedXML',
  );
  assert.is(
    code(() => parseCompleteParts('<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>')),
    'MalformedXML',
  );
  assert.is(
    code(() =>
      parseCompleteParts(
        '<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>',
      ),
    ),
    'InvalidPartOrder',
  );
});

test('Delete: keys kept verbatim (spaces, digits, entities), quiet flag, limits', () => {
  const doc = '<Delete><Quiet>true</Quiet><Object><Key> a&amp;b </Key></Object><Object><Key>0001</Key></Object><Object><Key>../x</Key></Object></Delete>';
  const parsed = parseDeleteRequest(doc);
  assert.equal([parsed.quiet, parsed.keys], [true, [' a&b ', '0001', '../x']]);
  assert.equal(parseDeleteRequest('<Delete><Object><Key>k</Key></Object></Delete>').quiet, false);
  assert.is(
    code(() => parseDeleteRequest('<Delete></Delete>')),
    'MalformedXML',
  );
  assert.is(
    code(() => parseDeleteRequest('<Delete><Object><VersionId>1</VersionId></Object></Delete>')),
    'MalformedXML',
  );
  const many = '<Delete>' + '<Object><Key>k</Key></Object>'.repeat(1001) + '</Delete>';
  assert.is(
    code(() => parseDeleteRequest(many)),
    'MalformedXML',
  );
});

test('a DOCTYPE is refused before parsing: no entity ever expands or reaches out', () => {
  const internal = '<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY v "victim">]><Delete><Object><Key>&v;</Key></Object></Delete>';
  assert.is(
    code(() => parseDeleteRequest(internal)),
    'MalformedXML',
  );
  const external = '<!DOCTYPE Delete [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>';
  assert.is(
    code(() => parseDeleteRequest(external)),
    'MalformedXML',
  );
  const parameter = '<!DOCTYPE Delete [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]><Delete><Object><Key>k</Key></Object></Delete>';
  assert.is(
    code(() => parseDeleteRequest(parameter)),
    'MalformedXML',
  );
  assert.is(
    code(() =>
      parseCompleteParts(
        '<!doctype CompleteMultipartUpload><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>',
      ),
    ),
    'MalformedXML',
  );
});

test.run();
