// Conditional reads, copy sources and writes, with the cases of s3-tests (test_get_object_if*,
// test_copy_object_if*, the conditional_write group) and RFC 7232's precedence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../../util/errors.ts';
import {
  etagListMatches,
  evaluateCopySource,
  evaluateDelete,
  evaluatePut,
  evaluateRead,
  hasPreconditions,
  readPreconditions,
  writePreconditions,
  type WriteTarget,
} from './conditional.ts';

function outcome(fn: () => unknown): string {
  try {
    return String(fn());
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
}

const lastModified = Date.parse('2026-03-04T05:06:07.890Z');
const v = { etag: '37b51d194a7513e45b56f6524f2d51f2', lastModified };
const now = Date.parse('2026-06-01T00:00:00Z');
const http = (ms: number) => new Date(ms).toUTCString();
const q = (s: string) => `"${s}"`;

test('etag lists: quotes optional, *, several tags, weak tags only in weak comparison', () => {
  assert.ok(etagListMatches(q(v.etag), v.etag, false));
  assert.ok(etagListMatches(v.etag, v.etag, false));
  assert.ok(etagListMatches('*', v.etag, false));
  assert.ok(etagListMatches(`"x", ${q(v.etag)}`, v.etag, false));
  assert.not.ok(etagListMatches('"ABCORZ"', v.etag, false));
  assert.not.ok(etagListMatches(`W/${q(v.etag)}`, v.etag, false));
  assert.ok(etagListMatches(`W/${q(v.etag)}`, v.etag, true));
  assert.not.ok(etagListMatches('""', '', false));
});

test('GET/HEAD: If-Match good serves, bad is 412; If-None-Match matching is 304', () => {
  assert.is(
    outcome(() => evaluateRead({ ifMatch: q(v.etag) }, v, now)),
    'serve',
  );
  assert.is(
    outcome(() => evaluateRead({ ifMatch: '"ABCORZ"' }, v, now)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateRead({ ifNoneMatch: q(v.etag) }, v, now)),
    'not-modified',
  );
  assert.is(
    outcome(() => evaluateRead({ ifNoneMatch: 'ABCORZ' }, v, now)),
    'serve',
  );
  assert.is(
    outcome(() => evaluateRead({ ifNoneMatch: '*' }, v, now)),
    'not-modified',
  );
});

test('GET/HEAD dates: second precision, past IMS serves, IMS at or after mtime is 304, IUS before mtime is 412', () => {
  assert.is(
    outcome(() => evaluateRead({ ifModifiedSince: 'Sat, 29 Oct 1994 19:43:31 GMT' }, v, now)),
    'serve',
  );
  // test_get_object_ifmodifiedsince_failed: one second after Last-Modified → 304
  assert.is(
    outcome(() => evaluateRead({ ifModifiedSince: http(lastModified + 1000) }, v, now)),
    'not-modified',
  );
  // the same second as Last-Modified (sub-second part dropped) is not modified either
  assert.is(
    outcome(() => evaluateRead({ ifModifiedSince: http(lastModified) }, v, now)),
    'not-modified',
  );
  assert.is(
    outcome(() => evaluateRead({ ifModifiedSince: http(lastModified - 1000) }, v, now)),
    'serve',
  );
  assert.is(
    outcome(() => evaluateRead({ ifUnmodifiedSince: 'Sat, 29 Oct 1994 19:43:31 GMT' }, v, now)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateRead({ ifUnmodifiedSince: 'Sat, 29 Oct 2100 19:43:31 GMT' }, v, now)),
    'serve',
  );
  assert.is(
    outcome(() => evaluateRead({ ifUnmodifiedSince: http(lastModified) }, v, now)),
    'serve',
  );
});

test('GET/HEAD: unparsable and future If-Modified-Since are ignored', () => {
  assert.is(
    outcome(() => evaluateRead({ ifModifiedSince: 'yesterday' }, v, now)),
    'serve',
  );
  assert.is(
    outcome(() => evaluateRead({ ifUnmodifiedSince: 'yesterday' }, v, now)),
    'serve',
  );
  assert.is(
    outcome(() => evaluateRead({ ifModifiedSince: 'Sat, 29 Oct 2100 19:43:31 GMT' }, v, now)),
    'serve',
  );
});

test('GET/HEAD precedence (AWS docs): If-Match true silences a false If-Unmodified-Since; If-None-Match false with If-Modified-Since true is 304', () => {
  assert.is(
    outcome(() => evaluateRead({ ifMatch: q(v.etag), ifUnmodifiedSince: 'Sat, 29 Oct 1994 19:43:31 GMT' }, v, now)),
    'serve',
  );
  assert.is(
    outcome(() => evaluateRead({ ifNoneMatch: q(v.etag), ifModifiedSince: 'Sat, 29 Oct 1994 19:43:31 GMT' }, v, now)),
    'not-modified',
  );
  // 412 wins over 304 (RFC 7232 §6 evaluates If-Match first)
  assert.is(
    outcome(() => evaluateRead({ ifMatch: '"nope"', ifNoneMatch: q(v.etag) }, v, now)),
    '412 PreconditionFailed',
  );
  // If-None-Match present (and not matching) silences If-Modified-Since
  assert.is(
    outcome(() => evaluateRead({ ifNoneMatch: '"other"', ifModifiedSince: http(lastModified + 1000) }, v, now)),
    'serve',
  );
});

test('copy source: x-amz-copy-source-if-* read from headers; every failure is 412', () => {
  const p = readPreconditions({ 'x-amz-copy-source-if-match': q(v.etag), 'if-match': 'ignored' }, 'x-amz-copy-source-');
  assert.is(p.ifMatch, q(v.etag));
  assert.is(
    outcome(() => evaluateCopySource(p, v, now)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluateCopySource({ ifMatch: 'ABCORZ' }, v, now)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateCopySource({ ifNoneMatch: q(v.etag) }, v, now)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateCopySource({ ifNoneMatch: 'ABCORZ' }, v, now)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluateCopySource({ ifModifiedSince: http(lastModified + 1000) }, v, now)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateCopySource({ ifUnmodifiedSince: 'Sat, 29 Oct 1994 19:43:31 GMT' }, v, now)),
    '412 PreconditionFailed',
  );
  // AWS docs: if-match true + if-unmodified-since false copies; if-none-match false + if-modified-since true is 412
  assert.is(
    outcome(() => evaluateCopySource({ ifMatch: v.etag, ifUnmodifiedSince: 'Sat, 29 Oct 1994 19:43:31 GMT' }, v, now)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluateCopySource({ ifNoneMatch: v.etag, ifModifiedSince: 'Sat, 29 Oct 1994 19:43:31 GMT' }, v, now)),
    '412 PreconditionFailed',
  );
});

const absent: WriteTarget = { kind: 'absent' };
const marker: WriteTarget = { kind: 'delete-marker', lastModified };
const object: WriteTarget = { kind: 'object', etag: v.etag, lastModified, size: 0 };

test('PutObject/Complete (test_put_object_if_match): If-None-Match * or the etag refuses an existing key', () => {
  assert.is(
    outcome(() => evaluatePut({ ifNoneMatch: '*' }, absent)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluatePut({ ifNoneMatch: '*' }, object)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluatePut({ ifNoneMatch: q(v.etag) }, object)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluatePut({ ifNoneMatch: 'badetag' }, object)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluatePut({ ifMatch: q(v.etag) }, object)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluatePut({ ifMatch: v.etag }, object)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluatePut({ ifMatch: '*' }, object)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluatePut({ ifMatch: 'badetag' }, object)),
    '412 PreconditionFailed',
  );
});

test('PutObject/Complete: If-Match on a missing key or a delete marker is 404 NoSuchKey; If-None-Match passes them', () => {
  assert.is(
    outcome(() => evaluatePut({ ifMatch: '*' }, absent)),
    '404 NoSuchKey',
  );
  assert.is(
    outcome(() => evaluatePut({ ifMatch: 'badetag' }, absent)),
    '404 NoSuchKey',
  );
  assert.is(
    outcome(() => evaluatePut({ ifMatch: '*' }, marker)),
    '404 NoSuchKey',
  );
  assert.is(
    outcome(() => evaluatePut({ ifMatch: 'badetag' }, marker)),
    '404 NoSuchKey',
  );
  assert.is(
    outcome(() => evaluatePut({ ifNoneMatch: '*' }, marker)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluatePut({ ifNoneMatch: q(v.etag) }, marker)),
    'undefined',
  );
  assert.is(
    outcome(() => evaluatePut({}, object)),
    'undefined',
  );
});

test('DeleteObject (test_delete_object*_if_match*): missing is a no-op, a wrong etag/time/size is 412', () => {
  assert.is(
    outcome(() => evaluateDelete({ ifMatch: 'badetag' }, object)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatch: q(v.etag) }, object)),
    'delete',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatch: '*' }, object)),
    'delete',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatch: '*' }, absent)),
    'noop',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatch: 'badetag' }, absent)),
    'noop',
  );
  const badmtime = 'Thu, 01 Jan 2015 00:00:00 GMT';
  assert.is(
    outcome(() => evaluateDelete({ ifMatchLastModifiedTime: badmtime }, object)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatchLastModifiedTime: http(lastModified) }, object)),
    'delete',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatchLastModifiedTime: new Date(lastModified).toISOString() }, object)),
    'delete',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatchLastModifiedTime: badmtime }, absent)),
    'noop',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatchSize: '9999' }, object)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatchSize: '0' }, object)),
    'delete',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatchSize: '-1' }, object)),
    '400 InvalidArgument',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifNoneMatch: '*' }, object)),
    '501 NotImplemented',
  );
});

test('DeleteObject on a delete marker: If-Match * goes ahead, an etag, a wrong time or any size is 412', () => {
  assert.is(
    outcome(() => evaluateDelete({ ifMatch: '*' }, marker)),
    'delete',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatch: 'badetag' }, marker)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatchLastModifiedTime: 'Thu, 01 Jan 2015 00:00:00 GMT' }, marker)),
    '412 PreconditionFailed',
  );
  assert.is(
    outcome(() => evaluateDelete({ ifMatchSize: '9999' }, marker)),
    '412 PreconditionFailed',
  );
});

test('headers: write conditions and the x-amz-if-match-* extensions; presence', () => {
  const p = writePreconditions({ 'if-match': '"a"', 'x-amz-if-match-size': '3', 'x-amz-if-match-last-modified-time': 'x' });
  assert.equal(p, { ifMatch: '"a"', ifNoneMatch: undefined, ifMatchLastModifiedTime: 'x', ifMatchSize: '3' });
  assert.ok(hasPreconditions(p));
  assert.not.ok(hasPreconditions(readPreconditions({ 'content-type': 'x' })));
  assert.is(readPreconditions({ 'if-none-match': ['"a"', '"b"'] }).ifNoneMatch, '"a","b"');
});

test.run();
