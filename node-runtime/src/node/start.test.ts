import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Minio from 'minio';
import { startNode, type RunningNode } from './start.ts';
import { parseHostPort } from './listen.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { AdminApiError, createAdminClient } from '../admin/client.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function client(n: RunningNode, key = n.accessKey, secret = n.secretKey) {
  const u = new URL(n.endpoint);
  return new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: key, secretKey: secret, pathStyle: true, region: n.region });
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

test('parseHostPort', () => {
  assert.equal(parseHostPort('127.0.0.5:0', 9000), { host: '127.0.0.5', port: 0 });
  assert.equal(parseHostPort(':9001', 9000), { host: '0.0.0.0', port: 9001 });
  assert.equal(parseHostPort('[::1]:80', 9000), { host: '::1', port: 80 });
  assert.equal(parseHostPort('host', 9000), { host: 'host', port: 9000 });
  assert.throws(() => parseHostPort('h:99999', 1), /port/);
});

test('startNode: serves S3 with the persisted root key and keys-file keys, survives a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-server-'));
  const host = loopbackAddress();
  const keysFile = join(dir, 'keys.json');
  await writeFile(keysFile, JSON.stringify([{ user: 'carol', accessKeyId: 'carol-key', secretAccessKey: 'carol-secret-123' }]));
  let node: RunningNode | undefined;
  try {
    node = await startNode({ dataDir: join(dir, 'data'), api: `${host}:0`, cluster: `${host}:0`, keysFile, chunkSize: 256 * 1024 });
    assert.match(node.endpoint, new RegExp(`^http://${host.replaceAll('.', '\\.')}:\\d+$`));
    const ready = await fetch(`${node.clusterUrl}/readyz`);
    assert.is(ready.status, 200);
    const mc = client(node);
    await mc.makeBucket('photos');
    const body = randomBytes(1024 * 1024 + 5);
    await mc.putObject('photos', 'a/b.bin', body, body.length);
    assert.is(sha(await readAll(await mc.getObject('photos', 'a/b.bin'))), sha(body));
    // The keys-file pair is its user's: it works, and only for what that user may touch.
    const other = client(node, 'carol-key', 'carol-secret-123');
    await other.makeBucket('carols');
    await other.putObject('carols', 'x', Buffer.from('carol'), 5);
    const denied = await other.getObject('photos', 'a/b.bin').then(
      () => 'read',
      (e: { code?: string }) => e.code,
    );
    assert.is(denied, 'AccessDenied', "another user's private object");
    assert.is(sha(await readAll(await mc.getObject('carols', 'x'))), sha(Buffer.from('carol')), 'the admin user reads everything');
    const { accessKey, secretKey } = node;
    await node.stop();
    const saved = JSON.parse(await readFile(join(dir, 'data', 'root-key.json'), 'utf8'));
    assert.is(saved.accessKeyId, accessKey);

    node = await startNode({ dataDir: join(dir, 'data'), api: `${host}:0`, cluster: `${host}:0` });
    assert.is(node.accessKey, accessKey);
    assert.is(node.secretKey, secretKey);
    assert.is(sha(await readAll(await client(node).getObject('photos', 'a/b.bin'))), sha(body));
  } finally {
    await node?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('startNode: a bad keys file is a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-server-'));
  const host = loopbackAddress();
  try {
    await writeFile(join(dir, 'keys.json'), '[{"accessKeyId": 1}]');
    try {
      await startNode({ dataDir: join(dir, 'data'), api: `${host}:0`, cluster: `${host}:0`, keysFile: join(dir, 'keys.json') });
      assert.unreachable();
    } catch (e) {
      assert.match(String(e), /keys file .* entry 0/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a cluster of one: its admin API names the cluster after its member and refuses what it cannot do', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-server-'));
  const host = loopbackAddress();
  const node = await startNode({ dataDir: join(dir, 'data'), api: `${host}:0`, cluster: `${host}:0`, secret: 'solo-secret' });
  try {
    const admin = createAdminClient({ url: node.clusterUrl, secret: 'solo-secret' });
    const status = await admin.status();
    assert.is(status.clusterId, node.id);
    assert.equal(
      status.members.map((m) => [m.name, m.state]),
      [[node.name, 'active']],
    );
    const refused = async (call: Promise<unknown>, code: string) => {
      try {
        await call;
        assert.unreachable();
      } catch (e) {
        assert.ok(e instanceof AdminApiError, String(e));
        assert.is(e.status, 409);
        assert.is(e.code, code);
      }
    };
    await refused(admin.drain(node.name), 'DrainRefused');
    await refused(admin.putSettings!({ gcGraceMs: 1 }), 'NotSupported');
    assert.is((await fetch(`${node.clusterUrl}/maintenance`)).status, 412);
    assert.is((await fetch(`${node.clusterUrl}/cluster/health`)).status, 200);
  } finally {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test("startNode: capacity and free space are the volume's (a file the operator keeps), zone from a zone file", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-server-'));
  const host = loopbackAddress();
  const sizeFile = join(dir, 'volume-size');
  const zoneFile = join(dir, 'zone');
  await writeFile(sizeFile, String(100 * 1024 * 1024));
  await writeFile(zoneFile, 'zone-b\n');
  const node = await startNode({ dataDir: join(dir, 'data'), api: `${host}:0`, cluster: `${host}:0`, secret: 's3cret', volumeSizeFile: sizeFile, zoneFile });
  const capacity = async () => Number(/^cairn_node_capacity_bytes\{[^}]*\} (\d+)/m.exec(await (await fetch(`${node.clusterUrl}/metrics`)).text())?.[1]);
  try {
    assert.is((await createAdminClient({ url: node.clusterUrl, secret: 's3cret' }).status()).members[0]!.zone, 'zone-b');
    assert.is(await capacity(), 100 * 1024 * 1024);
    // 100 MiB is below the disk reserve (at least 256 MiB): the node is full — it takes no new chunks
    // but stays ready to serve what it holds — and says so.
    const admin = createAdminClient({ url: node.clusterUrl, secret: 's3cret' });
    await waitFor(async () => (await admin.status()).members[0]!.disk === 'full', { what: 'the volume counted full', timeoutMs: 10_000 });
    assert.is((await fetch(`${node.clusterUrl}/readyz`)).status, 200);
    // The volume grew (the operator rewrote the file): capacity follows, and the disk takes chunks again, without a restart.
    await writeFile(sizeFile, String(1024 * 1024 * 1024));
    assert.is(await capacity(), 1024 * 1024 * 1024);
    await waitFor(async () => (await admin.status()).members[0]!.disk === 'ok', { what: 'the grown volume has room', timeoutMs: 10_000 });
  } finally {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
