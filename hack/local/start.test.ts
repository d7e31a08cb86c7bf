// `npm start` as a person runs it: the real script as a child process, its cluster.json, a real
// S3 client (minio) and kubectl against what it brings up, then Ctrl-C (SIGINT) and a check that
// nothing it started is left. The Kubernetes path also restarts on the same CAIRN_HOME and reads
// the object back (API objects and PVC dirs persist).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlBinary } from '../testing/tools.ts';
import { promisify } from 'node:util';
import { Client } from 'minio';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loopbackAddress, waitFor } from '../testing/net.ts';
import type { ClusterInfo } from './home.ts';

const repo = new URL('../..', import.meta.url).pathname;

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startScript(home: string, args: string[]): Run {
  const child = spawn(process.execPath, [join(repo, 'hack/local/start.ts'), ...args], {
    cwd: repo,
    env: { ...process.env, CAIRN_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, output: () => out, exited };
}

/** cluster.json once written, failing fast (with the script's output) if the script dies first. */
async function clusterInfo(home: string, run: Run, timeoutMs: number): Promise<ClusterInfo> {
  const file = join(home, 'local', 'cluster.json');
  const written = waitFor(() => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo) : undefined), {
    what: 'cluster.json',
    timeoutMs,
    intervalMs: 250,
  });
  const died = run.exited.then((code) => {
    throw new Error(`npm start exited ${code} before writing cluster.json`);
  });
  died.catch(() => {
    /* it exits later, on SIGINT */
  });
  return Promise.race([written, died]).catch((e) => {
    throw new Error(`${(e as Error).message}\n${run.output().slice(-3000)}`);
  });
}

function s3(api: string, accessKey: string, secretKey: string): Client {
  const u = new URL(api);
  return new Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey, secretKey, region: 'us-east-1', pathStyle: true });
}

async function readObject(c: Client, bucket: string, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await c.getObject(bucket, key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Ctrl-C: the script exits 0 and every process it listed is gone. */
async function interruptAndCheck(run: Run, info: ClusterInfo): Promise<void> {
  run.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    run.exited,
    new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), 30_000);
    }),
  ]);
  clearTimeout(timer);
  assert.is(code, 0, `npm start exits 0 on SIGINT:\n${run.output().slice(-2000)}`);
  const pids = [...info.processes, ...((info.operators as { pid?: number }[] | undefined) ?? [])].map((p) => p.pid!);
  assert.ok(pids.length > 0 && pids.every((p) => Number.isInteger(p)), 'cluster.json lists a pid for every process');
  await waitFor(() => pids.every((p) => !alive(p)), { what: `every pid gone (alive: ${pids.filter(alive).join(', ')})`, timeoutMs: 5000 });
}

function killHard(run: Run | undefined): void {
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL'); // the kubelet's exit hook goes with it; pods are reaped below
}

test('npm start (Kubernetes): operator + examples Ready, S3 through two nodes, kubectl columns, Ctrl-C, data kept', async () => {
  const home = mkdtempSync(join(tmpdir(), 'cairn-start-'));
  // 127.250-254: the other control-plane suites take pod networks from 127.10-249, so parallel files never share pod IPs.
  const podNetwork = `127.${250 + Math.floor(Math.random() * 5)}.`;
  const args = ['--roots', '1', '--nodes', '2', '--kube-host', loopbackAddress(), '--kube-port', '0', '--pod-network', podNetwork, '--timeout', '150'];
  let run: Run | undefined;
  let info: ClusterInfo | undefined;
  try {
    run = startScript(home, args);
    info = await clusterInfo(home, run, 160_000);
    assert.is(info.mode, 'kubernetes');
    const nodes = info.processes.filter((p) => p.role === 'node');
    assert.is(nodes.length, 2, 'two storage node pods');
    assert.is(info.processes.filter((p) => p.role === 'root').length, 1);
    for (const p of info.processes) {
      assert.ok(p.api.startsWith(`http://${podNetwork}`), `${p.name} serves on its pod IP (${p.api})`);
      assert.ok(p.dataDir.startsWith(join(home, 'local', 'kube', 'pvc')) && existsSync(p.dataDir), `${p.name} data is its PVC dir`);
    }
    assert.ok(info.endpoint === nodes[0]!.api);

    // Root keys (cluster.json's accessKey/secretKey) write through one node; the bucket's own keys read through another.
    await s3(nodes[0]!.api, info.accessKey, info.secretKey).putObject('photos', 'hello.txt', Buffer.from('hello from npm start'));
    const bucket = info.bucket as { name: string; accessKey: string; secretKey: string };
    assert.is(bucket.name, 'photos');
    assert.is(await readObject(s3(nodes[1]!.api, bucket.accessKey, bucket.secretKey), 'photos', 'hello.txt'), 'hello from npm start');

    // kubectl with the printed kubeconfig: its context namespace is the example's.
    const kubectl = await promisify(execFile)(await kubectlBinary(), ['--kubeconfig', info.kubeconfig as string, 'get', 'storageclusters'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.match(kubectl.stdout, /NAME\s+PHASE\s+READY\s+NODES\s+USED\s+UNDER-REPLICATED\s+AGE/);
    assert.match(kubectl.stdout, /demo\s+Ready\s+2\s+2\s+\S+/);
    await interruptAndCheck(run, info);

    // Restart on the same CAIRN_HOME: the same cluster comes back with the object.
    rmSync(join(home, 'local', 'cluster.json'));
    run = startScript(home, args);
    info = await clusterInfo(home, run, 90_000);
    const again = info.processes.filter((p) => p.role === 'node');
    assert.is(
      await readObject(s3(again[1]!.api, info.accessKey, info.secretKey), 'photos', 'hello.txt'),
      'hello from npm start',
      'the object survives a restart',
    );
    await interruptAndCheck(run, info);
  } finally {
    killHard(run);
    for (const p of [...(info?.processes ?? []), ...((info?.operators as { pid?: number }[] | undefined) ?? [])])
      if (p.pid && alive(p.pid))
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    rmSync(home, { recursive: true, force: true });
  }
});

test('npm start -- --direct: 1 root + 2 nodes, S3 through two nodes, Ctrl-C leaves nothing', async () => {
  const home = mkdtempSync(join(tmpdir(), 'cairn-start-direct-'));
  const prefix = loopbackAddress().replace(/\d+$/, '');
  let run: Run | undefined;
  let info: ClusterInfo | undefined;
  try {
    run = startScript(home, ['--direct', '--roots', '1', '--nodes', '2', '--replicas', '2', '--host-prefix', prefix, '--first-host', '20']);
    info = await clusterInfo(home, run, 60_000);
    assert.is(info.mode, 'direct');
    assert.equal(
      info.processes.map((p) => p.role),
      ['root', 'node', 'node'],
    );
    const [a, b] = info.processes.filter((p) => p.role === 'node');
    const first = s3(a!.api, info.accessKey, info.secretKey);
    await first.makeBucket('direct', 'us-east-1');
    await first.putObject('direct', 'k', Buffer.from('direct path'));
    assert.is(await readObject(s3(b!.api, info.accessKey, info.secretKey), 'direct', 'k'), 'direct path');
    // The terminal gets a summary, not every process's JSON log lines: those are in the log files.
    assert.not.match(run.output(), /^\{"level"/m, 'no JSON log lines on the terminal');
    const logs = join(home, 'local', 'logs');
    assert.equal(readdirSync(logs).sort(), ['node-0.log', 'node-1.log', 'root-0.log']);
    assert.match(readFileSync(join(logs, 'node-0.log'), 'utf8'), /node started/);
    // A process that dies is restarted, and cluster.json names the one running now.
    const old = a!.pid!;
    process.kill(old, 'SIGKILL');
    info = await waitFor(
      () => {
        const now = JSON.parse(readFileSync(join(home, 'local', 'cluster.json'), 'utf8')) as ClusterInfo;
        const pid = now.processes.find((p) => p.name === a!.name)?.pid;
        return pid && pid !== old && alive(pid) ? now : undefined;
      },
      { what: 'cluster.json with the restarted pid', timeoutMs: 20_000, intervalMs: 200 },
    );
    assert.match(run.output(), /node-0 exited \(SIGKILL\); restarting/);
    await interruptAndCheck(run, info);
    // Ctrl-C reached each process once, as the launcher's one SIGTERM (not also the terminal's SIGINT).
    for (const f of readdirSync(logs)) assert.not.match(readFileSync(join(logs, f), 'utf8'), /second signal/, f);
  } finally {
    killHard(run);
    for (const p of info?.processes ?? [])
      if (p.pid && alive(p.pid))
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    rmSync(home, { recursive: true, force: true });
  }
});

test('npm start -- --direct that fails stops what it started and says why', async () => {
  const home = mkdtempSync(join(tmpdir(), 'cairn-start-fail-'));
  const prefix = loopbackAddress().replace(/\d+$/, '');
  const [rootHost, node0Host, node1Host] = [30, 31, 32].map((i) => `${prefix}${i}`);
  // Something else holds node-1's cluster port: it exits at every start (EADDRINUSE).
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(19_100, node1Host, () => r()));
  let run: Run | undefined;
  try {
    run = startScript(home, [
      '--direct',
      '--roots',
      '1',
      '--nodes',
      '2',
      '--replicas',
      '2',
      '--host-prefix',
      prefix,
      '--first-host',
      '30',
      '--cluster-port',
      '19100',
      '--api-port',
      '19000',
      '--timeout',
      '6',
    ]);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      run.exited,
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), 60_000);
      }),
    ]);
    clearTimeout(timer);
    assert.is(code, 1, run.output().slice(-2000));
    assert.match(run.output(), /node-1 did not become ready on .* within 6 s \(it exited \d+ times?\)/);
    assert.match(run.output(), /node-1: FATAL .*EADDRINUSE/, 'the reason is on the terminal');
    assert.not.match(run.output(), /^\s+at /m, 'no stack trace of the launcher');
    // Nothing it started is left listening.
    for (const host of [rootHost, node0Host]) {
      const refused = await new Promise<boolean>((r) => {
        const c = connect(19_100, host!);
        c.once('connect', () => {
          c.destroy();
          r(false);
        });
        c.once('error', () => r(true));
      });
      assert.ok(refused, `${host}:19100 is closed`);
    }
  } finally {
    killHard(run);
    squatter.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('bad flags are refused with a clear message', async () => {
  const home = mkdtempSync(join(tmpdir(), 'cairn-start-flags-'));
  try {
    for (const [args, msg] of [
      [['--nodes', 'x'], /--nodes must be an integer/],
      [['--nodes', '1', '--replicas', '2'], /--replicas 2 needs at least as many nodes/],
      [['--kube-host', '10.0.0.1'], /loopback/],
    ] as const) {
      const run = startScript(home, [...args]);
      assert.is(await run.exited, 2, `exit 2 for ${args.join(' ')}`);
      assert.match(run.output(), msg);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
