// The access keys a node starts with: the root key pair (given by flags, or generated once and kept
// in the data dir so a restart serves the same one) and extra pairs from a keys file.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccessKey } from '../cluster/types.ts';

async function writeFileDurably(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fd = await open(tmp, 'w', 0o600);
  try { await fd.writeFile(data); await fd.sync(); } finally { await fd.close(); }
  await rename(tmp, path);
}

/** The root key pair: given, or the one kept in `<dataDir>/root-key.json`, or a new one saved there. */
export async function rootKey(dataDir: string, given: { accessKey?: string; secretKey?: string }): Promise<AccessKey> {
  if (given.accessKey || given.secretKey) {
    if (!given.accessKey || !given.secretKey) throw new Error('--access-key and --secret-key must be given together');
    return { accessKeyId: given.accessKey, secretAccessKey: given.secretKey, name: 'root' };
  }
  const path = join(dataDir, 'root-key.json');
  try {
    const k = JSON.parse(await readFile(path, 'utf8')) as AccessKey;
    if (typeof k.accessKeyId !== 'string' || typeof k.secretAccessKey !== 'string') throw new Error(`${path} is not a key pair`);
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, name: 'root' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const k: AccessKey = { accessKeyId: 'CAIRN' + randomBytes(8).toString('hex').toUpperCase(), secretAccessKey: randomBytes(30).toString('base64url'), name: 'root' };
  await writeFileDurably(path, JSON.stringify(k, null, 2) + '\n');
  return k;
}

/** Extra key pairs from a keys file: JSON [{accessKeyId, secretAccessKey, buckets?, name?}]. */
export async function loadKeysFile(path: string): Promise<AccessKey[]> {
  let data: unknown;
  try { data = JSON.parse(await readFile(path, 'utf8')); } catch (e) { throw new Error(`keys file ${path}: ${(e as Error).message}`); }
  if (!Array.isArray(data)) throw new Error(`keys file ${path}: expected a JSON array of {accessKeyId, secretAccessKey, buckets?}`);
  return data.map((k, i) => {
    const ok = k && typeof k.accessKeyId === 'string' && /^[A-Za-z0-9._-]{3,128}$/.test(k.accessKeyId)
      && typeof k.secretAccessKey === 'string' && k.secretAccessKey.length >= 8
      && (k.buckets === undefined || (Array.isArray(k.buckets) && k.buckets.every((b: unknown) => typeof b === 'string')));
    if (!ok) throw new Error(`keys file ${path}: entry ${i} needs accessKeyId (3-128 of [A-Za-z0-9._-]), secretAccessKey (8+ chars) and optional buckets (string array)`);
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, buckets: k.buckets, name: typeof k.name === 'string' ? k.name : undefined };
  });
}
