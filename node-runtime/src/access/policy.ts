// Bucket policies (pure): the IAM policy language's common core as S3 applies it to one bucket.
// A policy is parsed and checked once, when it is put (a policy that cannot be fully understood is
// MalformedPolicy: a half-applied policy would grant or deny what its author did not mean), then
// evaluated per request: an explicit Deny wins over everything, then any Allow; no matching
// statement says nothing, and the caller falls back to ownership and ACLs (authorize.ts).
import { accessError } from './errors.ts';
import { type ConditionBlock, matchesConditions, parseConditions, conditionsArePublic } from './conditions.ts';
import { wildcardMatch } from './wildcard.ts';

export type Effect = 'Allow' | 'Deny';

export interface Statement {
  sid?: string;
  effect: Effect;
  /** '*' for everyone, else principal ids (user ids or ARNs, see principalMatches). */
  principals?: '*' | string[];
  notPrincipals?: '*' | string[];
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  conditions: ConditionBlock[];
}

export interface BucketPolicy {
  /** The document exactly as put: GetBucketPolicy returns it byte for byte. */
  text: string;
  statements: Statement[];
}

/** What a request asks, in the policy language's terms. */
export interface PolicyRequest {
  /** The caller's user id; undefined = anonymous. */
  principal?: string;
  /** e.g. `s3:GetObject`. */
  action: string;
  /** e.g. `arn:aws:s3:::bucket/key` or `arn:aws:s3:::bucket`. */
  resource: string;
  /** Condition keys (lower case, e.g. `aws:sourceip`, `s3:prefix`) → values; absent = not in the request. */
  context: Record<string, string[] | undefined>;
}

export type PolicyDecision = 'allow' | 'deny' | 'none';

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
const malformed = (msg: string) => accessError('MalformedPolicy', msg);

function strings(v: unknown, what: string): string[] {
  const list = asList(v);
  if (list.length === 0 || !list.every((x) => typeof x === 'string' && x.length > 0)) throw malformed(`${what} must be a non-empty string or list of strings`);
  return list as string[];
}

function principals(v: unknown): '*' | string[] {
  if (v === '*') return '*';
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw malformed('Invalid principal in policy');
  const out: string[] = [];
  for (const [kind, ids] of Object.entries(v as Record<string, unknown>)) {
    // Service principals (logging, replication) have no meaning in Cairn: refused, not ignored.
    if (kind !== 'AWS' && kind !== 'CanonicalUser') throw malformed(`Invalid principal in policy: unsupported principal type "${kind}"`);
    for (const id of strings(ids, 'Principal')) {
      if (id === '*') return '*';
      out.push(id);
    }
  }
  if (!out.length) throw malformed('Invalid principal in policy');
  return out;
}

function actions(v: unknown): string[] {
  const list = strings(v, 'Action');
  for (const a of list) if (a !== '*' && !/^s3:[A-Za-z*?]+$/.test(a)) throw malformed(`Policy has invalid action: ${a}`);
  return list;
}

function resources(v: unknown, bucket: string): string[] {
  const list = strings(v, 'Resource');
  for (const r of list) {
    const m = /^arn:aws:s3:::(.+)$/.exec(r);
    if (!m) throw malformed(`Policy has invalid resource: ${r}`);
    // A bucket policy speaks of its own bucket only.
    const target = m[1].split('/')[0];
    if (!wildcardMatch(target, bucket)) throw malformed(`Policy has invalid resource: ${r} is not in bucket ${bucket}`);
  }
  return list;
}

/** Parse and check a policy document for `bucket`; throws MalformedPolicy with the reason. */
export function parsePolicy(text: string, bucket: string): BucketPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('This policy contains invalid Json');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw malformed('This policy contains invalid Json');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['Version', 'Id', 'Statement'].includes(k)) throw malformed(`Unknown field ${k}`);
  if (d.Version !== undefined && !VERSIONS.has(d.Version as string)) throw malformed('The policy must contain a valid version string');
  if (d.Statement === undefined) throw malformed('Missing required field Statement');
  const list = asList(d.Statement);
  if (list.length === 0) throw malformed('Missing required field Statement');
  const statements = list.map((raw) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw malformed('Statement must be an object');
    const s = raw as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (!['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'].includes(k))
        throw malformed(`Unknown field ${k}`);
    }
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed('Invalid effect: must be Allow or Deny');
    const st: Statement = { effect: s.Effect, conditions: parseConditions(s.Condition) };
    if (s.Sid !== undefined) st.sid = String(s.Sid);
    if ((s.Principal === undefined) === (s.NotPrincipal === undefined)) throw malformed('Statement must have exactly one of Principal or NotPrincipal');
    if (s.Principal !== undefined) st.principals = principals(s.Principal);
    // AWS refuses NotPrincipal with Allow: "everyone but X may" grants more than anyone means.
    if (s.NotPrincipal !== undefined) {
      if (s.Effect === 'Allow') throw malformed('NotPrincipal may only be used with Effect Deny');
      st.notPrincipals = principals(s.NotPrincipal);
    }
    if ((s.Action === undefined) === (s.NotAction === undefined)) throw malformed('Statement must have exactly one of Action or NotAction');
    if (s.Action !== undefined) st.actions = actions(s.Action);
    if (s.NotAction !== undefined) st.notActions = actions(s.NotAction);
    if ((s.Resource === undefined) === (s.NotResource === undefined)) throw malformed('Statement must have exactly one of Resource or NotResource');
    if (s.Resource !== undefined) st.resources = resources(s.Resource, bucket);
    if (s.NotResource !== undefined) st.notResources = resources(s.NotResource, bucket);
    return st;
  });
  return { text, statements };
}

/** Does a principal entry name this user? A user id, `arn:aws:iam::<id>:root` or `arn:aws:iam:::user/<id>`. */
export function principalMatches(entry: string, user: string | undefined): boolean {
  if (entry === '*') return true;
  if (!user) return false;
  const m = /^arn:aws:iam::([^:]*):(root|user\/.+)$/.exec(entry);
  if (!m) return entry === user;
  if (m[2] === 'root') return m[1] === user;
  return m[2].slice(5) === user && (m[1] === '' || m[1] === user);
}

const anyMatches = (patterns: string[], value: string, caseInsensitive = false) =>
  patterns.some((p) => (caseInsensitive ? wildcardMatch(p.toLowerCase(), value.toLowerCase()) : wildcardMatch(p, value)));

function applies(s: Statement, req: PolicyRequest): boolean {
  if (s.principals && s.principals !== '*' && !s.principals.some((p) => principalMatches(p, req.principal))) return false;
  if (s.notPrincipals && (s.notPrincipals === '*' || s.notPrincipals.some((p) => principalMatches(p, req.principal)))) return false;
  // Action names are case-insensitive in IAM; resource ARNs are not.
  if (s.actions && !anyMatches(s.actions, req.action, true)) return false;
  if (s.notActions && anyMatches(s.notActions, req.action, true)) return false;
  if (s.resources && !anyMatches(s.resources, req.resource)) return false;
  if (s.notResources && anyMatches(s.notResources, req.resource)) return false;
  return matchesConditions(s.conditions, req.context);
}

/** Explicit deny > allow > nothing said. */
export function evaluatePolicy(policy: BucketPolicy | undefined, req: PolicyRequest): PolicyDecision {
  if (!policy) return 'none';
  let allowed = false;
  for (const s of policy.statements) {
    if (!applies(s, req)) continue;
    if (s.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

/** GetBucketPolicyStatus: public when some Allow reaches everyone without a condition that
 *  narrows it to known callers (a fixed source IP range, a user, an account). */
export function policyIsPublic(policy: BucketPolicy | undefined): boolean {
  return !!policy?.statements.some((s) => s.effect === 'Allow' && s.principals === '*' && conditionsArePublic(s.conditions));
}
