// The flexible checksums clients send with uploads (`x-amz-checksum-<algo>`, as a header or an
// aws-chunked trailer). We verify the ones Node computes natively; others pass unverified.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { s3Error } from '../util/errors.ts';

export interface Checksum {
  update(data: Buffer): void;
  verify(sentBase64: string): void;   // throws BadDigest on mismatch
}

export function createChecksum(headerName: string): Checksum | undefined {
  const algo = headerName.toLowerCase().replace(/^x-amz-checksum-/, '');
  const mismatch = () => s3Error('BadDigest', `The ${algo.toUpperCase()} you specified did not match the calculated checksum.`);
  if (algo === 'crc32') {
    let value = 0;
    return {
      update: (data) => { value = crc32(data, value); },
      verify: (sent) => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(value >>> 0);
        if (b.toString('base64') !== sent) throw mismatch();
      },
    };
  }
  if (algo === 'sha256' || algo === 'sha1') {
    const h = createHash(algo);
    return {
      update: (data) => { h.update(data); },
      verify: (sent) => { if (h.digest('base64') !== sent) throw mismatch(); },
    };
  }
  return undefined;
}
