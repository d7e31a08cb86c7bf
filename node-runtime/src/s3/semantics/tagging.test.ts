// Tagging documents and the x-amz-tagging header, with s3-tests' tagging cases (test_put_*_tags,
// test_put_obj_with_tags, test_set_multipart_tagging, test_post_object_tags_*) and S3's documented limits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../../util/errors.ts';
import { formatTaggingHeader, parseTaggingDirective, parseTaggingHeader, parseTaggingXml, renderTagging, type Tag } from './tagging.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'no error';
}

const doc = (tags: Tag[]) =>
  '<?xml version="1.0" encoding="UTF-8"?><Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>' +
  tags.map((t) => `<Tag><Key>${t.key}</Key><Value>${t.value}</Value></Tag>`).join('') +
  '</TagSet></Tagging>';
const simple = (n: number) => Array.from({ length: n }, (_, i) => ({ key: String(i), value: String(i) }));
const letters = (n: number) => 'abcdefghijklmnopqrstuvwxyz'.repeat(20).slice(0, n);

test('Tagging XML: tags kept verbatim; an empty TagSet clears; 10 per object, 50 per bucket (test_put_max_tags, test_put_excess_tags)', () => {
  assert.equal(parseTaggingXml(doc(simple(2)), 'object'), simple(2));
  assert.equal(parseTaggingXml(doc([{ key: ' a b ', value: '' }]), 'object'), [{ key: ' a b ', value: '' }]);
  assert.equal(parseTaggingXml('<Tagging><TagSet/></Tagging>', 'object'), []);
  assert.equal(parseTaggingXml(doc(simple(10)), 'object').length, 10);
  assert.is(
    code(() => parseTaggingXml(doc(simple(11)), 'object')),
    '400 InvalidTag',
  );
  assert.equal(parseTaggingXml(doc(simple(50)), 'bucket').length, 50);
  assert.is(
    code(() => parseTaggingXml(doc(simple(51)), 'bucket')),
    '400 InvalidTag',
  );
});

test('Tagging XML: key ≤ 128, value ≤ 256 UTF-16 units (test_put_max_kvsize_tags, test_put_excess_key_tags, test_put_excess_val_tags)', () => {
  const max = Array.from({ length: 10 }, (_, i) => ({ key: letters(127) + i, value: letters(256) }));
  assert.equal(parseTaggingXml(doc(max), 'object'), max);
  assert.is(
    code(() => parseTaggingXml(doc([{ key: letters(129), value: letters(256) }]), 'object')),
    '400 InvalidTag',
  );
  assert.is(
    code(() => parseTaggingXml(doc([{ key: letters(128), value: letters(257) }]), 'object')),
    '400 InvalidTag',
  );
  assert.is(
    code(() => parseTaggingXml(doc([{ key: 'é'.repeat(128), value: 'ü'.repeat(256) }]), 'object')),
    'no error',
  );
  // an astral character takes two UTF-16 units
  assert.is(
    code(() => parseTaggingXml(doc([{ key: '𝒜'.repeat(65), value: '' }]), 'object')),
    '400 InvalidTag',
  );
});

test("Tagging XML: empty or duplicate keys, aws: prefix and characters outside AWS's set are InvalidTag", () => {
  assert.is(
    code(() => parseTaggingXml(doc([{ key: '', value: 'v' }]), 'object')),
    '400 InvalidTag',
  );
  assert.is(
    code(() =>
      parseTaggingXml(
        doc([
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ]),
        'object',
      ),
    ),
    '400 InvalidTag',
  );
  assert.is(
    code(() => parseTaggingXml(doc([{ key: 'aws:createdBy', value: 'x' }]), 'bucket')),
    '400 InvalidTag',
  );
  assert.is(
    code(() => parseTaggingXml(doc([{ key: 'AWS:x', value: 'x' }]), 'object')),
    '400 InvalidTag',
  );
  assert.is(
    code(() => parseTaggingXml(doc([{ key: 'k', value: 'a,b' }]), 'object')),
    '400 InvalidTag',
  );
  assert.is(
    code(() => parseTaggingXml(doc([{ key: 'k(1)', value: 'x' }]), 'object')),
    '400 InvalidTag',
  );
  assert.is(
    code(() => parseTaggingXml(doc([{ key: '+- =._:/@', value: '+- =._:/@' }]), 'object')),
    'no error',
  );
});

test('Tagging XML: shape errors are MalformedXML', () => {
  assert.is(
    code(() => parseTaggingXml('', 'object')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseTaggingXml('<Tagging><TagSet><Tag><Key>a</Key>', 'object')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseTaggingXml('<Tagging></Tagging>', 'object')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseTaggingXml('<Other><TagSet/></Other>', 'object')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseTaggingXml('<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>', 'object')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseTaggingXml('<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key><Value/></Tag></TagSet></Tagging>', 'object')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseTaggingXml('<Tagging><TagSet><Tag><Key>a</Key><Value/><Colour/></Tag></TagSet></Tagging>', 'object')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseTaggingXml('<Tagging><TagSet/><TagSet/></Tagging>', 'object')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseTaggingXml('<Tagging><TagSet><Tag><Key><b>x</b></Key><Value/></Tag></TagSet></Tagging>', 'object')),
    '400 MalformedXML',
  );
});

test('x-amz-tagging: URL-encoded pairs, a bare key has the empty value (test_put_obj_with_tags, test_set_multipart_tagging)', () => {
  assert.equal(parseTaggingHeader('foo=bar&bar'), [
    { key: 'foo', value: 'bar' },
    { key: 'bar', value: '' },
  ]);
  assert.equal(parseTaggingHeader('Hello=World&foo=bar'), [
    { key: 'Hello', value: 'World' },
    { key: 'foo', value: 'bar' },
  ]);
  assert.equal(parseTaggingHeader('a%20b=c%2Fd&e+f=g%2Bh'), [
    { key: 'a b', value: 'c/d' },
    { key: 'e f', value: 'g+h' },
  ]);
  assert.equal(parseTaggingHeader(''), []);
  assert.equal(parseTaggingHeader('&&k=v&'), [{ key: 'k', value: 'v' }]);
  assert.equal(parseTaggingHeader('k='), [{ key: 'k', value: '' }]);
});

test('x-amz-tagging: duplicates, bad encoding and empty keys are InvalidArgument; >10 is BadRequest; bad tags InvalidTag', () => {
  assert.is(
    code(() => parseTaggingHeader('a=&a=')),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parseTaggingHeader('a=%zz')),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parseTaggingHeader('=v')),
    '400 InvalidArgument',
  );
  assert.is(
    code(() =>
      parseTaggingHeader(
        simple(11)
          .map((t) => `${t.key}=${t.value}`)
          .join('&'),
      ),
    ),
    '400 BadRequest',
  );
  assert.is(
    code(() => parseTaggingHeader(`k=${letters(257)}`)),
    '400 InvalidTag',
  );
  assert.is(
    code(() => parseTaggingHeader('aws%3Ax=1')),
    '400 InvalidTag',
  );
});

test('render: S3 namespace, tags in key order (byte order), escaped; empty TagSet still present', () => {
  const xml = renderTagging([
    { key: 'foo', value: 'bar' },
    { key: 'bar', value: '' },
    { key: 'Hello', value: 'a&b' },
  ]);
  assert.match(xml, '<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>');
  assert.match(xml, '<Tag><Key>Hello</Key><Value>a&amp;b</Value></Tag><Tag><Key>bar</Key><Value></Value></Tag><Tag><Key>foo</Key><Value>bar</Value></Tag>');
  assert.match(renderTagging([]), '<TagSet></TagSet>');
  const valid = renderTagging([
    { key: 'foo', value: 'bar' },
    { key: 'bar', value: '' },
    { key: 'é', value: 'x' },
    { key: 'Hello', value: 'W' },
  ]);
  assert.equal(
    parseTaggingXml(valid, 'object').map((t) => t.key),
    ['Hello', 'bar', 'foo', 'é'],
  );
});

test('header form round-trips; tagging directive COPY by default, REPLACE, else InvalidArgument', () => {
  const tags = [
    { key: 'b c', value: 'x/y+z' },
    { key: 'a', value: '' },
  ];
  assert.is(formatTaggingHeader(tags), 'a=&b%20c=x%2Fy%2Bz');
  assert.equal(parseTaggingHeader(formatTaggingHeader(tags)), [
    { key: 'a', value: '' },
    { key: 'b c', value: 'x/y+z' },
  ]);
  assert.is(parseTaggingDirective(undefined), 'COPY');
  assert.is(parseTaggingDirective('REPLACE'), 'REPLACE');
  assert.is(
    code(() => parseTaggingDirective('replace')),
    '400 InvalidArgument',
  );
});

test.run();
