// Users and keys: validation, sealed secrets, and the directory a request is authenticated against
// (disabled keys and users stop working at once; secrets are opened once per record).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { Directory, generateKeyPair, openSecret, sealSecret, validateKey, validateUser, type KeyRecord, type UserRecord } from './users.ts';

const master = randomBytes(32);
const now = new Date().toISOString();
const user = (id: string, extra: Partial<UserRecord> = {}): UserRecord => ({ id, displayName: id.toUpperCase(), createdAt: now, ...extra });
const key = (accessKeyId: string, userId: string, secret: string, extra: Partial<KeyRecord> = {}): KeyRecord => ({
  accessKeyId,
  userId,
  sealedSecret: sealSecret(master, accessKeyId, secret),
  createdAt: now,
  ...extra,
});

test("the suite's users and keys are valid; nonsense is refused", () => {
  for (const id of ['testid', '56789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234', 'testx$9876543210abcdef', 'RGW11111111111111111'])
    validateUser({ id, displayName: 'x', email: 'a@b.c' });
  validateKey('0555b35654ad1656d804', 'h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==');
  assert.throws(() => validateUser({ id: '' }), /invalid user id/);
  assert.throws(() => validateUser({ id: 'a b' }), /invalid user id/);
  assert.throws(() => validateUser({ id: 'ok', email: 'not-an-address' }), /e-mail/);
  assert.throws(() => validateKey('a b', 'secretsecret'), /access key id/);
  assert.throws(() => validateKey('GOODKEY', 'short'), /secret key/);
  const pair = generateKeyPair();
  validateKey(pair.accessKeyId, pair.secretAccessKey);
  assert.is(pair.accessKeyId.length, 20);
  assert.is.not(generateKeyPair().secretAccessKey, pair.secretAccessKey);
});

test('secrets are sealed per key: the record holds no plaintext and cannot be moved', () => {
  const k = key('AKIDALICE', 'alice', 'alice-secret-1');
  assert.not.match(k.sealedSecret, 'alice-secret');
  assert.is(openSecret(master, k), 'alice-secret-1');
  assert.throws(() => openSecret(master, { ...k, accessKeyId: 'AKIDBOB' }));
});

test('the directory: principals by key, disabled or deleted keys and users refused, e-mail lookups', () => {
  const users = [user('alice', { email: 'Alice@Example.com' }), user('bob'), user('carol', { disabled: true }), user('dave', { deleted: true })];
  const keys = [
    key('AKIDALICE', 'alice', 'alice-secret'),
    key('AKIDALICE2', 'alice', 'alice-second', { disabled: true }),
    key('AKIDBOB', 'bob', 'bob-secret'),
    key('AKIDCAROL', 'carol', 'carol-secret'),
    key('AKIDDAVE', 'dave', 'dave-secret'),
    key('AKIDOLD', 'bob', 'old', { deleted: true }),
  ];
  const dir = new Directory(master, users, keys);
  assert.equal(dir.principal('AKIDALICE'), { userId: 'alice', secretAccessKey: 'alice-secret', superuser: false });
  assert.is(dir.principal('AKIDALICE2'), undefined, 'disabled key');
  assert.is(dir.principal('AKIDCAROL'), undefined, 'disabled user');
  assert.is(dir.principal('AKIDDAVE'), undefined, 'deleted user');
  assert.is(dir.principal('AKIDOLD'), undefined, 'deleted key');
  assert.is(dir.principal('NOSUCHKEY'), undefined);
  assert.is(dir.byEmail('alice@example.com'), 'alice');
  assert.ok(dir.exists('bob'));
  assert.not.ok(dir.exists('dave'));
  assert.is(dir.displayName('bob'), 'BOB');
  assert.equal(
    dir
      .keysOf('alice')
      .map((k) => k.accessKeyId)
      .sort(),
    ['AKIDALICE', 'AKIDALICE2'],
  );
  // A new directory from changed records reuses opened secrets of unchanged keys only.
  const next = new Directory(
    master,
    users,
    keys.map((k) => (k.accessKeyId === 'AKIDBOB' ? key('AKIDBOB', 'bob', 'rotated') : k)),
    dir,
  );
  assert.is(next.principal('AKIDBOB')!.secretAccessKey, 'rotated');
  assert.is(next.principal('AKIDALICE')!.secretAccessKey, 'alice-secret');
});

test.run();
