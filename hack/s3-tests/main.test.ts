// The conformance runner's reading of users.conf: every section with a key pair is a user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { suiteUsers } from './main.ts';

test('users.conf sections with keys become users; others are skipped', () => {
  const conf = `# comment
[DEFAULT]
host = @HOST@
[fixtures]
bucket prefix = s3t-{random}-
[s3 main]
display_name = M. Tester
user_id = testid
email = tester@ceph.com
access_key = 0555b35654ad1656d804
secret_key = h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==
[s3 tenant]
display_name = testx$tenanteduser
user_id = testx$9876543210abcdef
access_key = HIJKLMNOPQRSTUVWXYZA
secret_key = opqrstuvwxyzabcdefghijklmnopqrstuvwxyzab
[iam root]
access_key = AAAAAAAAAAAAAAAAAAaa
secret_key = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
user_id = RGW11111111111111111
`;
  assert.equal(
    suiteUsers(conf).map((u) => [u.section, u.userId, u.accessKey, u.displayName]),
    [
      ['s3 main', 'testid', '0555b35654ad1656d804', 'M. Tester'],
      ['s3 tenant', 'testx$9876543210abcdef', 'HIJKLMNOPQRSTUVWXYZA', 'testx$tenanteduser'],
      ['iam root', 'RGW11111111111111111', 'AAAAAAAAAAAAAAAAAAaa', undefined],
    ],
  );
  assert.is(suiteUsers(conf)[0].secretKey, 'h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==', 'values keep their = signs');
});

test.run();
