// ACLs: canned names, grant headers, AccessControlPolicy documents in and out, and what a grant
// allows to whom; every malformed or unresolvable grant is refused with the code S3 gives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XMLBuilder } from 'fast-xml-parser';
import { isS3Error } from '../util/errors.ts';
import { ALL_USERS, AUTHENTICATED_USERS, aclAllows, aclFromHeaders, aclIsPublic, cannedAcl, type UserDirectory } from './acl.ts';
import { aclXmlBody, parseAclXml } from './acl-xml.ts';

const users: UserDirectory = {
  exists: (id) => ['alice', 'bob', 'carol'].includes(id),
  byEmail: (e) => (({ 'bob@example.com': 'bob' }) as Record<string, string>)[e],
};

function refused(f: () => unknown, code: string, status = 400): void {
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

test('canned ACLs expand to the grants S3 documents', () => {
  assert.equal(
    cannedAcl('private', 'alice').grants.map((g) => g.permission),
    ['FULL_CONTROL'],
  );
  const pr = cannedAcl('public-read', 'alice');
  assert.ok(aclAllows(pr, {}, 'READ'), 'anyone reads');
  assert.not.ok(aclAllows(pr, {}, 'WRITE'));
  assert.ok(aclAllows(cannedAcl('public-read-write', 'alice'), { user: 'bob' }, 'WRITE'));
  const ar = cannedAcl('authenticated-read', 'alice');
  assert.ok(aclAllows(ar, { user: 'bob' }, 'READ'));
  assert.not.ok(aclAllows(ar, {}, 'READ'), 'anonymous is not authenticated');
  assert.ok(aclAllows(cannedAcl('bucket-owner-read', 'bob', 'alice'), { user: 'alice' }, 'READ'));
  assert.not.ok(aclAllows(cannedAcl('bucket-owner-read', 'bob', 'alice'), { user: 'alice' }, 'WRITE_ACP'));
  assert.ok(aclAllows(cannedAcl('bucket-owner-full-control', 'bob', 'alice'), { user: 'alice' }, 'WRITE_ACP'));
  assert.ok(aclIsPublic(pr));
  assert.not.ok(aclIsPublic(cannedAcl('private', 'alice')));
  refused(() => cannedAcl('public-everything', 'alice'), 'InvalidArgument');
});

test('grant headers: ids, groups, e-mail resolved; mixing with a canned ACL is refused', () => {
  const acl = aclFromHeaders(
    { 'x-amz-grant-read': 'id="bob", uri="' + AUTHENTICATED_USERS + '"', 'x-amz-grant-write-acp': 'emailAddress="bob@example.com"' },
    'alice',
    users,
  )!;
  assert.equal(acl.grants, [
    { grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'READ' },
    { grantee: { type: 'Group', uri: AUTHENTICATED_USERS }, permission: 'READ' },
    { grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'WRITE_ACP' },
  ]);
  assert.ok(aclAllows(acl, { user: 'carol' }, 'READ'));
  assert.not.ok(aclAllows(acl, { user: 'alice' }, 'WRITE'), 'header grants replace the whole list: the owner holds no FULL_CONTROL grant');
  assert.is(aclFromHeaders({}, 'alice', users), undefined);
  refused(() => aclFromHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-read': 'id="bob"' }, 'alice', users), 'InvalidRequest');
  refused(() => aclFromHeaders({ 'x-amz-grant-read': 'id="nobody"' }, 'alice', users), 'InvalidArgument');
  refused(() => aclFromHeaders({ 'x-amz-grant-read': 'emailAddress="who@nowhere.invalid"' }, 'alice', users), 'UnresolvableGrantByEmailAddress');
  refused(() => aclFromHeaders({ 'x-amz-grant-read': 'uri="http://example.com/group"' }, 'alice', users), 'InvalidArgument');
  refused(() => aclFromHeaders({ 'x-amz-grant-read': 'garbage' }, 'alice', users), 'InvalidArgument');
});

const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const policyXml = (grants: string, owner = 'alice') =>
  `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${owner}</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
const grantXml = (grantee: string, permission: string, type = 'CanonicalUser') =>
  `<Grant><Grantee ${xsi} xsi:type="${type}">${grantee}</Grantee><Permission>${permission}</Permission></Grant>`;

test('AccessControlPolicy documents: parsed, rendered, and refused when wrong', () => {
  const acl = parseAclXml(
    policyXml(
      grantXml('<ID>alice</ID>', 'FULL_CONTROL') +
        grantXml(`<URI>${ALL_USERS}</URI>`, 'READ', 'Group') +
        grantXml('<EmailAddress>bob@example.com</EmailAddress>', 'WRITE', 'AmazonCustomerByEmail'),
    ),
    'alice',
    users,
  );
  assert.equal(
    acl.grants.map((g) => [g.grantee, g.permission]),
    [
      [{ type: 'CanonicalUser', id: 'alice' }, 'FULL_CONTROL'],
      [{ type: 'Group', uri: ALL_USERS }, 'READ'],
      [{ type: 'CanonicalUser', id: 'bob' }, 'WRITE'],
    ],
  );
  // Rendered and parsed again: the same ACL.
  const body = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' }).build({ AccessControlPolicy: aclXmlBody(acl, (id) => id.toUpperCase()) });
  assert.match(body, '<DisplayName>BOB</DisplayName>');
  assert.match(body, 'xsi:type="Group"');
  // The same grants, listed groups first (as S3 answers).
  assert.equal(parseAclXml(body, 'alice', users), { owner: 'alice', grants: [acl.grants[1], acl.grants[0], acl.grants[2]] });
  // A single grant (no array in the document) and an empty list.
  assert.is(parseAclXml(policyXml(grantXml('<ID>bob</ID>', 'READ')), 'alice', users).grants.length, 1);
  assert.equal(parseAclXml(policyXml(''), 'alice', users).grants, []);
  refused(() => parseAclXml('<AccessControlPolicy><AccessControlList>', 'alice', users), 'MalformedACLError');
  refused(() => parseAclXml('<Other/>', 'alice', users), 'MalformedACLError');
  refused(() => parseAclXml(policyXml(grantXml('<ID>bob</ID>', 'EVERYTHING')), 'alice', users), 'MalformedACLError');
  refused(() => parseAclXml(policyXml(grantXml('<ID>_foo</ID>', 'FULL_CONTROL')), 'alice', users), 'InvalidArgument');
  refused(
    () => parseAclXml(policyXml(grantXml('<EmailAddress>doesnotexist@x.invalid</EmailAddress>', 'READ', 'AmazonCustomerByEmail')), 'alice', users),
    'UnresolvableGrantByEmailAddress',
  );
  refused(() => parseAclXml(policyXml('', 'bob'), 'alice', users), 'AccessDenied', 403);
});

test.run();
