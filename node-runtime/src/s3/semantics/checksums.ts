// Flexible checksums: streaming CRC32/CRC32C/CRC64NVME/SHA-1/SHA-256 (base64 as S3 encodes them), the x-amz-checksum-* request headers and trailers, and multipart COMPOSITE / FULL_OBJECT checksums.
//
// A single PUT's checksum is of the whole body (type FULL_OBJECT). A multipart object's is
// either COMPOSITE — the algorithm over the concatenated raw part checksums, written
// "<base64>-<part count>" — or FULL_OBJECT — the CRC of the whole object, combined from the
// parts' CRCs and sizes without reading the data again. CRC64NVME is FULL_OBJECT only, SHA-1 and
// SHA-256 COMPOSITE only, CRC32/CRC32C either (COMPOSITE unless asked), as S3 documents.
// A value that is not what the body hashes to, malformed values included, is BadDigest (s3-tests
// test_object_checksum_sha256 sends 'bad' and expects BadDigest).
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { s3Error } from '../../util/errors.ts';
import { combineCrc, Crc64Nvme, crc32c, CRC32_IEEE, CRC32C, CRC64_NVME } from './crc.ts';

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** Raw digest length of each algorithm, in bytes. */
export const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

export interface ChecksumHasher {
  update(data: Uint8Array): void;
  /** The raw digest; the hasher is finished afterwards. */
  digestBytes(): Buffer;
  /** base64 of the raw digest, as S3 sends it. */
  digest(): string;
}

const invalidRequest = (message: string) => s3Error('InvalidRequest', message);

export const checksumHeader = (a: ChecksumAlgorithm): string => `x-amz-checksum-${a.toLowerCase()}`;

function crcHasher(update: (data: Uint8Array) => void, value: () => bigint, bytes: number): ChecksumHasher {
  const digestBytes = () => {
    const out = Buffer.alloc(bytes);
    if (bytes === 8) out.writeBigUInt64BE(value());
    else out.writeUInt32BE(Number(value()));
    return out;
  };
  return { update, digestBytes, digest: () => digestBytes().toString('base64') };
}

export function createChecksumHasher(algorithm: ChecksumAlgorithm): ChecksumHasher {
  switch (algorithm) {
    case 'CRC32': {
      let v = 0;
      return crcHasher(
        (d) => {
          v = crc32(d, v);
        },
        () => BigInt(v >>> 0),
        4,
      );
    }
    case 'CRC32C': {
      let v = 0;
      return crcHasher(
        (d) => {
          v = crc32c(d, v);
        },
        () => BigInt(v),
        4,
      );
    }
    case 'CRC64NVME': {
      const c = new Crc64Nvme();
      return crcHasher(
        (d) => {
          c.update(d);
        },
        () => c.value,
        8,
      );
    }
    case 'SHA1':
    case 'SHA256': {
      const h: Hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return {
        update: (d) => {
          h.update(d);
        },
        digestBytes: () => h.digest(),
        digest: () => h.digest('base64'),
      };
    }
  }
}

/** An algorithm name as headers carry it (CRC32, crc32c ...); InvalidRequest otherwise. */
export function parseChecksumAlgorithm(value: string, header: string): ChecksumAlgorithm {
  const upper = value.trim().toUpperCase();
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)) return upper as ChecksumAlgorithm;
  throw invalidRequest(`Value for ${header} header is invalid.`);
}

/** The raw bytes of a base64 checksum of `algorithm`; BadDigest when it cannot be one. */
export function decodeChecksum(algorithm: ChecksumAlgorithm, value: string): Buffer {
  const raw = Buffer.from(value, 'base64');
  if (raw.length !== DIGEST_BYTES[algorithm] || raw.toString('base64') !== value) {
    throw s3Error('BadDigest', `Value for ${checksumHeader(algorithm)} header is invalid.`);
  }
  return raw;
}

/** What a write says about its checksum: sent as a header now, or as an aws-chunked trailer later. */
export type RequestChecksum = { algorithm: ChecksumAlgorithm; source: 'header'; value: string } | { algorithm: ChecksumAlgorithm; source: 'trailer' };

type HeaderBag = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
const NOT_A_VALUE = new Set(['x-amz-checksum-mode', 'x-amz-checksum-type', 'x-amz-checksum-algorithm']);

/** The checksum trailer named by x-amz-trailer, if any. */
function trailerAlgorithm(headers: HeaderBag): ChecksumAlgorithm | undefined {
  const trailer = one(headers['x-amz-trailer']);
  if (trailer === undefined) return undefined;
  const names = trailer
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length !== 1 || !names[0].startsWith('x-amz-checksum-') || NOT_A_VALUE.has(names[0])) {
    throw invalidRequest('The value specified in the x-amz-trailer header is not supported');
  }
  return parseChecksumAlgorithm(names[0].slice('x-amz-checksum-'.length), 'x-amz-trailer');
}

/**
 * PutObject / UploadPart: the checksum the client sent or announced, or undefined. One algorithm
 * only; x-amz-sdk-checksum-algorithm must agree with it and cannot stand alone.
 */
export function requestChecksum(headers: HeaderBag): RequestChecksum | undefined {
  const sent: [ChecksumAlgorithm, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-checksum-') || NOT_A_VALUE.has(name) || value === undefined) continue;
    sent.push([parseChecksumAlgorithm(name.slice('x-amz-checksum-'.length), name), one(value)!]);
  }
  const trailer = trailerAlgorithm(headers);
  if (sent.length + (trailer ? 1 : 0) > 1) throw invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdk = one(headers['x-amz-sdk-checksum-algorithm']);
  const announced = sdk === undefined ? undefined : parseChecksumAlgorithm(sdk, 'x-amz-sdk-checksum-algorithm');
  const algorithm = sent[0]?.[0] ?? trailer;
  if (announced && !algorithm) {
    throw invalidRequest('x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
  }
  if (announced && announced !== algorithm) throw invalidRequest('Value for x-amz-sdk-checksum-algorithm header is invalid.');
  if (sent.length) {
    decodeChecksum(sent[0][0], sent[0][1]);
    return { algorithm: sent[0][0], source: 'header', value: sent[0][1] };
  }
  return trailer ? { algorithm: trailer, source: 'trailer' } : undefined;
}

/** BadDigest unless the computed checksum is the one the client sent. */
export function verifyChecksum(algorithm: ChecksumAlgorithm, sent: string, computed: string): void {
  decodeChecksum(algorithm, sent);
  if (sent !== computed) throw s3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
}

/** x-amz-checksum-mode on GET/HEAD: answer with the stored checksum only when ENABLED. */
export function checksumModeEnabled(headers: HeaderBag): boolean {
  const mode = one(headers['x-amz-checksum-mode']);
  if (mode === undefined) return false;
  if (mode.toUpperCase() !== 'ENABLED') throw invalidRequest('Value for x-amz-checksum-mode header is invalid.');
  return true;
}

const SUPPORTS: Record<ChecksumAlgorithm, readonly ChecksumType[]> = {
  CRC32: ['COMPOSITE', 'FULL_OBJECT'],
  CRC32C: ['COMPOSITE', 'FULL_OBJECT'],
  CRC64NVME: ['FULL_OBJECT'],
  SHA1: ['COMPOSITE'],
  SHA256: ['COMPOSITE'],
};

/**
 * CreateMultipartUpload: x-amz-checksum-algorithm and x-amz-checksum-type → the upload's
 * checksum, or undefined. A type without an algorithm, or one the algorithm cannot do, is
 * InvalidRequest.
 */
export function multipartChecksumOf(headers: HeaderBag): { algorithm: ChecksumAlgorithm; type: ChecksumType } | undefined {
  const a = one(headers['x-amz-checksum-algorithm']);
  const t = one(headers['x-amz-checksum-type']);
  if (t !== undefined && t !== 'COMPOSITE' && t !== 'FULL_OBJECT') throw invalidRequest('Value for x-amz-checksum-type header is invalid.');
  if (a === undefined) {
    if (t !== undefined) throw invalidRequest('The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const algorithm = parseChecksumAlgorithm(a, 'x-amz-checksum-algorithm');
  const type: ChecksumType = (t as ChecksumType | undefined) ?? SUPPORTS[algorithm][0];
  if (!SUPPORTS[algorithm].includes(type)) {
    throw invalidRequest(`The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  }
  return { algorithm, type };
}

/** COMPOSITE: the algorithm over the parts' raw checksums, in part order, then "-<count>". */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksums: readonly string[]): string {
  const h = createChecksumHasher(algorithm);
  for (const c of partChecksums) h.update(decodeChecksum(algorithm, c));
  return `${h.digest()}-${partChecksums.length}`;
}

const CRC_POLYS = { CRC32: CRC32_IEEE, CRC32C: CRC32C, CRC64NVME: CRC64_NVME } as const;

/** FULL_OBJECT: the CRC of the whole object from its parts' CRCs and sizes (CRC algorithms only). */
export function fullObjectChecksum(algorithm: ChecksumAlgorithm, parts: readonly { checksum: string; size: number }[]): string {
  if (algorithm === 'SHA1' || algorithm === 'SHA256')
    throw invalidRequest(`The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  const poly = CRC_POLYS[algorithm];
  const bytes = DIGEST_BYTES[algorithm];
  const read = (b: Buffer) => (bytes === 8 ? b.readBigUInt64BE() : BigInt(b.readUInt32BE()));
  let crc = 0n; // the CRC of no bytes
  for (const p of parts) crc = combineCrc(poly, crc, read(decodeChecksum(algorithm, p.checksum)), p.size);
  const out = Buffer.alloc(bytes);
  if (bytes === 8) out.writeBigUInt64BE(crc);
  else out.writeUInt32BE(Number(crc));
  return out.toString('base64');
}

/** The object's checksum at CompleteMultipartUpload, by the upload's type. */
export function multipartChecksum(algorithm: ChecksumAlgorithm, type: ChecksumType, parts: readonly { checksum: string; size: number }[]): string {
  return type === 'COMPOSITE'
    ? compositeChecksum(
        algorithm,
        parts.map((p) => p.checksum),
      )
    : fullObjectChecksum(algorithm, parts);
}

/** Response headers for a stored checksum (x-amz-checksum-<algo> and x-amz-checksum-type). */
export function checksumResponseHeaders(stored: { algorithm: ChecksumAlgorithm; type: ChecksumType; value: string }): Record<string, string> {
  return { [checksumHeader(stored.algorithm)]: stored.value, 'x-amz-checksum-type': stored.type };
}
