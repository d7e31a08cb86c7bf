// Search by tag through the console against a real `cairn server`: tags set with S3
// (PutObjectTagging) are found under the prefix searched and nowhere else, by key=value or by key
// alone, values compared as the strings they are; a search goes page by page with S3's token; bad
// input is a 400 that says why. It runs as the signed-in user: bob sees nothing of a bucket he may
// not list, and where a bucket policy lets him list but not read tags, the keys he may not read
// are counted, not searched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCairnProcess, s3Client, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { startConsoleOn, type ConsoleOnCairn } from '../../../hack/testing/console.ts';
import { ConsoleClient, jsonOf } from '../../test/console-testing.ts';
import type { TagSearchPage } from './api.ts';
import { parseTagQuery } from './tag-search.ts';

const bob = { userId: 'bob', accessKeyId: 'AKBOB', secretAccessKey: 'bob-secret-key', displayName: 'Bob' };
let dir: string;
let proc: CairnProcess;
let c: ConsoleOnCairn;
let admin: ConsoleClient;
const B = '/api/buckets/projects';

const tagged: Record<string, Record<string, string>> = {
  'a/report.txt': { project: 'alpha', year: '2026' },
  'a/notes.txt': { project: 'beta' },
  'a/deep/plan.txt': { project: 'alpha' },
  'a/bond.txt': { code: '007', team: 'red team' },
  'b/other.txt': { project: 'alpha' },
};

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-tags-'));
  await writeFile(join(dir, 'keys.json'), JSON.stringify([{ user: bob.userId, accessKeyId: bob.accessKeyId, secretAccessKey: bob.secretAccessKey }]));
  proc = await startCairnProcess({ extraArgs: ['--keys-file', join(dir, 'keys.json')], env: { CAIRN_LOG_LEVEL: 'warn' } });
  c = await startConsoleOn(proc, { users: [bob] });
  const s3 = s3Client(proc);
  await s3.makeBucket('projects');
  await s3.putObject('projects', 'a/', Buffer.alloc(0));
  await s3.putObject('projects', 'a/plain.txt', Buffer.from('no tags'));
  for (const [key, tags] of Object.entries(tagged)) {
    await s3.putObject('projects', key, Buffer.from(key));
    await s3.setObjectTagging('projects', key, tags);
  }
  admin = new ConsoleClient(c.console.url);
  await admin.signIn(proc.accessKey, proc.secretKey);
});

test.after(async () => {
  await c?.console.close();
  await proc?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const search = (u: ConsoleClient, prefix: string, tag: string, extra = '') => u.raw('GET', `${B}/tagged?${new URLSearchParams({ prefix, tag })}${extra}`);
const keysOf = (p: TagSearchPage) => p.entries.map((e) => e.key);
const found = async (u: ConsoleClient, prefix: string, tag: string) => keysOf((await (await search(u, prefix, tag)).json()) as TagSearchPage);

test('parseTagQuery: key=value splits at the first "=", key alone matches any value', () => {
  assert.equal(parseTagQuery(' project=alpha '), { key: 'project', value: 'alpha' });
  assert.equal(parseTagQuery('formula=a=b'), { key: 'formula', value: 'a=b' });
  assert.equal(parseTagQuery('project'), { key: 'project' });
  assert.equal(parseTagQuery('project='), { key: 'project', value: '' });
  for (const bad of ['', '   ', '=alpha', 'aws:created=x', 'semi;colon', 'k'.repeat(129), `k=${'v'.repeat(257)}`])
    assert.throws(
      () => parseTagQuery(bad),
      (e: Error) => (e as { status?: number }).status === 400,
      JSON.stringify(bad),
    );
});

test('key=value finds the tagged keys under the prefix, with their tags, and nothing outside it', async () => {
  const res = await search(admin, 'a/', 'project=alpha');
  assert.is(res.status, 200);
  const page = (await res.json()) as TagSearchPage;
  assert.equal(keysOf(page), ['a/deep/plan.txt', 'a/report.txt']);
  assert.equal(page.entries[1].tags, [
    { key: 'project', value: 'alpha' },
    { key: 'year', value: '2026' },
  ]);
  assert.is(page.entries[1].size, 'a/report.txt'.length);
  assert.is(page.scanned, 5, 'every key under a/ but the folder marker a/ itself');
  assert.is(page.unreadable, 0);
  assert.is(page.nextToken, undefined);
  assert.equal(keysOf(await admin.json('GET', `${B}/tagged?tag=project%3Dalpha`)), ['a/deep/plan.txt', 'a/report.txt', 'b/other.txt'], 'the whole bucket');
  assert.equal(await found(admin, 'a/', 'project'), ['a/deep/plan.txt', 'a/notes.txt', 'a/report.txt'], 'a key alone: any value');
  assert.equal(await found(admin, 'a/', 'code=007'), ['a/bond.txt'], 'a value is a string: 007 is not 7');
  assert.equal(await found(admin, 'a/', 'code=7'), []);
  assert.equal(await found(admin, 'a/', 'team=red team'), ['a/bond.txt']);
  assert.equal(await found(admin, 'a/', 'project=gamma'), []);
});

test('page by page: each call reads at most `max` keys and hands back the token', async () => {
  const found: string[] = [];
  let scanned = 0;
  let token: string | undefined;
  let calls = 0;
  do {
    const page = (await (await search(admin, '', 'project=alpha', `&max=2${token ? `&token=${encodeURIComponent(token)}` : ''}`)).json()) as TagSearchPage;
    assert.ok(page.scanned <= 2, `scanned ${page.scanned}`);
    scanned += page.scanned;
    found.push(...keysOf(page));
    token = page.nextToken;
  } while (token && ++calls < 20);
  assert.is(calls, 3, 'seven keys, two at a time: four pages, three of them continued with a token');
  assert.is(scanned, 7);
  assert.equal(found, ['a/deep/plan.txt', 'a/report.txt', 'b/other.txt']);
});

test('bad input is a 400 that says why', async () => {
  for (const [tag, words] of [
    ['', /Enter a tag/],
    ['=alpha', /no tag key/],
    ['aws:x=1', /aws:/],
    ['a<b', /invalid/],
  ] as const) {
    const res = await search(admin, 'a/', tag);
    assert.is(res.status, 400, tag);
    const body = await jsonOf(res);
    assert.is(body.error.code, 'BadRequest');
    assert.match(body.error.message, words);
  }
  const noTag = await admin.raw('GET', `${B}/tagged?prefix=a/`);
  assert.is(noTag.status, 400);
  for (const max of ['0', '1001', 'x']) assert.is((await search(admin, 'a/', 'project', `&max=${max}`)).status, 400, `max=${max}`);
  assert.is((await search(admin, 'x'.repeat(1025), 'project')).status, 400);
});

test('without a session there is no answer', async () => {
  const anon = new ConsoleClient(c.console.url);
  assert.is((await search(anon, 'a/', 'project=alpha')).status, 401);
});

test('as the user: no listing, no search; listing without tag reads, the keys are counted as unreadable', async () => {
  const b = new ConsoleClient(c.console.url);
  await b.signIn(bob.accessKeyId, bob.secretAccessKey);
  const denied = await search(b, 'a/', 'project=alpha');
  assert.is(denied.status, 403);
  assert.is((await jsonOf(denied)).error.code, 'AccessDenied');

  const policy = (tagReads: string) =>
    JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::projects' },
        { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:GetObjectTagging', Resource: `arn:aws:s3:::projects/${tagReads}` },
      ],
    });
  await s3Client(proc).setBucketPolicy('projects', policy('nothing/*'));
  const blind = (await (await search(b, 'a/', 'project=alpha')).json()) as TagSearchPage;
  assert.equal(keysOf(blind), []);
  assert.is(blind.scanned, 5);
  assert.is(blind.unreadable, 5);

  await s3Client(proc).setBucketPolicy('projects', policy('a/deep/*'));
  const some = (await (await search(b, 'a/', 'project=alpha')).json()) as TagSearchPage;
  assert.equal(keysOf(some), ['a/deep/plan.txt'], 'only what bob may read the tags of');
  assert.is(some.unreadable, 4);
});

test.run();
