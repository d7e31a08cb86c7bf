// The console a node serves itself (node/start.ts): sign-in against the cluster's own users and keys,
// admin from the user record, files through the node's S3 as that user; sign-in through an OpenID
// Connect issuer maps a person to the user with their verified e-mail; no console without a secret.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type RunningNode } from '../node/start.ts';
import { loopbackAddress } from '../../../hack/testing/net.ts';
import { ConsoleClient } from '../../test/console-testing.ts';
import { startTestIssuer, type TestIssuer } from '../../../hack/testing/oidc-issuer.ts';
import { SESSION_COOKIE } from './session.ts';

let dir: string;
let node: RunningNode;
let issuer: TestIssuer;
const carol = { user: 'carol', accessKeyId: 'CAROLKEY', secretAccessKey: 'carol-secret-key', email: 'carol@example.com' };

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-node-console-'));
  await writeFile(join(dir, 'keys.json'), JSON.stringify([carol]));
  const host = loopbackAddress();
  issuer = await startTestIssuer();
  node = await startNode({
    consoleOidc: { issuer: issuer.issuer, clientId: issuer.clientId, clientSecret: issuer.clientSecret },
    dataDir: join(dir, 'data'),
    api: `${host}:0`,
    cluster: `${host}:0`,
    secret: 'node-console-secret',
    keysFile: join(dir, 'keys.json'),
  });
});

test.after(async () => {
  await node?.stop();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a node serves the console: users sign in with their keys; the admin user is an admin', async () => {
  assert.ok(node.consoleUrl, 'the node reports its console URL');
  const c = new ConsoleClient(node.consoleUrl!);
  const info = await c.signIn(carol.accessKeyId, carol.secretAccessKey);
  assert.equal([info.userId, info.isAdmin], ['carol', false]);
  assert.is((await c.raw('POST', '/api/buckets', { name: 'carol-files' })).status, 201);
  assert.is(node.view.bucket('carol-files')?.owner, 'carol', 'made through S3 as carol');
  const a = new ConsoleClient(node.consoleUrl!);
  assert.is((await a.signIn(node.accessKey, node.secretKey)).isAdmin, true);
  const wrong = await new ConsoleClient(node.consoleUrl!).raw('POST', '/api/session', { accessKeyId: carol.accessKeyId, secretAccessKey: 'not-her-secret' });
  assert.ok(wrong.status === 401 || wrong.status === 403, `refused: ${wrong.status}`);
});

test('an OpenID Connect sign-in is the session of the user with that verified e-mail; an unverified one is nobody', async () => {
  const signIn = async (person: TestIssuer['person']) => {
    issuer.person = person;
    const start = await fetch(`${node.consoleUrl}/oidc/start`, { redirect: 'manual' });
    const flow = start.headers.getSetCookie()[0].split(';')[0];
    const auth = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const back = await fetch(auth.headers.get('location')!, { redirect: 'manual', headers: { cookie: flow } });
    return back.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  };
  const session = await signIn({ sub: 'c-1', email: 'Carol@example.com', email_verified: true });
  assert.ok(session);
  const info = (await (await fetch(`${node.consoleUrl}/api/session`, { headers: { cookie: session! } })).json()) as { userId: string; accessKeyId: string };
  assert.equal([info.userId, info.accessKeyId], ['carol', carol.accessKeyId]);
  assert.is(await signIn({ sub: 'c-1', email: 'carol@example.com', email_verified: false }), undefined);
  assert.is(await signIn({ sub: 'x-1', email: 'mallory@example.com' }), undefined);
});

test('no cluster secret, no console (its sessions would have no key)', async () => {
  const host = loopbackAddress();
  const bare = await startNode({ dataDir: join(dir, 'bare'), api: `${host}:0`, cluster: `${host}:0` });
  try {
    assert.is(bare.consoleUrl, undefined);
  } finally {
    await bare.stop();
  }
});

test.run();
