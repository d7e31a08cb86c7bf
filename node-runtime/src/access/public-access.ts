// PublicAccessBlock (pure): the bucket's four switches, their XML document, and the checks that
// refuse a public ACL or a public policy when the block says so. (Ignoring public grants and
// restricting public policies at read time is authorize.ts.)
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { aclIsPublic, type Acl } from './acl.ts';
import type { PublicAccessBlock } from './authorize.ts';
import { hasDoctype } from '../util/xml-guard.ts';
import { accessError } from './errors.ts';
import { policyIsPublic, type BucketPolicy } from './policy.ts';

const FIELDS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const;
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, removeNSPrefix: true, ignoreDeclaration: true });
const malformed = () => accessError('InvalidRequest', 'The PublicAccessBlockConfiguration is not well-formed: each field is true or false.');

/** Parse a PublicAccessBlockConfiguration body; fields left out are false, as in S3. */
export function parsePublicAccessBlock(text: string): PublicAccessBlock {
  if (!text.trim() || hasDoctype(text) || XMLValidator.validate(text) !== true) throw malformed();
  const root = (parser.parse(text) as Record<string, unknown>).PublicAccessBlockConfiguration;
  if (root === undefined) throw malformed();
  const doc = (typeof root === 'object' && root !== null ? root : {}) as Record<string, unknown>;
  const out: PublicAccessBlock = { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false };
  for (const [xml, field] of FIELDS) {
    const v = doc[xml];
    if (v === undefined) continue;
    if (v !== 'true' && v !== 'false') throw malformed();
    out[field] = v === 'true';
  }
  return out;
}

/** The body of GetPublicAccessBlock. */
export function publicAccessBlockXmlBody(pab: PublicAccessBlock): Record<string, string> {
  return Object.fromEntries(FIELDS.map(([xml, field]) => [xml, String(pab[field])]));
}

/** BlockPublicAcls: setting an ACL that grants to everyone is AccessDenied. */
export function checkAclAllowed(pab: PublicAccessBlock | undefined, acl: Acl | undefined): void {
  if (pab?.blockPublicAcls && aclIsPublic(acl)) throw accessError('AccessDenied', "Access Denied: the bucket's PublicAccessBlock blocks public ACLs");
}

/** BlockPublicPolicy: putting a policy that grants to everyone is AccessDenied. */
export function checkPolicyAllowed(pab: PublicAccessBlock | undefined, policy: BucketPolicy): void {
  if (pab?.blockPublicPolicy && policyIsPublic(policy))
    throw accessError('AccessDenied', "Access Denied: the bucket's PublicAccessBlock blocks public policies");
}
