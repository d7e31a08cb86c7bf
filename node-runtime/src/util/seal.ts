// Authenticated encryption of small secrets (pure): AES-256-GCM with a fresh 96-bit nonce, the
// context bound in as associated data so that a sealed value cannot be moved to another record
// (a secret key sealed for key A does not open as the secret of key B). Keys for separate uses are
// derived from the one cluster master key with HKDF, so no two uses ever share a key.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

/** A 32-byte key for one purpose (e.g. 'access-keys', 'sse-s3'), derived from the master key. */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  if (master.length < 32) throw new SealError('the master key must be at least 32 bytes');
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `cairn/${purpose}`, 32));
}

/** `v1.<nonce>.<tag>.<ciphertext>` (base64url parts). */
export function seal(key: Buffer, plaintext: Buffer, context: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(context));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return [VERSION, nonce.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/** Open what `seal` made with the same key and context; a wrong key, context or a tampered value throws. */
export function open(key: Buffer, sealed: string, context: string): Buffer {
  const [version, nonce, tag, body] = sealed.split('.');
  if (version !== VERSION || nonce === undefined || tag === undefined || body === undefined) throw new SealError('not a sealed value');
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]);
  } catch {
    throw new SealError('the sealed value does not open with this key and context');
  }
}
