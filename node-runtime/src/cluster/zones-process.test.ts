// `cairn server` with CAIRN_ZONES (what the operator gives every node pod of a StatefulSet with
// spec.nodes.zones): real processes on loopback, each derives its zone from its name's ordinal,
// and the roots' admin status shows three nodes in three distinct zones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';

const secret = randomBytes(12).toString('hex');
const zones = 'zone-a,zone-b,zone-c';
const common = { secret, env: { CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn', CAIRN_ZONES: zones } };
const procs: CairnProcess[] = [];

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('three node pods with CAIRN_ZONES report three distinct zones in the admin status', async () => {
  const root = await startCairnProcess({ ...common, roles: ['root'], name: 'z-roots-0' });
  procs.push(root);
  const nodes = await Promise.all([0, 1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `z-nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  // An explicit --zone wins over the derived one.
  const pinned = await startCairnProcess({ ...common, roles: ['node'], name: 'z-nodes-3', roots: [root.cluster], zone: 'zone-x' });
  procs.push(pinned);
  const admin = createAdminClient({ url: root.cluster, secret });
  const status = await waitFor(
    async () => {
      const s = await admin.status();
      return s.members.filter((m) => m.roles.includes('node')).length === 4 ? s : undefined;
    },
    { timeoutMs: 15_000, what: '4 node members' },
  );
  const zoneOf = Object.fromEntries(status.members.map((m) => [m.name, m.zone]));
  assert.equal(
    [0, 1, 2].map((i) => zoneOf[`z-nodes-${i}`]),
    ['zone-a', 'zone-b', 'zone-c'],
    'node i is in zones[i mod 3]',
  );
  assert.is(new Set([0, 1, 2].map((i) => zoneOf[`z-nodes-${i}`])).size, 3);
  assert.is(zoneOf['z-nodes-3'], 'zone-x');
});

test('with zones set, a name without an ordinal is refused at start with a clear message', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-zones-'));
  try {
    const child = spawn(
      process.execPath,
      [new URL('../../bin/cairn.js', import.meta.url).pathname, 'server', '--name', 'standalone', '--data', dir, '--zones', zones],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.is(code, 1);
    assert.match(err, 'cannot derive a zone from member name "standalone"');
    const bad = spawn(process.execPath, [new URL('../../bin/cairn.js', import.meta.url).pathname, 'server', '--name', 'n-0', '--data', dir, '--zones', 'a,a'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err2 = '';
    bad.stderr.on('data', (d) => (err2 += d));
    assert.is(await new Promise<number | null>((r) => bad.once('exit', (c) => r(c))), 1);
    assert.match(err2, 'zone a is listed twice');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
