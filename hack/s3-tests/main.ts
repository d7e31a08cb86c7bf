// `npm run s3-tests`: the public S3 conformance suite (../shared/s3-tests, ceph/s3-tests) against a
// fresh `npm start -- --direct` cluster (1 root + 3 nodes, R=2) in a CAIRN_HOME of its own. The six
// users of the suite's users.conf are registered with the real CLI first (each its own user, with
// exactly those key pairs). Not part of `npm test`: it takes ~15 minutes. CAIRN_S3_TESTS_HOSTS picks the
// loopback prefix of the cluster (default 127.0.77.), so two runs on one machine do not meet.
//
//   npm run s3-tests [-- --all] [-- -- -k versioning]       (arguments after the first -- go to ../shared/s3-tests/run)
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from '../../operator/src/controller/backoff.ts';

const repo = new URL('../..', import.meta.url).pathname;
const suite = resolve(process.env.CAIRN_S3_TESTS ?? join(repo, '..', 'shared', 's3-tests'));

export interface SuiteUser {
  section: string;
  userId: string;
  displayName?: string;
  email?: string;
  accessKey: string;
  secretKey: string;
}

/** The users of the suite's users.conf (an INI file): every section with a key pair. */
export function suiteUsers(conf: string): SuiteUser[] {
  const out: SuiteUser[] = [];
  let section = '';
  let cur: Record<string, string> = {};
  const flush = () => {
    if (cur.access_key && cur.secret_key && cur.user_id) {
      out.push({ section, userId: cur.user_id, displayName: cur.display_name, email: cur.email, accessKey: cur.access_key, secretKey: cur.secret_key });
    }
  };
  for (const line of conf.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const head = /^\[(.+)\]$/.exec(t);
    if (head) {
      flush();
      section = head[1];
      cur = {};
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(t);
    if (kv) cur[kv[1]] = kv[2];
  }
  flush();
  return out;
}

async function main(): Promise<number> {
  if (!existsSync(join(suite, 'run'))) {
    console.error(`no s3-tests at ${suite} (set CAIRN_S3_TESTS)`);
    return 2;
  }
  const args = process.argv.slice(2);
  const home = mkdtempSync(join(tmpdir(), 'cairn-s3-tests-'));
  const env = { ...process.env, CAIRN_HOME: home };
  const cluster = spawn(process.execPath, [join(repo, 'hack/local/start.ts'), '--direct', '--host-prefix', process.env.CAIRN_S3_TESTS_HOSTS ?? '127.0.77.'], {
    cwd: repo,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  cluster.stdout.on('data', (d) => (output += d));
  cluster.stderr.on('data', (d) => (output += d));
  try {
    const info = join(home, 'local', 'cluster.json');
    for (let i = 0; !existsSync(info); i++) {
      if (cluster.exitCode !== null || i > 1200) {
        console.error(`the cluster did not come up:\n${output.slice(-3000)}`);
        return 1;
      }
      await sleep(250);
    }
    const { endpoint } = JSON.parse(readFileSync(info, 'utf8')) as { endpoint: string };
    const cairn = (...a: string[]) => promisify(execFile)(process.execPath, [join(repo, 'node-runtime/bin/cairn.js'), ...a], { env, encoding: 'utf8' });
    for (const u of suiteUsers(readFileSync(join(suite, 'users.conf'), 'utf8'))) {
      await cairn('user', 'create', u.userId, ...(u.displayName ? ['--display-name', u.displayName] : []), ...(u.email ? ['--email', u.email] : []));
      await cairn('keys', 'add', '--user', u.userId, '--id', u.accessKey, '--secret-key', u.secretKey);
      console.log(`registered ${u.section}: user ${u.userId}, key ${u.accessKey}`);
    }
    console.log(`running the suite against ${endpoint}`);
    const run = spawn(join(suite, 'run'), [endpoint, ...args], { stdio: 'inherit' });
    return await new Promise<number>((r) => run.on('exit', (code) => r(code ?? 1)));
  } finally {
    cluster.kill('SIGINT');
    await Promise.race([new Promise((r) => cluster.on('exit', r)), sleep(30_000)]);
    if (cluster.exitCode === null) cluster.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exit(await main());
