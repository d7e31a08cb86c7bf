// Users and their keys (pure): the records the cluster registry keeps, their validation, and the
// directory the S3 layer looks callers up in. A user has an id (its canonical id in ACLs and its
// principal in policies), a display name, optionally an e-mail (for grants by e-mail), and one or
// more key pairs; a key belongs to exactly one user. Secret keys are stored sealed under the
// cluster master key (util/seal.ts): SigV4 needs them in the clear, but only in memory.
import { randomBytes } from 'node:crypto';
import { deriveKey, open, seal } from '../util/seal.ts';
import type { UserDirectory } from './acl.ts';
import { accessError } from './errors.ts';

export interface UserRecord {
  id: string;
  displayName: string;
  email?: string;
  createdAt: string;
  /** The cluster's admin user: may do anything (only the node's own root keys belong to it). */
  superuser?: boolean;
  disabled?: boolean;
  /** The user's plan: limits over every bucket it owns (data/quota.ts). */
  quota?: UserQuota;
  deleted?: boolean; // registry tombstone
}

/** Limits of a user across its buckets; an absent limit is no limit. */
export interface UserQuota {
  bytes?: number;
  objects?: number;
  buckets?: number;
}

/** An access key as stored before users existed (secret in clear, maybe limited to buckets). */
export interface LegacyKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  buckets?: string[];
  deleted?: boolean;
}

/** The user the legacy unrestricted keys belong to. */
export const LEGACY_ADMIN = 'admin';

export interface KeyRecord {
  accessKeyId: string;
  userId: string;
  sealedSecret: string; // util/seal.ts, context = the access key id
  createdAt: string;
  disabled?: boolean;
  deleted?: boolean;
  /** Console sessions of this key issued at or before this instant (ms) are over: a sign-out on one node ends them on every node. */
  sessionsNotBefore?: number;
}

/** A caller resolved from its access key. */
export interface Principal {
  userId: string;
  secretAccessKey: string;
  superuser: boolean;
  sessionsNotBefore?: number;
}

// Ids as S3 tools and the conformance suite use them: hex canonical ids, names, `tenant$user`.
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@$+=,-]{0,127}$/;
const KEY_ID = /^[A-Za-z0-9._-]{3,128}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

const invalid = (message: string) => accessError('InvalidArgument', message);

export function validateUser(u: { id: string; displayName?: string; email?: string }): void {
  if (!USER_ID.test(u.id)) throw invalid(`invalid user id "${u.id}": 1-128 characters of letters, digits and ._@$+=,- starting with a letter or digit`);
  if (u.displayName !== undefined && (u.displayName.length === 0 || u.displayName.length > 256)) throw invalid('the display name must have 1-256 characters');
  if (u.email !== undefined && !EMAIL.test(u.email)) throw invalid(`invalid e-mail address "${u.email}"`);
}

/** A plan as the admin API takes it: non-negative safe integers, at least one limit. */
export function validateQuota(q: unknown): UserQuota {
  if (!q || typeof q !== 'object' || Array.isArray(q)) throw invalid('a quota is an object of bytes, objects and buckets');
  const out: UserQuota = {};
  for (const [k, v] of Object.entries(q)) {
    if (k !== 'bytes' && k !== 'objects' && k !== 'buckets') throw invalid(`unknown quota limit ${k}: bytes, objects or buckets`);
    if (v === null || v === undefined) continue;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw invalid(`quota ${k} must be a non-negative integer, got ${JSON.stringify(v)}`);
    out[k] = v as number;
  }
  return out;
}

export function validateKey(accessKeyId: string, secretAccessKey: string): void {
  if (!KEY_ID.test(accessKeyId)) throw invalid(`invalid access key id "${accessKeyId}": 3-128 letters, digits and ._-`);
  if (secretAccessKey.length < 8 || secretAccessKey.length > 128 || /[\s]/.test(secretAccessKey))
    throw invalid('the secret key must have 8-128 characters without spaces');
}

/** A new key pair in AWS's shapes (20-character id, 40-character secret). */
export function generateKeyPair(): { accessKeyId: string; secretAccessKey: string } {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const id = [...randomBytes(20)].map((b) => alphabet[b % alphabet.length]).join('');
  return {
    accessKeyId: `CK${id.slice(2)}`,
    secretAccessKey: randomBytes(30)
      .toString('base64')
      .replace(/[+/]/g, (c) => (c === '+' ? 'x' : 'y')),
  };
}

const sealingKey = (master: Buffer) => deriveKey(master, 'access-keys');

export function sealSecret(master: Buffer, accessKeyId: string, secretAccessKey: string): string {
  return seal(sealingKey(master), Buffer.from(secretAccessKey, 'utf8'), accessKeyId);
}

export function openSecret(master: Buffer, key: KeyRecord): string {
  return open(sealingKey(master), key.sealedSecret, key.accessKeyId).toString('utf8');
}

/** Who may call, as of the registry's current records: looked up on every request. */
export class Directory implements UserDirectory {
  private readonly users = new Map<string, UserRecord>();
  private readonly byEmailMap = new Map<string, string>();
  private readonly keys = new Map<string, KeyRecord>();
  private readonly secrets = new Map<string, string>(); // opened once per record version
  private readonly master: Buffer;

  constructor(master: Buffer, users: Iterable<UserRecord>, keys: Iterable<KeyRecord | LegacyKeyRecord>, previous?: Directory) {
    this.master = master;
    for (const u of users) {
      if (u.deleted) continue;
      this.users.set(u.id, u);
      if (u.email) this.byEmailMap.set(u.email.toLowerCase(), u.id);
    }
    for (const raw of keys) {
      if (raw.deleted) continue;
      let k: KeyRecord;
      if ('sealedSecret' in raw) k = raw;
      else {
        // A key from before users: an unrestricted one was an admin key; a bucket-limited one has no
        // owner to act as any more (the operator issues a new key for its Bucket).
        if (raw.buckets) continue;
        k = { accessKeyId: raw.accessKeyId, userId: LEGACY_ADMIN, sealedSecret: '', createdAt: '' };
        this.secrets.set(raw.accessKeyId, raw.secretAccessKey);
      }
      this.keys.set(k.accessKeyId, k);
      const known = previous?.keys.get(k.accessKeyId);
      if (known && known.sealedSecret === k.sealedSecret) this.secrets.set(k.accessKeyId, previous!.secrets.get(k.accessKeyId)!);
    }
  }

  exists(id: string): boolean {
    return this.users.has(id);
  }
  user(id: string): UserRecord | undefined {
    return this.users.get(id);
  }
  byEmail(email: string): string | undefined {
    return this.byEmailMap.get(email.toLowerCase());
  }
  displayName(id: string): string {
    return this.users.get(id)?.displayName ?? id;
  }

  /** The principal of an access key; undefined when the key or its user is unknown, disabled or deleted. */
  principal(accessKeyId: string): Principal | undefined {
    const k = this.keys.get(accessKeyId);
    if (!k || k.disabled) return undefined;
    const u = this.users.get(k.userId);
    if (!u || u.disabled) return undefined;
    let secret = this.secrets.get(accessKeyId);
    if (secret === undefined) {
      secret = openSecret(this.master, k);
      this.secrets.set(accessKeyId, secret);
    }
    return {
      userId: u.id,
      secretAccessKey: secret,
      superuser: u.superuser === true,
      ...(k.sessionsNotBefore ? { sessionsNotBefore: k.sessionsNotBefore } : {}),
    };
  }

  keysOf(userId: string): KeyRecord[] {
    return [...this.keys.values()].filter((k) => k.userId === userId);
  }
  listUsers(): UserRecord[] {
    return [...this.users.values()];
  }
}
