// The AccessControlPolicy document (pure): parsed from PutBucketAcl / PutObjectAcl bodies into an
// Acl, and the body of GetBucketAcl / GetObjectAcl. Grantee types travel as an `xsi:type`
// attribute, so this parser keeps attributes (the S3 layer's general parser drops them).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { hasDoctype } from '../util/xml-guard.ts';
import { accessError } from './errors.ts';
import { PERMISSIONS, resolveGrantee, type Acl, type Grant, type Permission, type UserDirectory } from './acl.ts';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  isArray: (name) => name === 'Grant',
});

type Node = Record<string, unknown>;
const malformed = () => accessError('MalformedACLError', 'The XML you provided was not well-formed or did not validate against our published schema.');
const textOf = (n: Node | undefined, name: string): string | undefined => {
  const v = n?.[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v.trim();
  if (v && typeof v === 'object' && typeof (v as Node)['#text'] === 'string') return ((v as Node)['#text'] as string).trim();
  if (v && typeof v === 'object' && Object.keys(v).length === 0) return '';
  throw malformed();
};

/** Parse an AccessControlPolicy for a resource owned by `owner`. */
export function parseAclXml(text: string, owner: string, users: UserDirectory): Acl {
  if (!text.trim() || hasDoctype(text) || XMLValidator.validate(text) !== true) throw malformed();
  const doc = parser.parse(text) as Node;
  const root = doc.AccessControlPolicy as Node | undefined;
  if (!root || typeof root !== 'object') throw malformed();
  const ownerId = textOf(root.Owner as Node | undefined, 'ID');
  // An ACL cannot hand the resource to someone else.
  if (ownerId !== undefined && ownerId !== owner) throw accessError('AccessDenied', 'The owner in the AccessControlPolicy is not the owner of the resource.');
  const list = root.AccessControlList;
  if (list !== undefined && (typeof list !== 'object' || list === null) && list !== '') throw malformed();
  const grants: Grant[] = [];
  for (const g of ((list && typeof list === 'object' ? (list as Node).Grant : undefined) as Node[] | undefined) ?? []) {
    const grantee = g.Grantee as Node | undefined;
    const permission = textOf(g, 'Permission') as Permission | undefined;
    if (!grantee || typeof grantee !== 'object' || !permission) throw malformed();
    if (!PERMISSIONS.includes(permission)) throw malformed();
    const type = grantee['@_type'] as string | undefined;
    grants.push({
      permission,
      grantee: resolveGrantee({ type, id: textOf(grantee, 'ID'), uri: textOf(grantee, 'URI'), email: textOf(grantee, 'EmailAddress') }, users),
    });
  }
  return { owner, grants };
}

/** The body of a Get*Acl answer, for the S3 layer's XML builder (`@_` marks attributes). */
export function aclXmlBody(acl: Acl, displayName: (id: string) => string): Record<string, unknown> {
  return {
    Owner: { ID: acl.owner, DisplayName: displayName(acl.owner) },
    AccessControlList: {
      // Grants to groups first, then to users (the order S3 and RGW answer in, whatever was put).
      Grant: [...acl.grants.filter((g) => g.grantee.type === 'Group'), ...acl.grants.filter((g) => g.grantee.type !== 'Group')].map((g) => ({
        Grantee:
          g.grantee.type === 'CanonicalUser'
            ? { '@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ID: g.grantee.id, DisplayName: displayName(g.grantee.id) }
            : { '@_xmlns:xsi': XSI, '@_xsi:type': 'Group', URI: g.grantee.uri },
        Permission: g.permission,
      })),
    },
  };
}
