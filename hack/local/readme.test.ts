// README.md as a newcomer follows it: `npm start` run as written (on a CAIRN_HOME of its own), then
// every fenced `sh` and `ts` block in the order the README gives them, each as a person would run it
// (bash from the repository; the TypeScript saved as a file and run with `node`). A block that fails
// fails the test with its output. The two indented set-up commands are checked against what runs
// them: `npm start` here (without `npm ci`: reinstalling node_modules under a running test suite
// would pull it from under the other test files; CI runs `npm ci` first) and `npm test` in .ci/run.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../testing/net.ts';
import { kubectlBinary } from '../testing/tools.ts';
import type { ClusterInfo } from './home.ts';

const repo = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(join(repo, 'README.md'), 'utf8');

interface Block {
  lang: string;
  code: string;
  line: number;
}

/** The fenced code blocks, with their language and first line number. */
export function fencedBlocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    out.push({ lang: open[1]!, code: body.join('\n'), line: start + 1 });
  }
  return out;
}

/** The indented (4-space) one-line code blocks: the set-up commands. */
const indentedCommands = (md: string) =>
  md
    .split('\n')
    .filter((l) => /^ {4}\S/.test(l))
    .map((l) => l.trim());

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const home = mkdtempSync(join(tmpdir(), 'cairn-readme-'));
let start: ChildProcess | undefined;
let startOutput = '';

test.after(async () => {
  if (start && start.exitCode === null) {
    start.kill('SIGINT');
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        start!.kill('SIGKILL');
        r();
      }, 40_000);
      start!.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
  rmSync(home, { recursive: true, force: true });
});

test('the set-up commands are the ones that run: npm start here, npm test in CI', () => {
  assert.equal(indentedCommands(readme), ['npm ci && npm start', 'npm ci && npm test']);
  const ci = readFileSync(join(repo, '.ci/run'), 'utf8');
  assert.match(ci, /^npm ci\b/m);
  assert.match(ci, /^npm test\b/m);
});

test('every sh and ts block of the README runs against the cluster `npm start` brings up', async () => {
  const blocks = fencedBlocks(readme).filter((b) => b.lang === 'sh' || b.lang === 'ts');
  assert.ok(blocks.length >= 4, `the README's runnable blocks (found ${blocks.length})`);
  const others = fencedBlocks(readme).filter((b) => b.lang !== 'sh' && b.lang !== 'ts' && b.lang !== '');
  assert.equal(
    others.map((b) => `${b.lang}@${b.line}`),
    [],
    'every block with a language is run',
  );

  // kubectl (a devDependency's binary when the machine has none) and Node 24 first on PATH, as npm scripts have them.
  const kubectlDir = join(await kubectlBinary(), '..');
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_HOME: home, PATH: `${join(process.execPath, '..')}:${kubectlDir}:${process.env.PATH}` };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'KUBECONFIG', 'CAIRN_ADMIN_URL', 'CAIRN_CLUSTER_SECRET']) delete env[k];

  start = spawn('npm', ['start'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  start.stdout!.on('data', (d) => (startOutput += d));
  start.stderr!.on('data', (d) => (startOutput += d));
  const infoFile = join(home, 'local', 'cluster.json');
  await waitFor(
    () => {
      if (start!.exitCode !== null) throw new Error(`npm start exited ${start!.exitCode}:\n${startOutput.slice(-3000)}`);
      return existsSync(infoFile) && startOutput.includes('Cairn is serving');
    },
    { what: 'npm start serving', timeoutMs: 240_000, intervalMs: 500 },
  );
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as ClusterInfo;
  assert.match(startOutput, `console      ${info.console}`, 'npm start prints the console URL');
  const page = await fetch(info.console as string);
  assert.is(page.status, 200, 'the console answers');

  const scratch = join(home, 'readme-ts');
  mkdirSync(scratch);
  symlinkSync(join(repo, 'node_modules'), join(scratch, 'node_modules'));
  for (const [i, b] of blocks.entries()) {
    const r =
      b.lang === 'sh'
        ? await run('bash', ['-euo', 'pipefail', '-c', b.code], env, 120_000)
        : (writeFileSync(join(scratch, `block-${i}.ts`), b.code), await run(process.execPath, [join(scratch, `block-${i}.ts`)], env, 60_000));
    assert.is(r.code, 0, `README.md:${b.line} (${b.lang}) failed:\n${b.code}\n--- output:\n${r.output.slice(-4000)}`);
    if (b.code.includes('head-object --bucket albums')) assert.match(r.output, `"ContentLength": ${Buffer.byteLength(readme)}`, 'the README stored whole');
    if (b.lang === 'ts') assert.match(r.output, /^4 bytes in photos$/m);
    if (b.code.includes('cairn -- status')) assert.match(r.output, 'bucket alice-files: owner alice, 3 replicas');
    if (b.code.includes('kubectl get storageclusters,buckets')) assert.match(r.output, /storagecluster\.storage\.cairn\.dev\/demo\s+Ready/);
  }
});

test.run();
