// The headers a write may not ask for: refused, never ignored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../util/errors.ts';
import { refuseUnsupportedHeaders } from './unsupported-headers.ts';

function outcome(op: string, h: Record<string, string>): string {
  try {
    refuseUnsupportedHeaders(op, h);
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'ok';
}

test('storage classes: STANDARD is what every object is; other S3 classes are NotImplemented; unknown ones InvalidStorageClass', () => {
  assert.is(outcome('PutObject', { 'x-amz-storage-class': 'STANDARD' }), 'ok');
  assert.is(outcome('PutObject', { 'x-amz-storage-class': 'GLACIER' }), '501 NotImplemented');
  assert.is(outcome('CreateMultipartUpload', { 'x-amz-storage-class': 'STANDARD_IA' }), '501 NotImplemented');
  assert.is(outcome('CopyObject', { 'x-amz-storage-class': 'COLD' }), '400 InvalidStorageClass');
  assert.is(outcome('PostObject', { 'x-amz-storage-class': 'ONEZONE_IA' }), '501 NotImplemented');
});

test("website redirects and appends are NotImplemented on writes; a PUT's checksum is FULL_OBJECT; other operations are not this table's business", () => {
  assert.is(outcome('PutObject', { 'x-amz-website-redirect-location': '/other' }), '501 NotImplemented');
  assert.is(outcome('PutObject', { 'x-amz-write-offset-bytes': '10' }), '501 NotImplemented');
  assert.is(outcome('GetObject', { 'x-amz-storage-class': 'GLACIER' }), 'ok');
  assert.is(outcome('PutObject', {}), 'ok');
  assert.is(outcome('PutObject', { 'x-amz-checksum-type': 'FULL_OBJECT' }), 'ok');
  assert.is(outcome('PutObject', { 'x-amz-checksum-type': 'COMPOSITE' }), '400 InvalidRequest');
  assert.is(outcome('CreateMultipartUpload', { 'x-amz-checksum-type': 'COMPOSITE' }), 'ok');
});

test.run();
