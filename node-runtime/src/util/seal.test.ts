// Sealing secrets: round trip, bound to key and context, tamper-evident, and keys per purpose.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { deriveKey, open, seal, SealError } from './seal.ts';

const master = randomBytes(32);
const isSeal = (e: unknown) => e instanceof SealError;

test('a sealed secret opens with the same key and context only', () => {
  const key = deriveKey(master, 'access-keys');
  const sealed = seal(key, Buffer.from('wJalrXUtnFEMI/K7MDENG'), 'AKIDEXAMPLE');
  assert.not.match(sealed, 'wJalrXUtnFEMI', 'no plaintext in the sealed value');
  assert.is(open(key, sealed, 'AKIDEXAMPLE').toString(), 'wJalrXUtnFEMI/K7MDENG');
  assert.throws(() => open(key, sealed, 'OTHERKEY'), isSeal, 'moved to another record');
  assert.throws(() => open(deriveKey(master, 'sse-s3'), sealed, 'AKIDEXAMPLE'), isSeal, 'another purpose');
  assert.throws(() => open(deriveKey(randomBytes(32), 'access-keys'), sealed, 'AKIDEXAMPLE'), isSeal, 'another master key');
  const parts = sealed.split('.');
  parts[3] = Buffer.from('tampered').toString('base64url');
  assert.throws(() => open(key, parts.join('.'), 'AKIDEXAMPLE'), isSeal, 'tampered');
  assert.throws(() => open(key, 'plain text', 'AKIDEXAMPLE'), isSeal);
  assert.is.not(seal(key, Buffer.from('x'), 'c'), seal(key, Buffer.from('x'), 'c'), 'a fresh nonce every time');
});

test('derived keys differ per purpose and need a real master key', () => {
  assert.is.not(deriveKey(master, 'a').toString('hex'), deriveKey(master, 'b').toString('hex'));
  assert.is(deriveKey(master, 'a').length, 32);
  assert.throws(() => deriveKey(Buffer.alloc(8), 'a'), /at least 32 bytes/);
});

test.run();
