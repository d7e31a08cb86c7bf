// CRC-32C and CRC-64/NVME against published check values and the AWS SDK's own implementations
// (@aws-sdk/checksums, in tests only), and CRC combination.
import { createHash, randomBytes } from 'node:crypto';
import { Crc32cJs, Crc64NvmeJs } from '@aws-sdk/checksums/crc';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createChecksumHasher, type ChecksumAlgorithm } from './checksums.ts';
import { combineCrc, CRC32C, crc32c, crc64nvme, CRC64_NVME } from './crc.ts';

const digest = (algorithm: ChecksumAlgorithm, ...chunks: Buffer[]) => {
  const h = createChecksumHasher(algorithm);
  for (const c of chunks) h.update(c);
  return h.digest();
};
const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

test('check values of "123456789" (CRC catalogue): CRC32 cbf43926, CRC32C e3069283, CRC64NVME ae8b14860a799888', () => {
  const check = Buffer.from('123456789');
  assert.is(hex(digest('CRC32', check)), 'cbf43926');
  assert.is(hex(digest('CRC32C', check)), 'e3069283');
  assert.is(hex(digest('CRC64NVME', check)), 'ae8b14860a799888');
  assert.is(crc32c(check).toString(16), 'e3069283');
  assert.is(crc64nvme(check).toString(16), 'ae8b14860a799888');
  assert.is(digest('SHA256', Buffer.alloc(0)), createHash('sha256').digest('base64'));
  assert.is(hex(digest('CRC32C', Buffer.alloc(0))), '00000000');
  // RFC 3720 (iSCSI) CRC32C vectors: 32 bytes of zeros and of 0xff
  assert.is(crc32c(Buffer.alloc(32)).toString(16), '8a9136aa');
  assert.is(crc32c(Buffer.alloc(32, 0xff)).toString(16), '62a8ab43');
});

test("CRC32C and CRC64NVME agree with the AWS SDK's implementations on random data, in odd-sized updates", async () => {
  for (const size of [0, 1, 7, 8, 9, 63, 1000, 65537]) {
    const data = randomBytes(size);
    const sdk32 = new Crc32cJs();
    sdk32.update(data);
    const sdk64 = new Crc64NvmeJs();
    sdk64.update(data);
    const cut = Math.floor(size / 3);
    assert.is(digest('CRC32C', data.subarray(0, cut), data.subarray(cut)), Buffer.from(await sdk32.digest()).toString('base64'), `crc32c ${size}`);
    assert.is(digest('CRC64NVME', data.subarray(0, cut), data.subarray(cut)), Buffer.from(await sdk64.digest()).toString('base64'), `crc64nvme ${size}`);
  }
});

test('combination: crc(A‖B) from crc(A), crc(B), |B|', () => {
  const a = randomBytes(1234);
  const b = randomBytes(4321);
  const ab = Buffer.concat([a, b]);
  assert.is(combineCrc(CRC32C, BigInt(crc32c(a)), BigInt(crc32c(b)), b.length), BigInt(crc32c(ab)));
  assert.is(combineCrc(CRC64_NVME, crc64nvme(a), crc64nvme(b), b.length), crc64nvme(ab));
  assert.is(combineCrc(CRC64_NVME, crc64nvme(a), 0n, 0), crc64nvme(a));
});

test.run();
