// What a node starts with to know its callers: the cluster master key (seals secret keys and
// SSE-S3 data keys), the root key pair (the admin user's, a superuser), and extra users' key pairs
// from a keys file. Each is given, or made once and kept in the data dir so a restart serves the same.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { open as openFile, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { openSecret, sealSecret, validateKey, validateUser, type KeyRecord, type UserRecord } from '../access/users.ts';
import type { StoredKey } from '../cluster/types.ts';

/** The cluster's superuser: the root key pairs belong to it; it may do anything. */
export const ADMIN_USER = 'admin';

export interface PlainKey {
  accessKeyId: string;
  secretAccessKey: string;
}
export interface KeysFileEntry extends PlainKey {
  user: string;
  displayName?: string;
  email?: string;
}

async function writeFileDurably(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fd = await openFile(tmp, 'w', 0o600);
  try {
    await fd.writeFile(data);
    await fd.sync();
  } finally {
    await fd.close();
  }
  await rename(tmp, path);
}

/** The root key pair: given, or the one kept in `<dataDir>/root-key.json`, or a new one saved there. */
export async function rootKey(dataDir: string, given: { accessKey?: string; secretKey?: string }): Promise<PlainKey> {
  if (given.accessKey || given.secretKey) {
    if (!given.accessKey || !given.secretKey) throw new Error('--access-key and --secret-key must be given together');
    return { accessKeyId: given.accessKey, secretAccessKey: given.secretKey };
  }
  const path = join(dataDir, 'root-key.json');
  try {
    const k = JSON.parse(await readFile(path, 'utf8')) as PlainKey;
    if (typeof k.accessKeyId !== 'string' || typeof k.secretAccessKey !== 'string') throw new Error(`${path} is not a key pair`);
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const k: PlainKey = { accessKeyId: 'CAIRN' + randomBytes(8).toString('hex').toUpperCase(), secretAccessKey: randomBytes(30).toString('base64url') };
  await writeFileDurably(path, JSON.stringify({ ...k, name: 'root' }, null, 2) + '\n');
  return k;
}

/**
 * The cluster master key, 32 bytes: given (`--master-key`, base64 or hex); else the one kept in
 * `<dataDir>/master.key`; else derived from the cluster secret (every member has it, so all derive
 * the same key) or, for a cluster of one without a secret, made at random — and kept there from then
 * on, so a later change of the secret never changes it. Every member of a cluster must hold the same
 * key (the operator gives every pod the one in the cluster Secret). Losing it loses every encrypted
 * object and every stored secret key: back it up with the data.
 *
 * A given key must be the one this data dir was used with: the kept key, or the one whose
 * fingerprint `<dataDir>/master.key.check` holds (written the first time a key is given; only a
 * fingerprint, so the key itself is not on the data disk). A different key is refused at start: it
 * could open nothing stored here, and a node that starts with it would replace the keys it cannot open.
 */
export async function masterKey(dataDir: string, given: { masterKey?: string; secret?: string }): Promise<Buffer> {
  const path = join(dataDir, 'master.key');
  const kept = await readKept(path);
  if (given.masterKey) {
    const raw = /^[0-9a-fA-F]{64}$/.test(given.masterKey) ? Buffer.from(given.masterKey, 'hex') : Buffer.from(given.masterKey, 'base64');
    if (raw.length !== 32) throw new Error('--master-key must be 32 bytes, as 64 hex digits or base64');
    const check = join(dataDir, 'master.key.check');
    const recorded = kept
      ? masterKeyFingerprint(kept)
      : await readFile(check, 'utf8').then(
          (t) => t.trim(),
          (e) => {
            if (e.code === 'ENOENT') return undefined;
            throw e;
          },
        );
    if (recorded !== undefined && recorded !== masterKeyFingerprint(raw)) {
      throw new Error(
        `--master-key (CAIRN_MASTER_KEY) is not the master key ${dataDir} was used with (${kept ? path : check}): nothing stored here could be opened with it. Give the cluster's own master key (the operator keeps it in the cluster Secret as masterKey)`,
      );
    }
    if (recorded === undefined) await writeFileDurably(check, masterKeyFingerprint(raw) + '\n');
    return raw;
  }
  if (kept) return kept;
  const raw = given.secret ? masterKeyFromSecret(given.secret) : randomBytes(32);
  await writeFileDurably(path, raw.toString('base64') + '\n');
  return raw;
}

/** The master key every member of a cluster derives from its cluster secret when none is given (a frozen format). */
export function masterKeyFromSecret(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'cairn/master-key-from-cluster-secret', 32));
}

/** What tells two master keys apart without revealing either. */
function masterKeyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('cairn/master-key-check').digest('hex');
}

async function readKept(path: string): Promise<Buffer | undefined> {
  try {
    const raw = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
    if (raw.length !== 32) throw new Error(`${path} does not hold a 32-byte key`);
    return raw;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Users and their key pairs from a keys file: JSON [{user, accessKeyId, secretAccessKey, displayName?, email?}]. */
export async function loadKeysFile(path: string): Promise<KeysFileEntry[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`keys file ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw new Error(`keys file ${path}: expected a JSON array of {user, accessKeyId, secretAccessKey}`);
  return data.map((k, i) => {
    if (!k || typeof k.accessKeyId !== 'string' || typeof k.secretAccessKey !== 'string' || typeof k.user !== 'string') {
      throw new Error(
        `keys file ${path}: entry ${i} needs user, accessKeyId and secretAccessKey${k && Array.isArray(k.buckets) ? ' (keys limited to buckets are gone: give the key a user that owns those buckets)' : ''}`,
      );
    }
    try {
      validateUser({ id: k.user, displayName: k.displayName, email: k.email });
      validateKey(k.accessKeyId, k.secretAccessKey);
    } catch (e) {
      throw new Error(`keys file ${path}: entry ${i}: ${(e as Error).message}`);
    }
    return { user: k.user, accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, displayName: k.displayName, email: k.email };
  });
}

/** The registry records for the keys a node starts with. A key already stored with the same user
 *  and secret is kept as it is (sealing draws a fresh nonce: resealing would rewrite it every start). */
export function startupRecords(
  master: Buffer,
  admin: PlainKey[],
  extra: KeysFileEntry[],
  current: { key(id: string): StoredKey | undefined; user(id: string): UserRecord | undefined },
): { users: UserRecord[]; keys: KeyRecord[] } {
  const now = new Date().toISOString();
  const existing = (id: string, make: () => UserRecord) => {
    const u = current.user(id);
    return u && !u.disabled ? u : make();
  };
  const users = new Map<string, UserRecord>([
    [ADMIN_USER, existing(ADMIN_USER, () => ({ id: ADMIN_USER, displayName: 'Cluster administrator', createdAt: now, superuser: true }))],
  ]);
  for (const e of extra) {
    if (!users.has(e.user))
      users.set(
        e.user,
        existing(e.user, () => ({ id: e.user, displayName: e.displayName ?? e.user, ...(e.email ? { email: e.email } : {}), createdAt: now })),
      );
  }
  const keys = [...admin.map((k) => ({ ...k, user: ADMIN_USER })), ...extra].map((k): KeyRecord => {
    const stored = current.key(k.accessKeyId);
    if (stored && 'sealedSecret' in stored && stored.userId === k.user && !stored.disabled) {
      try {
        if (openSecret(master, stored) === k.secretAccessKey) return stored;
      } catch {
        /* sealed under another master key: replace */
      }
    }
    return { accessKeyId: k.accessKeyId, userId: k.user, sealedSecret: sealSecret(master, k.accessKeyId, k.secretAccessKey), createdAt: now };
  });
  return { users: [...users.values()], keys };
}
