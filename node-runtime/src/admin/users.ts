// The admin API's users and keys (routes in admin/types.ts). A key belongs to exactly one user;
// its secret is sealed under the master key before it reaches the registry and is shown once, in
// the answer that created it. Disabling a user or a key is a registry write every node sees within
// a heartbeat or two; requests signed with it fail from then on.
import type { Router } from 'express';
import { generateKeyPair, validateKey, validateQuota, validateUser, type KeyRecord, type UserRecord } from '../access/users.ts';
import type { ClusterControl, StoredKey } from '../cluster/types.ts';
import type { AccessKeyRequest, AccessKeyResponse, KeyStatus, UserRequest, UserStatus } from './types.ts';
import { userUsage, type Usage } from './usage.ts';

export class AdminFailure extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export interface UserAdmin {
  view: ClusterControl;
  /** Seal a secret key for the registry (util/seal.ts under the master key). */
  seal(accessKeyId: string, secretAccessKey: string): string;
  /** Every bucket's usage, by name (admin/usage.ts). */
  usage(): Promise<Map<string, Usage>>;
}

type Handle = (fn: (req: import('express').Request) => Promise<unknown>) => import('express').RequestHandler;

const keyUser = (k: StoredKey) => ('userId' in k ? k.userId : 'admin');
const keyStatus = (k: StoredKey): KeyStatus => ({
  accessKeyId: k.accessKeyId,
  user: keyUser(k),
  disabled: 'disabled' in k && k.disabled === true,
  createdAt: 'createdAt' in k ? k.createdAt : '',
});

export function userRoutes(r: Router, handle: Handle, a: UserAdmin): void {
  const status = (u: UserRecord, usage?: Map<string, Usage>): UserStatus => {
    const held = usage ? userUsage(u, a.view.buckets(), usage) : undefined;
    return {
      id: u.id,
      displayName: u.displayName,
      ...(u.email ? { email: u.email } : {}),
      disabled: u.disabled === true,
      superuser: u.superuser === true,
      createdAt: u.createdAt,
      keys: a.view
        .keys()
        .filter((k) => keyUser(k) === u.id)
        .map(keyStatus),
      buckets: a.view
        .buckets()
        .filter((b) => b.owner === u.id)
        .map((b) => b.name),
      ...(u.quota ? { quota: u.quota } : {}),
      ...(held ? { usage: { buckets: held.buckets, objects: held.objects, bytes: held.bytes } } : {}),
    };
  };
  const userOr404 = (id: string) => {
    const u = a.view.user(id);
    if (!u) throw new AdminFailure('NoSuchUser', 404, `no user ${id}`);
    return u;
  };
  const invalid = (e: unknown) => new AdminFailure('InvalidArgument', 400, (e as Error).message);

  r.get(
    '/users',
    handle(async () => {
      const usage = await a.usage();
      return a.view.users().map((u) => status(u, usage));
    }),
  );

  r.get(
    '/users/:id',
    handle(async (req) => status(userOr404(String(req.params.id)), await a.usage())),
  );

  // A plan replaces the previous one whole; {} (or every limit null) removes it. Every coordinator
  // reads the registry's record on each write, so it applies within a heartbeat everywhere.
  r.put(
    '/users/:id/quota',
    handle(async (req) => {
      const u = userOr404(String(req.params.id));
      let quota;
      try {
        quota = validateQuota(req.body ?? {});
      } catch (e) {
        throw invalid(e);
      }
      const next: UserRecord = { ...u, quota };
      if (Object.keys(quota).length === 0) delete next.quota;
      await a.view.putUser(next);
      return status(next, await a.usage());
    }),
  );

  r.put(
    '/users/:id',
    handle(async (req) => {
      const id = String(req.params.id);
      const body = (req.body ?? {}) as UserRequest;
      if (body.id !== undefined && body.id !== id) throw new AdminFailure('InvalidArgument', 400, `body id ${body.id} differs from the path ${id}`);
      if (body.disabled !== undefined && typeof body.disabled !== 'boolean') throw new AdminFailure('InvalidArgument', 400, 'disabled must be true or false');
      try {
        validateUser({ id, displayName: body.displayName, email: body.email });
      } catch (e) {
        throw invalid(e);
      }
      const cur = a.view.user(id);
      if (cur?.superuser && body.disabled)
        throw new AdminFailure('InvalidArgument', 400, "the admin user cannot be disabled (its keys are the nodes' root keys)");
      const next: UserRecord = {
        ...(cur ?? { id, createdAt: new Date().toISOString() }),
        displayName: body.displayName ?? cur?.displayName ?? id,
        ...(body.email !== undefined ? { email: body.email } : {}),
        ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
      } as UserRecord;
      if (!next.disabled) delete next.disabled;
      await a.view.putUser(next);
      return status(next);
    }),
  );

  r.delete(
    '/users/:id',
    handle(async (req) => {
      const u = userOr404(String(req.params.id));
      if (u.superuser) throw new AdminFailure('InvalidArgument', 400, 'the admin user cannot be deleted');
      const owned = a.view
        .buckets()
        .filter((b) => b.owner === u.id)
        .map((b) => b.name);
      if (owned.length) throw new AdminFailure('UserOwnsBuckets', 409, `user ${u.id} owns ${owned.join(', ')}: delete them or give them another owner first`);
      for (const k of a.view.keys().filter((k) => keyUser(k) === u.id)) await a.view.removeKey(k.accessKeyId);
      await a.view.putUser({ ...u, deleted: true });
    }),
  );

  r.post(
    '/keys',
    handle(async (req) => {
      const body = (req.body ?? {}) as AccessKeyRequest;
      if (typeof body.user !== 'string') throw new AdminFailure('InvalidArgument', 400, 'user is required: a key belongs to exactly one user');
      const u = userOr404(body.user);
      const made = generateKeyPair();
      const accessKeyId = body.accessKeyId ?? made.accessKeyId;
      const secretAccessKey = body.secretAccessKey ?? made.secretAccessKey;
      try {
        validateKey(accessKeyId, secretAccessKey);
      } catch (e) {
        throw invalid(e);
      }
      const cur = a.view.key(accessKeyId);
      if (cur && keyUser(cur) !== u.id) throw new AdminFailure('KeyAlreadyExists', 409, `access key ${accessKeyId} belongs to another user`);
      const record: KeyRecord = { accessKeyId, userId: u.id, sealedSecret: a.seal(accessKeyId, secretAccessKey), createdAt: new Date().toISOString() };
      await a.view.putKey(record);
      const out: AccessKeyResponse = { accessKeyId, secretAccessKey, user: u.id };
      return out;
    }),
  );

  r.get(
    '/keys',
    handle(async (req) => {
      const user = typeof req.query.user === 'string' ? req.query.user : undefined;
      return a.view
        .keys()
        .filter((k) => !user || keyUser(k) === user)
        .map(keyStatus);
    }),
  );

  r.patch(
    '/keys/:id',
    handle(async (req) => {
      const k = a.view.key(String(req.params.id));
      if (!k) throw new AdminFailure('NoSuchKey', 404, `no access key ${String(req.params.id)}`);
      const { disabled, sessionsNotBefore } = (req.body ?? {}) as { disabled?: unknown; sessionsNotBefore?: unknown };
      if (disabled === undefined && sessionsNotBefore === undefined)
        throw new AdminFailure('InvalidArgument', 400, 'give disabled (true or false) or sessionsNotBefore (ms since the epoch)');
      if (disabled !== undefined && typeof disabled !== 'boolean') throw new AdminFailure('InvalidArgument', 400, 'disabled must be true or false');
      if (sessionsNotBefore !== undefined && (!Number.isSafeInteger(sessionsNotBefore) || (sessionsNotBefore as number) < 0))
        throw new AdminFailure('InvalidArgument', 400, 'sessionsNotBefore must be ms since the epoch');
      if (!('sealedSecret' in k)) throw new AdminFailure('InvalidArgument', 400, 'a key from before users cannot be changed: delete it');
      const next: KeyRecord = { ...k };
      if (disabled === true) next.disabled = true;
      else if (disabled === false) delete next.disabled;
      // Only ever later: a slow sign-out must not bring back sessions a later one ended.
      if (typeof sessionsNotBefore === 'number') next.sessionsNotBefore = Math.max(k.sessionsNotBefore ?? 0, sessionsNotBefore);
      await a.view.putKey(next);
      return keyStatus(next);
    }),
  );

  r.delete(
    '/keys/:id',
    handle(async (req) => {
      const id = String(req.params.id);
      if (!a.view.key(id)) throw new AdminFailure('NoSuchKey', 404, `no access key ${id}`);
      await a.view.removeKey(id);
    }),
  );
}
