// Checksums: the values s3-tests expects (5 MiB parts of 'A', 'B', 'C'; composite and full-object
// results), request headers and multipart settings. The CRCs themselves are tested in crc.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../../util/errors.ts';
import {
  checksumModeEnabled,
  checksumResponseHeaders,
  compositeChecksum,
  createChecksumHasher,
  fullObjectChecksum,
  multipartChecksum,
  multipartChecksumOf,
  requestChecksum,
  verifyChecksum,
  type ChecksumAlgorithm,
} from './checksums.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'no error';
}

const digest = (algorithm: ChecksumAlgorithm, ...chunks: Buffer[]) => {
  const h = createChecksumHasher(algorithm);
  for (const c of chunks) h.update(c);
  return h.digest();
};

// s3-tests' multipart_checksum_3parts_helper cases
const MiB5 = 5 * 1024 * 1024;
const parts = ['A', 'B', 'C'].map((c) => Buffer.alloc(MiB5, c));
const suite: Record<ChecksumAlgorithm, { parts: string[]; whole: string; type: 'COMPOSITE' | 'FULL_OBJECT' }> = {
  SHA256: {
    parts: ['275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=', 'mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=', 'Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow='],
    whole: 'uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3',
    type: 'COMPOSITE',
  },
  SHA1: {
    parts: ['iIaTCGbm+vdVjNqIMF2S0T7ibMk=', 'LS/TJ32bAVKEwRu+sE3X7awh/lk=', '6DDwovUaHwrKNXDMzOGbuvj9kxI='],
    whole: 'sizjvY4eud3MrcHdZM3cQ/ol39o=-3',
    type: 'COMPOSITE',
  },
  CRC64NVME: { parts: ['L/E4WYn8v98=', 'xW1l19VobYM=', 'cK5MnNaWrW4='], whole: 'i+6LR0y3eFo=', type: 'FULL_OBJECT' },
  CRC32: { parts: ['JRTCyQ==', 'QoZTGg==', 'YAgjqw=='], whole: 'WgDhBQ==', type: 'FULL_OBJECT' },
  CRC32C: { parts: ['MDaLrw==', 'TH4EZg==', 'Z7mBIQ=='], whole: 'xU+Krw==', type: 'FULL_OBJECT' },
};

test("s3-tests multipart vectors: each part's checksum, and the object's COMPOSITE or FULL_OBJECT checksum", () => {
  for (const [algorithm, v] of Object.entries(suite) as [ChecksumAlgorithm, (typeof suite)['SHA1']][]) {
    assert.equal(
      parts.map((p) => digest(algorithm, p)),
      v.parts,
      algorithm,
    );
    assert.is(
      multipartChecksum(
        algorithm,
        v.type,
        v.parts.map((checksum) => ({ checksum, size: MiB5 })),
      ),
      v.whole,
      algorithm,
    );
    if (v.type === 'FULL_OBJECT') assert.is(digest(algorithm, ...parts), v.whole, `${algorithm} of the whole object`);
  }
  // a single PUT of 1 KiB of 'A' (test_object_checksum_sha256, test_object_checksum_crc64nvme) and its one-part composite
  assert.is(digest('SHA256', Buffer.alloc(1024, 'A')), 'arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0=');
  assert.is(digest('CRC64NVME', Buffer.alloc(1024, 'A')), 'Qeh8oXvGiSo=');
  assert.is(compositeChecksum('SHA256', ['arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0=']), 'Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg=-1');
  assert.is(
    code(() => fullObjectChecksum('SHA256', [])),
    '400 InvalidRequest',
  );
});

test("request headers: one checksum, as a header or an announced trailer; the SDK's algorithm header must agree", () => {
  const crc = digest('CRC32', Buffer.from('hello'));
  assert.equal(requestChecksum({ 'x-amz-checksum-crc32': crc, 'x-amz-sdk-checksum-algorithm': 'CRC32' }), { algorithm: 'CRC32', source: 'header', value: crc });
  assert.equal(requestChecksum({ 'x-amz-trailer': 'x-amz-checksum-crc64nvme', 'x-amz-sdk-checksum-algorithm': 'CRC64NVME' }), {
    algorithm: 'CRC64NVME',
    source: 'trailer',
  });
  assert.is(requestChecksum({ 'content-type': 'x', 'x-amz-checksum-mode': 'ENABLED' }), undefined);
  assert.is(
    code(() => requestChecksum({ 'x-amz-checksum-crc32': crc, 'x-amz-checksum-sha1': digest('SHA1') })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => requestChecksum({ 'x-amz-checksum-crc32': crc, 'x-amz-trailer': 'x-amz-checksum-crc32' })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => requestChecksum({ 'x-amz-sdk-checksum-algorithm': 'CRC32' })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => requestChecksum({ 'x-amz-sdk-checksum-algorithm': 'SHA1', 'x-amz-checksum-crc32': crc })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => requestChecksum({ 'x-amz-checksum-md5': 'x' })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => requestChecksum({ 'x-amz-trailer': 'x-amz-meta-foo' })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => requestChecksum({ 'x-amz-checksum-sha256': 'bad' })),
    '400 BadDigest',
  );
});

test('verification: BadDigest for a mismatch or a malformed value; checksum mode; response headers', () => {
  const sha = digest('SHA256', Buffer.alloc(1024, 'A'));
  assert.is(
    code(() => verifyChecksum('SHA256', sha, sha)),
    'no error',
  );
  assert.is(
    code(() => verifyChecksum('SHA256', digest('SHA256', Buffer.from('x')), sha)),
    '400 BadDigest',
  );
  assert.is(
    code(() => verifyChecksum('SHA256', 'bad', sha)),
    '400 BadDigest',
  );
  assert.is(
    code(() => verifyChecksum('CRC32', 'AAAAAAA=', 'AAAAAA==')),
    '400 BadDigest',
  );
  assert.ok(checksumModeEnabled({ 'x-amz-checksum-mode': 'ENABLED' }));
  assert.not.ok(checksumModeEnabled({}));
  assert.is(
    code(() => checksumModeEnabled({ 'x-amz-checksum-mode': 'yes' })),
    '400 InvalidRequest',
  );
  assert.equal(checksumResponseHeaders({ algorithm: 'CRC32C', type: 'FULL_OBJECT', value: 'xU+Krw==' }), {
    'x-amz-checksum-crc32c': 'xU+Krw==',
    'x-amz-checksum-type': 'FULL_OBJECT',
  });
});

test('CreateMultipartUpload: default type per algorithm; unsupported combinations are InvalidRequest', () => {
  assert.is(multipartChecksumOf({}), undefined);
  assert.equal(multipartChecksumOf({ 'x-amz-checksum-algorithm': 'SHA256' }), { algorithm: 'SHA256', type: 'COMPOSITE' });
  assert.equal(multipartChecksumOf({ 'x-amz-checksum-algorithm': 'CRC32' }), { algorithm: 'CRC32', type: 'COMPOSITE' });
  assert.equal(multipartChecksumOf({ 'x-amz-checksum-algorithm': 'CRC64NVME' }), { algorithm: 'CRC64NVME', type: 'FULL_OBJECT' });
  assert.equal(multipartChecksumOf({ 'x-amz-checksum-algorithm': 'crc32c', 'x-amz-checksum-type': 'FULL_OBJECT' }), {
    algorithm: 'CRC32C',
    type: 'FULL_OBJECT',
  });
  assert.is(
    code(() => multipartChecksumOf({ 'x-amz-checksum-algorithm': 'SHA1', 'x-amz-checksum-type': 'FULL_OBJECT' })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => multipartChecksumOf({ 'x-amz-checksum-algorithm': 'CRC64NVME', 'x-amz-checksum-type': 'COMPOSITE' })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => multipartChecksumOf({ 'x-amz-checksum-type': 'COMPOSITE' })),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => multipartChecksumOf({ 'x-amz-checksum-algorithm': 'MD5' })),
    '400 InvalidRequest',
  );
});

test.run();
