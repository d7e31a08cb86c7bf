// The console a node serves itself (node/start.ts): sign-in against the cluster's own users and keys,
// admin from the user record, files through the node's S3 as that user; no console without a secret.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type RunningNode } from '../node/start.ts';
import { loopbackAddress } from '../../../hack/testing/net.ts';
import { ConsoleClient } from '../../test/console-testing.ts';

let dir: string;
let node: RunningNode;
const carol = { user: 'carol', accessKeyId: 'CAROLKEY', secretAccessKey: 'carol-secret-key' };

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-node-console-'));
  await writeFile(join(dir, 'keys.json'), JSON.stringify([carol]));
  const host = loopbackAddress();
  node = await startNode({
    dataDir: join(dir, 'data'),
    api: `${host}:0`,
    cluster: `${host}:0`,
    secret: 'node-console-secret',
    keysFile: join(dir, 'keys.json'),
  });
});

test.after(async () => {
  await node?.stop();
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
