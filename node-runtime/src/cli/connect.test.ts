// The admin commands as a person runs them (the real `cairn` binary): they find the `npm start`
// cluster through $CAIRN_HOME/local/cluster.json — every one of them, `rebalance status` included —
// and without a cluster they say so, with how to start one.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';

const bin = resolve(new URL('../../bin/cairn.js', import.meta.url).pathname);
const run = promisify(execFile);

async function cairn(home: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_HOME: home };
  delete env.CAIRN_ADMIN_URL;
  delete env.CAIRN_CLUSTER_SECRET;
  try {
    const r = await run(process.execPath, [bin, ...args], { env });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

let node: CairnProcess | undefined;
test.after(async () => {
  await node?.cleanup();
});

test('no cluster at CAIRN_HOME: every admin command says so and how to start one', async () => {
  const home = await mkdtemp(join(tmpdir(), 'cairn-home-'));
  for (const args of [['status'], ['rebalance', 'status', '--no-watch'], ['bucket', 'create', 'x']]) {
    const r = await cairn(home, ...args);
    assert.is(r.code, 1, args.join(' '));
    assert.is(
      r.err.trim(),
      `cairn: NoCluster: no cluster found at CAIRN_HOME=${home} (no ${home}/local/cluster.json): start one with \`npm start\`, or name one with --admin URL --secret S (env CAIRN_ADMIN_URL, CAIRN_CLUSTER_SECRET)`,
    );
  }
});

test('the npm start cluster of CAIRN_HOME is found by status and rebalance status alike; stopped, it is named', async () => {
  const secret = 'connect-test-secret';
  node = await startCairnProcess({ secret });
  const home = await mkdtemp(join(tmpdir(), 'cairn-home-'));
  await mkdir(join(home, 'local'));
  await writeFile(join(home, 'local', 'cluster-secret'), secret + '\n');
  await writeFile(join(home, 'local', 'cluster.json'), JSON.stringify({ admin: node.cluster, clusterSecretFile: join(home, 'local', 'cluster-secret') }));
  const status = await cairn(home, 'status', '--json');
  assert.is(status.code, 0, status.err);
  assert.ok(JSON.parse(status.out).members.length >= 1);
  const rebalance = await cairn(home, 'rebalance', 'status', '--no-watch');
  assert.is(rebalance.code, 0, rebalance.err);
  assert.match(rebalance.out, /^cluster: 0 under-replicated/);

  await node.stop();
  const down = await cairn(home, 'status');
  assert.is(down.code, 1);
  assert.match(down.err, `is the \`npm start\` cluster of CAIRN_HOME=${home} running?`);
});

test('`cairn server --help` names one environment variable for --secret', async () => {
  const help = (await cairn(tmpdir(), 'server', '--help')).out.replace(/\s+/g, ' ');
  assert.match(help, '--secret <secret> cluster secret for internal RPC and admin (env: CAIRN_CLUSTER_SECRET)');
  assert.not.match(help, 'CAIRN_SECRET)');
});

test.run();
