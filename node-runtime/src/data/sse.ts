// Server-side encryption at rest (pure): what to encrypt with, and the chunk cipher.
//
// Every encrypted object (SSE-S3 or SSE-C) gets a fresh random 256-bit data key. Its chunks are
// encrypted with AES-256-GCM under that key before they are hashed, so a chunk's id is the hash of
// its ciphertext: two users who store the same plaintext get unrelated chunks, and deduplication
// can never tell anyone that their bytes match someone else's. The GCM nonce is the chunk's place
// in the object (part number, chunk index), unique under a key that is never reused.
// The data key is kept in the object's metadata only wrapped: under a key derived from the
// cluster master key (SSE-S3), or under the customer's own key (SSE-C), which is never stored;
// a salted HMAC of it is, to tell a wrong key (refused) from a corrupt object.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../util/errors.ts';
import { deriveKey, open, seal, SealError } from '../util/seal.ts';
import type { StoredEncryption } from '../meta/records.ts';

export const TAG_BYTES = 16;

/** How an object is (to be) encrypted, as stored with its version. */
export type Encryption = StoredEncryption;

/** What a request asks for, from its headers (undefined: no encryption asked). */
export type EncryptionRequest = { kind: 'SSE-S3' } | { kind: 'SSE-C'; key: Buffer; keyMd5: string };

const bad = (message: string) => new S3Error('InvalidArgument', 400, message);
const header = (h: Record<string, string | string[] | undefined>, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** Parse the SSE headers of a write (or of a read, `copySource` for the x-amz-copy-source-... ones). */
export function encryptionFromHeaders(h: Record<string, string | string[] | undefined>, opts: { copySource?: boolean } = {}): EncryptionRequest | undefined {
  const p = opts.copySource ? 'x-amz-copy-source-server-side-encryption-customer-' : 'x-amz-server-side-encryption-customer-';
  const sse = opts.copySource ? undefined : header(h, 'x-amz-server-side-encryption');
  const algorithm = header(h, `${p}algorithm`);
  const key = header(h, `${p}key`);
  const md5 = header(h, `${p}key-md5`);
  if (algorithm !== undefined || key !== undefined || md5 !== undefined) {
    if (sse !== undefined) throw bad('Server Side Encryption with Customer provided key is incompatible with the encryption method specified');
    if (algorithm !== 'AES256') throw bad('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.');
    if (key === undefined) throw bad('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.');
    const raw = Buffer.from(key, 'base64');
    if (raw.length !== 32 || raw.toString('base64') !== key.trim()) throw bad('The secret key was invalid for the specified algorithm.');
    if (md5 === undefined)
      throw bad('Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.');
    if (createHash('md5').update(raw).digest('base64') !== md5.trim())
      throw bad('The calculated MD5 hash of the key did not match the hash that was provided.');
    return { kind: 'SSE-C', key: raw, keyMd5: md5.trim() };
  }
  // A KMS key named without asking for aws:kms is a contradiction, not a KMS request (400, as S3).
  if (header(h, 'x-amz-server-side-encryption-aws-kms-key-id') !== undefined && sse !== 'aws:kms' && sse !== 'aws:kms:dsse') {
    throw bad('Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms');
  }
  if (sse === undefined) return undefined;
  if (sse === 'AES256') return { kind: 'SSE-S3' };
  if (sse === 'aws:kms' || sse === 'aws:kms:dsse')
    throw new S3Error(
      'NotImplemented',
      501,
      'SSE-KMS needs a key management service; none is configured in this cluster. Use AES256 (SSE-S3) or customer keys (SSE-C).',
    );
  throw bad(`The encryption method specified is not supported: ${sse}`);
}

/** A fresh data key for a new object, and how the object records it. */
export function newDataKey(req: EncryptionRequest, master: Buffer, objectContext: string): { dataKey: Buffer; encryption: Encryption } {
  const dataKey = randomBytes(32);
  if (req.kind === 'SSE-S3') return { dataKey, encryption: { kind: 'SSE-S3', wrappedKey: seal(deriveKey(master, 'sse-s3'), dataKey, objectContext) } };
  const salt = randomBytes(16);
  return {
    dataKey,
    encryption: {
      kind: 'SSE-C',
      wrappedKey: seal(req.key, dataKey, objectContext),
      keyMd5: req.keyMd5,
      keyHmac: createHmac('sha256', salt).update(req.key).digest('base64'),
      salt: salt.toString('base64'),
    },
  };
}

/** A request on an SSE-C object or upload must bring that customer key: missing or another is refused (400). */
export function checkCustomerKey(
  enc: Extract<Encryption, { kind: 'SSE-C' }>,
  req: EncryptionRequest | undefined,
): asserts req is Extract<EncryptionRequest, { kind: 'SSE-C' }> {
  if (req?.kind !== 'SSE-C')
    throw new S3Error(
      'InvalidRequest',
      400,
      'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    );
  const hmac = createHmac('sha256', Buffer.from(enc.salt, 'base64')).update(req.key).digest();
  if (!timingSafeEqual(hmac, Buffer.from(enc.keyHmac, 'base64'))) throw bad('The provided customer key does not match the key the object was stored with.');
}

/** The data key of a stored object, given what the reader sent. Refuses a missing or wrong customer key. */
export function openDataKey(enc: Encryption, req: EncryptionRequest | undefined, master: Buffer, objectContext: string): Buffer {
  if (enc.kind === 'SSE-S3') {
    if (req?.kind === 'SSE-C')
      throw bad('The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
    return open(deriveKey(master, 'sse-s3'), enc.wrappedKey, objectContext);
  }
  checkCustomerKey(enc, req);
  try {
    return open(req.key, enc.wrappedKey, objectContext);
  } catch (e) {
    if (e instanceof SealError)
      throw new S3Error('InternalError', 500, "the object's data key does not open with a matching customer key: its metadata is damaged");
    throw e;
  }
}

/** A chunk's place in its object, kept on its ChunkRef (`seq`): the nonce of its encryption. */
export const chunkSeq = (part: number, index: number) => part * 2 ** 32 + index;
export const seqParts = (seq: number) => ({ part: Math.floor(seq / 2 ** 32), index: seq % 2 ** 32 });

/** The context every wrapped data key is bound to: constant, so a copy can share a wrapped key
 *  with its source (the data key only ever decrypts this object's own chunks). */
export const DATA_KEY_CONTEXT = 'cairn/object-data-key';

/** Wrap an existing data key for another object record (a copy that shares the source's chunks). */
export function rewrapDataKey(dataKey: Buffer, req: EncryptionRequest, master: Buffer): Encryption {
  if (req.kind === 'SSE-S3') return { kind: 'SSE-S3', wrappedKey: seal(deriveKey(master, 'sse-s3'), dataKey, DATA_KEY_CONTEXT) };
  const salt = randomBytes(16);
  return {
    kind: 'SSE-C',
    wrappedKey: seal(req.key, dataKey, DATA_KEY_CONTEXT),
    keyMd5: req.keyMd5,
    keyHmac: createHmac('sha256', salt).update(req.key).digest('base64'),
    salt: salt.toString('base64'),
  };
}

function nonce(part: number, index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(part, 0);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

/** Encrypt one chunk: ciphertext followed by the 16-byte tag. `part` is 0 for a plain PUT. */
export function encryptChunk(dataKey: Buffer, part: number, index: number, plaintext: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', dataKey, nonce(part, index));
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Decrypt one chunk; a chunk that does not authenticate (another object's, tampered) throws. */
export function decryptChunk(dataKey: Buffer, part: number, index: number, sealed: Buffer): Buffer {
  if (sealed.length < TAG_BYTES) throw new S3Error('InternalError', 500, 'an encrypted chunk is shorter than its tag');
  const d = createDecipheriv('aes-256-gcm', dataKey, nonce(part, index));
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new S3Error('InternalError', 500, "an encrypted chunk does not authenticate under its object's key");
  }
}

/** The response headers that say how an object is encrypted. */
export function encryptionHeaders(enc: Encryption | undefined): Record<string, string> {
  if (!enc) return {};
  if (enc.kind === 'SSE-S3') return { 'x-amz-server-side-encryption': 'AES256' };
  return { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key-md5': enc.keyMd5 };
}
