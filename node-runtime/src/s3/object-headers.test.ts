// Ranges, conditional requests, metadata headers and path-style routing (pure functions).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObjectVersion } from '../data/types.ts';
import { isS3Error } from '../util/errors.ts';
import { checkConditions, metadataFromHeaders, parseRange, placementFromHeaders, resolveRange } from './object-headers.ts';
import { parseCopySource } from './object.ts';
import { parseRoute } from './route.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return e.code;
    throw e;
  }
  return 'no error';
}

const version: ObjectVersion = {
  bucket: 'b',
  key: 'k',
  versionId: 'v',
  timestamp: Date.parse('2026-01-02T03:04:05.678Z'),
  writer: 'n1',
  deleted: false,
  size: 100,
  etag: 'abc',
  userMeta: {},
  chunks: [],
  replicas: 1,
};

test('ranges: closed, open, suffix, clamped, unsatisfiable, ignored when malformed', () => {
  assert.equal(resolveRange(parseRange('bytes=0-9')!, 100), { start: 0, end: 9 });
  assert.equal(resolveRange(parseRange('bytes=90-')!, 100), { start: 90, end: 99 });
  assert.equal(resolveRange(parseRange('bytes=-10')!, 100), { start: 90, end: 99 });
  assert.equal(resolveRange(parseRange('bytes=-1000')!, 100), { start: 0, end: 99 });
  assert.equal(resolveRange(parseRange('bytes=50-1000')!, 100), { start: 50, end: 99 });
  assert.is(
    code(() => resolveRange(parseRange('bytes=100-')!, 100)),
    'InvalidRange',
  );
  assert.is(
    code(() => resolveRange(parseRange('bytes=-0')!, 100)),
    'InvalidRange',
  );
  assert.is(
    code(() => resolveRange(parseRange('bytes=0-')!, 0)),
    'InvalidRange',
  );
  assert.is(parseRange('bytes=5-1'), undefined);
  assert.is(parseRange('bytes=0-1,5-6'), undefined);
  assert.is(parseRange('items=0-1'), undefined);
});

test('conditions: If-Match/If-Unmodified-Since → 412, If-None-Match/If-Modified-Since → 304', () => {
  const before = 'Thu, 01 Jan 2026 00:00:00 GMT';
  const lastModified = new Date(version.timestamp).toUTCString();
  assert.is(checkConditions({}, version), 'ok');
  assert.is(checkConditions({ 'if-match': '"abc"' }, version), 'ok');
  assert.is(checkConditions({ 'if-match': '*' }, version), 'ok');
  assert.is(
    code(() => checkConditions({ 'if-match': '"zzz"' }, version)),
    'PreconditionFailed',
  );
  assert.is(
    code(() => checkConditions({ 'if-unmodified-since': before }, version)),
    'PreconditionFailed',
  );
  assert.is(checkConditions({ 'if-unmodified-since': lastModified }, version), 'ok');
  assert.is(checkConditions({ 'if-match': '"abc"', 'if-unmodified-since': before }, version), 'ok');
  assert.is(checkConditions({ 'if-none-match': '"abc"' }, version), 'not-modified');
  assert.is(checkConditions({ 'if-none-match': '"x", "abc"' }, version), 'not-modified');
  assert.is(checkConditions({ 'if-none-match': '"zzz"' }, version), 'ok');
  assert.is(checkConditions({ 'if-modified-since': lastModified }, version), 'not-modified');
  assert.is(checkConditions({ 'if-modified-since': before }, version), 'ok');
  assert.is(checkConditions({ 'if-none-match': '"zzz"', 'if-modified-since': lastModified }, version), 'ok');
  assert.is(checkConditions({ 'if-modified-since': 'garbage' }, version), 'ok');
  assert.is(
    code(() => checkConditions({ 'x-amz-copy-source-if-match': '"no"' }, version, 'x-amz-copy-source-')),
    'PreconditionFailed',
  );
});

test('write metadata: user meta, stored headers without aws-chunked, Cairn placement headers', () => {
  const m = metadataFromHeaders({
    'content-type': 'text/plain',
    'x-amz-meta-color': 'blue',
    'content-encoding': 'gzip,aws-chunked',
    'cache-control': 'no-cache',
    'x-other': 'x',
  });
  assert.equal(m, { contentType: 'text/plain', userMeta: { color: 'blue' }, headers: { 'content-encoding': 'gzip', 'cache-control': 'no-cache' } });
  assert.equal(metadataFromHeaders({ 'content-encoding': 'aws-chunked' }).headers, {});
  // A list keeps S3's spelling (s3-tests test_object_content_encoding_aws_chunked).
  assert.equal(metadataFromHeaders({ 'content-encoding': 'deflate, gzip' }).headers, { 'content-encoding': 'deflate, gzip' });
  assert.equal(metadataFromHeaders({ 'content-encoding': 'aws-chunked, deflate,gzip' }).headers, { 'content-encoding': 'deflate, gzip' });
  assert.equal(metadataFromHeaders({ 'content-encoding': 'aws-chunked, aws-chunked' }).headers, {});
  // User metadata is bounded at 2 KB of names and values.
  const at = { 'x-amz-meta-k': 'v'.repeat(2047) };
  assert.is(metadataFromHeaders(at).userMeta?.k.length, 2047);
  assert.throws(
    () => metadataFromHeaders({ ...at, 'x-amz-meta-x': '' }),
    (e: Error) => isS3Error(e) && e.code === 'MetadataTooLarge' && e.status === 400,
  );
  assert.equal(placementFromHeaders({ 'x-cairn-replicas': '3', 'x-cairn-pin': 'node-a, node-b' }), { replicas: 3, pin: ['node-a', 'node-b'] });
  assert.is(
    code(() => placementFromHeaders({ 'x-cairn-replicas': 'two' })),
    'InvalidArgument',
  );
  assert.is(
    code(() => placementFromHeaders({ 'x-cairn-replicas': '0' })),
    'InvalidArgument',
  );
  assert.is(
    code(() => placementFromHeaders({ 'x-cairn-pin': ' , ' })),
    'InvalidArgument',
  );
});

test('routing keeps keys verbatim: decoded once, never normalised', () => {
  assert.equal(parseRoute('/b/a//b').key, 'a//b');
  assert.equal(parseRoute('/b/../x').key, '../x');
  assert.equal(parseRoute('/b/%252e%252e/y').key, '%2e%2e/y');
  assert.equal(parseRoute('/b/%2e%2e/y').key, '../y');
  assert.equal(parseRoute('/b/%C3%BC%20f+x').key, 'ü f+x');
  assert.equal(parseRoute('/b/').key, undefined);
  assert.equal(parseRoute('/b').bucket, 'b');
  assert.equal(parseRoute('/').bucket, undefined);
  const r = parseRoute('/b?list-type=2&prefix=a%20b+c&delete&max-keys=5');
  assert.equal(r.query, [
    ['list-type', '2'],
    ['prefix', 'a b c'],
    ['delete', ''],
    ['max-keys', '5'],
  ]);
  assert.ok(r.params.has('delete'));
  assert.is(
    code(() => parseRoute('/b/%zz')),
    'InvalidURI',
  );
});

test('copy source: URL-decoded once, with or without a leading slash', () => {
  assert.equal(parseCopySource('/src/a%2F%2Fb%20c'), { bucket: 'src', key: 'a//b c' });
  assert.equal(parseCopySource('src/%252e%252e/y'), { bucket: 'src', key: '%2e%2e/y' });
  assert.equal(parseCopySource('src/k?versionId=null'), { bucket: 'src', key: 'k', versionId: 'null' });
  assert.equal(parseCopySource('src/k?versionId=abc'), { bucket: 'src', key: 'k', versionId: 'abc' });
  assert.is(
    code(() => parseCopySource('src')),
    'InvalidArgument',
  );
  assert.is(
    code(() => parseCopySource('src/k?versionId=')),
    'InvalidArgument',
  );
});

test.run();
