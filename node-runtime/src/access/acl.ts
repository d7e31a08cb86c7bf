// Access control lists (pure): an owner and grants of READ, WRITE, READ_ACP, WRITE_ACP or
// FULL_CONTROL to users or to the AllUsers / AuthenticatedUsers groups, as S3 keeps them on every
// bucket and object. An ACL comes from a canned name (`x-amz-acl`), from grant headers
// (`x-amz-grant-*`) or from an AccessControlPolicy document (acl-xml.ts); grants by e-mail are
// resolved to the user once, when the ACL is set, so a stored ACL only names user ids and groups.
import { accessError } from './errors.ts';

export const PERMISSIONS = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const GROUPS = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);

export type Grantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string };
export interface Grant {
  grantee: Grantee;
  permission: Permission;
}
export interface Acl {
  owner: string;
  grants: Grant[];
}

/** What the access layer needs to know of users to check grants. */
export interface UserDirectory {
  exists(id: string): boolean;
  byEmail(email: string): string | undefined;
}

export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
  'aws-exec-read',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

const user = (id: string, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });

/** The ACL a canned name stands for. `bucketOwner` matters for the bucket-owner-* names on objects. */
export function cannedAcl(name: string, owner: string, bucketOwner = owner): Acl {
  // In the order S3 lists them: grants to groups, then the owner's FULL_CONTROL, then the bucket owner's.
  const groups: Grant[] = [];
  const after: Grant[] = [];
  switch (name as CannedAcl) {
    case 'private':
    case 'aws-exec-read':
      break;
    case 'public-read':
      groups.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      groups.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      groups.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) after.push(user(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) after.push(user(bucketOwner, 'FULL_CONTROL'));
      break;
    case 'log-delivery-write':
      groups.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
    default:
      throw accessError('InvalidArgument', `Invalid canned ACL: ${name}`);
  }
  return { owner, grants: [...groups, user(owner, 'FULL_CONTROL'), ...after] };
}

/** One grantee the way requests name it; checked and resolved to a stored grantee. */
export function resolveGrantee(g: { type?: string; id?: string; uri?: string; email?: string }, users: UserDirectory): Grantee {
  if (g.id !== undefined && (g.type === undefined || g.type === 'CanonicalUser')) {
    if (!users.exists(g.id)) throw accessError('InvalidArgument', `Invalid id: ${g.id}`);
    return { type: 'CanonicalUser', id: g.id };
  }
  if (g.uri !== undefined && (g.type === undefined || g.type === 'Group')) {
    if (!GROUPS.has(g.uri)) throw accessError('InvalidArgument', `Invalid group uri: ${g.uri}`);
    return { type: 'Group', uri: g.uri };
  }
  if (g.email !== undefined && (g.type === undefined || g.type === 'AmazonCustomerByEmail')) {
    const id = users.byEmail(g.email);
    if (!id) throw accessError('UnresolvableGrantByEmailAddress', 'The e-mail address you provided does not match any account on record.');
    return { type: 'CanonicalUser', id };
  }
  throw accessError('MalformedACLError', 'The XML you provided was not well-formed or did not validate against our published schema.');
}

const GRANT_HEADERS: Record<string, Permission> = {
  'x-amz-grant-read': 'READ',
  'x-amz-grant-write': 'WRITE',
  'x-amz-grant-read-acp': 'READ_ACP',
  'x-amz-grant-write-acp': 'WRITE_ACP',
  'x-amz-grant-full-control': 'FULL_CONTROL',
};

/** `id="..."`, `uri="..."`, `emailAddress="..."` pairs, comma-separated (quotes optional). */
function parseGrantHeader(value: string, users: UserDirectory): Grantee[] {
  const out: Grantee[] = [];
  for (const part of value.split(',')) {
    const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(part);
    if (!m) throw accessError('InvalidArgument', `Invalid grant header value: ${part.trim()}`);
    const kind = m[1].toLowerCase();
    out.push(resolveGrantee(kind === 'id' ? { id: m[2] } : kind === 'uri' ? { uri: m[2] } : { email: m[2] }, users));
  }
  return out;
}

/** The ACL a request's headers ask for, or undefined when they ask for none (keep the default). */
export function aclFromHeaders(
  headers: Record<string, string | string[] | undefined>,
  owner: string,
  users: UserDirectory,
  bucketOwner = owner,
): Acl | undefined {
  const canned = headers['x-amz-acl'];
  const grantNames = Object.keys(GRANT_HEADERS).filter((h) => headers[h] !== undefined);
  if (canned !== undefined && grantNames.length) throw accessError('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) return cannedAcl(String(canned), owner, bucketOwner);
  if (!grantNames.length) return undefined;
  // Header grants replace the whole ACL: the owner keeps control only if a header says so.
  const grants: Grant[] = [];
  for (const h of grantNames) for (const grantee of parseGrantHeader(String(headers[h]), users)) grants.push({ grantee, permission: GRANT_HEADERS[h] });
  return { owner, grants };
}

export interface Caller {
  /** The user id; undefined = anonymous. */
  user?: string;
}

const grantsTo = (g: Grantee, caller: Caller) =>
  (g.type === 'CanonicalUser' && g.id === caller.user) ||
  (g.type === 'Group' && (g.uri === ALL_USERS || (g.uri === AUTHENTICATED_USERS && caller.user !== undefined)));

/** Does the ACL grant `permission` to the caller? FULL_CONTROL implies every permission. The
 *  owner's implicit READ_ACP/WRITE_ACP (S3 never lets an owner lock itself out of its ACL) is
 *  the caller's business (authorize.ts), not the list's. */
export function aclAllows(acl: Acl | undefined, caller: Caller, permission: Permission): boolean {
  if (!acl) return false;
  return acl.grants.some((g) => (g.permission === permission || g.permission === 'FULL_CONTROL') && grantsTo(g.grantee, caller));
}

/** An ACL grants something to everyone (GetBucketPolicyStatus, PublicAccessBlock's IgnorePublicAcls). */
export function aclIsPublic(acl: Acl | undefined): boolean {
  return !!acl?.grants.some((g) => g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS));
}
