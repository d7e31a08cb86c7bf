// Encryption at rest: header parsing with the suite's codes, data keys that open only as they
// should, a chunk cipher whose output reveals nothing shared between objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { isS3Error } from '../util/errors.ts';
import { decryptChunk, encryptChunk, encryptionFromHeaders, encryptionHeaders, newDataKey, openDataKey, TAG_BYTES } from './sse.ts';

const master = randomBytes(32);
const KEY = 'pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=';
const KEY_MD5 = 'DWygnHRtgiJ77HCm+1rvHw==';
const OTHER = '6b+WOZ1T3cqZMxgThRcXAQBrS5mXKdDUphvpxptl9/4=';
const ssec = (key = KEY, md5: string | null = createHash('md5').update(Buffer.from(key, 'base64')).digest('base64')) => ({
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': key,
  ...(md5 === null ? {} : { 'x-amz-server-side-encryption-customer-key-md5': md5 }),
});

function refused(f: () => unknown, code: string, status: number): void {
  try {
    f();
  } catch (e) {
    assert.ok(isS3Error(e), String(e));
    assert.is(e.code, code);
    assert.is(e.status, status);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('headers: SSE-S3, SSE-C, and every malformed combination refused', () => {
  assert.equal(encryptionFromHeaders({ 'x-amz-server-side-encryption': 'AES256' }), { kind: 'SSE-S3' });
  const c = encryptionFromHeaders(ssec())!;
  assert.is(c.kind, 'SSE-C');
  assert.is(c.kind === 'SSE-C' && c.keyMd5, KEY_MD5);
  assert.is(encryptionFromHeaders({}), undefined);
  refused(() => encryptionFromHeaders(ssec(KEY, 'AAAAAAAAAAAAAAAAAAAAAA==')), 'InvalidArgument', 400);
  refused(() => encryptionFromHeaders(ssec(KEY, null)), 'InvalidArgument', 400);
  refused(() => encryptionFromHeaders({ 'x-amz-server-side-encryption-customer-algorithm': 'AES256' }), 'InvalidArgument', 400);
  refused(
    () => encryptionFromHeaders({ 'x-amz-server-side-encryption-customer-key': KEY, 'x-amz-server-side-encryption-customer-key-md5': KEY_MD5 }),
    'InvalidArgument',
    400,
  );
  refused(() => encryptionFromHeaders(ssec(Buffer.alloc(16).toString('base64'))), 'InvalidArgument', 400);
  refused(() => encryptionFromHeaders({ ...ssec(), 'x-amz-server-side-encryption': 'AES256' }), 'InvalidArgument', 400);
  refused(() => encryptionFromHeaders({ 'x-amz-server-side-encryption': 'aws:kms' }), 'NotImplemented', 501);
  refused(() => encryptionFromHeaders({ 'x-amz-server-side-encryption': 'rot13' }), 'InvalidArgument', 400);
  assert.is(
    encryptionFromHeaders(
      {
        'x-amz-copy-source-server-side-encryption-customer-algorithm': 'AES256',
        'x-amz-copy-source-server-side-encryption-customer-key': KEY,
        'x-amz-copy-source-server-side-encryption-customer-key-md5': KEY_MD5,
      },
      { copySource: true },
    )?.kind,
    'SSE-C',
  );
});

test('SSE-S3: the data key opens under the master key and its own object only', () => {
  const { dataKey, encryption } = newDataKey({ kind: 'SSE-S3' }, master, 'b/k#v1');
  assert.not.match(JSON.stringify(encryption), dataKey.toString('base64'));
  assert.equal(openDataKey(encryption, undefined, master, 'b/k#v1'), dataKey);
  assert.throws(() => openDataKey(encryption, undefined, master, 'b/other#v1'));
  assert.throws(() => openDataKey(encryption, undefined, randomBytes(32), 'b/k#v1'));
  assert.equal(encryptionHeaders(encryption), { 'x-amz-server-side-encryption': 'AES256' });
});

test('SSE-C: the key is never stored; missing or wrong keys are refused', () => {
  const req = encryptionFromHeaders(ssec())!;
  const { dataKey, encryption } = newDataKey(req, master, 'b/k#v1');
  assert.not.match(JSON.stringify(encryption), KEY);
  assert.not.match(JSON.stringify(encryption), Buffer.from(KEY, 'base64').toString('hex'));
  assert.equal(openDataKey(encryption, req, master, 'b/k#v1'), dataKey);
  refused(() => openDataKey(encryption, undefined, master, 'b/k#v1'), 'InvalidRequest', 400);
  refused(() => openDataKey(encryption, encryptionFromHeaders(ssec(OTHER))!, master, 'b/k#v1'), 'InvalidArgument', 400);
  assert.equal(encryptionHeaders(encryption), {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key-md5': KEY_MD5,
  });
});

test('chunks: round trip, bound to key and place, and the same plaintext never looks the same twice', () => {
  const plain = Buffer.from('the same bytes in two objects '.repeat(1000));
  const a = newDataKey({ kind: 'SSE-S3' }, master, 'a').dataKey;
  const b = newDataKey({ kind: 'SSE-S3' }, master, 'b').dataKey;
  const ca = encryptChunk(a, 0, 3, plain);
  assert.is(ca.length, plain.length + TAG_BYTES);
  assert.equal(decryptChunk(a, 0, 3, ca), plain);
  assert.not.equal(ca, encryptChunk(b, 0, 3, plain), 'two objects: unrelated ciphertexts (no dedup leak)');
  assert.not.ok(ca.includes(plain.subarray(0, 32)), 'no plaintext on disk');
  refused(() => decryptChunk(b, 0, 3, ca), 'InternalError', 500);
  refused(() => decryptChunk(a, 0, 4, ca), 'InternalError', 500);
  refused(() => decryptChunk(a, 1, 3, ca), 'InternalError', 500);
  const tampered = Buffer.from(ca);
  tampered[10] ^= 1;
  refused(() => decryptChunk(a, 0, 3, tampered), 'InternalError', 500);
});

test.run();
