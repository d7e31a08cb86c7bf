// Two users through one console: everything bob does goes to S3 signed with bob's key, so S3 says
// no where bob has no rights; bob's cookie cannot borrow the admin's presigned URLs or become the
// admin; the cluster page is for admins. bob is a user of the cluster (--keys-file), the admin is the
// root key's user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCairnProcess, s3Client, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { startConsoleOn, type ConsoleOnCairn } from '../../../hack/testing/console.ts';
import { ConsoleClient, jsonOf } from '../../test/console-testing.ts';

const bob = { userId: 'bob', accessKeyId: 'AKBOB', secretAccessKey: 'bob-secret-key', displayName: 'Bob' };
const secret = randomBytes(12).toString('hex');
let dir: string;
let proc: CairnProcess;
let c: ConsoleOnCairn;
const admin = () => new ConsoleClient(c.console.url);
const asBob = () => new ConsoleClient(c.console.url);

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-users-'));
  await writeFile(
    join(dir, 'keys.json'),
    JSON.stringify([{ user: bob.userId, accessKeyId: bob.accessKeyId, secretAccessKey: bob.secretAccessKey, displayName: bob.displayName }]),
  );
  proc = await startCairnProcess({ secret, extraArgs: ['--keys-file', join(dir, 'keys.json')], env: { CAIRN_LOG_LEVEL: 'warn' } });
  c = await startConsoleOn(proc, { users: [bob], clusterSecret: secret });
  const s3 = s3Client(proc);
  await s3.makeBucket('alice-private');
  await s3.putObject('alice-private', 'plans.txt', Buffer.from('secret plans'));
});

test.after(async () => {
  await c?.console.close();
  await proc?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('bob sees and works in his bucket only; S3 refuses the rest', async () => {
  const b = asBob();
  const info = await b.signIn(bob.accessKeyId, bob.secretAccessKey);
  assert.is(info.userId, 'bob');
  assert.is(info.isAdmin, false);
  assert.is((await b.raw('POST', '/api/buckets', { name: 'bob-files' })).status, 201);
  const taken = await b.raw('POST', '/api/buckets', { name: 'alice-private' });
  assert.is(taken.status, 409, "a name another user owns: S3's BucketAlreadyExists reaches bob");
  assert.is((await jsonOf(taken)).error.code, 'BucketAlreadyExists');
  assert.equal(
    (await b.json('GET', '/api/buckets')).map((x: { name: string }) => x.name),
    ['bob-files'],
  );
  assert.ok((await admin().signIn(proc.accessKey, proc.secretKey)).isAdmin);

  const list = await b.raw('GET', '/api/buckets/alice-private/objects?prefix=');
  assert.is(list.status, 403);
  assert.is((await jsonOf(list)).error.code, 'AccessDenied');
  assert.is((await b.raw('POST', '/api/buckets/alice-private/share', { key: 'plans.txt', expiresInSeconds: 3600 })).status, 403);
  assert.is((await b.raw('POST', '/api/buckets/alice-private/delete', { keys: ['plans.txt'] })).status, 403);
  assert.is((await b.raw('POST', '/api/buckets/alice-private/move', { from: 'plans.txt', to: 'mine.txt' })).status, 403);
  assert.is((await b.raw('POST', '/api/buckets/alice-private/uploads', { key: 'big', size: 64 * 1024 * 1024 })).status, 403);
  // A presigned URL is arithmetic: bob gets one for alice's file, and S3 refuses it.
  const redirect = await b.raw('GET', '/api/buckets/alice-private/content?key=plans.txt');
  const read = await b.raw('GET', redirect.headers.get('location')!);
  assert.is(read.status, 403);
  assert.not.match(await read.text(), 'secret plans');
  const plan = await b.json('POST', '/api/buckets/alice-private/uploads', { key: 'planted.txt', size: 3 });
  assert.is((await b.raw('PUT', plan.url, undefined, { rawBody: Buffer.from('bad') })).status, 403);
  assert.is((await s3Client(proc).listObjectsV2Query('alice-private', '', '', '', 10, '')).objects.length, 1);
});

test("bob's cookie cannot carry the admin's presigned requests or be turned into the admin", async () => {
  const a = admin();
  await a.signIn(proc.accessKey, proc.secretKey);
  const adminUrl = (await a.raw('GET', '/api/buckets/alice-private/content?key=plans.txt')).headers.get('location')!;
  assert.is((await a.raw('GET', adminUrl)).status, 200, 'the admin reads it');
  const b = asBob();
  await b.signIn(bob.accessKeyId, bob.secretAccessKey);
  assert.is((await b.raw('GET', adminUrl)).status, 403, "bob's session does not pass the admin's URL on");

  const [h, payload, sig] = b.cookie.split('=')[1].split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin', akid: proc.accessKey })).toString('base64url');
  const mallory = asBob();
  mallory.cookie = `cairn_console=${h}.${forged}.${sig}`;
  assert.is((await mallory.raw('GET', '/api/buckets')).status, 401);
});

test('the cluster page is for admins only', async () => {
  const b = asBob();
  await b.signIn(bob.accessKeyId, bob.secretAccessKey);
  const denied = await b.raw('GET', '/api/cluster');
  assert.is(denied.status, 403);
  const a = admin();
  await a.signIn(proc.accessKey, proc.secretKey);
  const status = await a.json('GET', '/api/cluster');
  assert.is(status.members.length, 1);
  assert.ok(status.buckets.some((x: { name: string }) => x.name === 'alice-private'));
});

test.run();
