// The test command: type-check, then every `*.test.ts` under the source folders, each in its own
// process (integration suites start real servers, so isolation matters), with a time limit per file.
// Ends with the one line CI reads: `N passed, M failed`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const roots = ['node-runtime', 'operator', 'hack', 'console'];
const filter = process.argv.slice(2);
const jobs = Number(process.env.CAIRN_TEST_JOBS ?? 2);
const fileTimeoutMs = Number(process.env.CAIRN_TEST_FILE_TIMEOUT_MS ?? 300_000);

function findTests(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

interface Outcome {
  name: string;
  passed: number;
  failed: number;
  output: string;
  ms: number;
}

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

function run(name: string, cmd: string, args: string[]): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[test runner] ${name} exceeded ${fileTimeoutMs} ms; killed\n`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, fileTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* group already gone */
      }
      resolve({ name, ms: Date.now() - started, output, ...count(strip(output), code ?? 1) });
    });
  });
}

// uvu prints "Total: N / Passed: N / Skipped: N" per process. A file that dies before its
// summary, or exits non-zero with every test "passed", counts as one failure.
function count(output: string, code: number): { passed: number; failed: number } {
  const totals = [...output.matchAll(/Total:\s+(\d+)/g)].map((m) => Number(m[1]));
  const passes = [...output.matchAll(/Passed:\s+(\d+)/g)].map((m) => Number(m[1]));
  const skips = [...output.matchAll(/Skipped:\s+(\d+)/g)].map((m) => Number(m[1]));
  if (totals.length === 0) return code === 0 ? { passed: 0, failed: 1 } : { passed: 0, failed: 1 };
  const total = totals.reduce((a, b) => a + b, 0);
  const passed = passes.reduce((a, b) => a + b, 0);
  const skipped = skips.reduce((a, b) => a + b, 0);
  let failed = total - passed - skipped;
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

async function main() {
  const files = roots
    .flatMap((r) => findTests(join(root, r)))
    .sort()
    .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
  const outcomes: Outcome[] = [];
  const report = (o: Outcome) => {
    outcomes.push(o);
    const mark = o.failed ? 'FAIL' : 'ok  ';
    console.log(`${mark} ${o.name}  (${o.passed} passed, ${o.failed} failed, ${(o.ms / 1000).toFixed(1)} s)`);
    if (o.failed)
      console.log(
        o.output
          .split('\n')
          .map((l) => '    | ' + l)
          .join('\n'),
      );
  };

  if (filter.length === 0 || filter.includes('typecheck')) {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    // The runtime and the console's browser code (DOM, preact JSX) have a tsconfig each.
    for (const project of ['tsconfig.json', 'console/tsconfig.json']) {
      const o = await run(`typecheck (tsc --noEmit -p ${project})`, process.execPath, [tsc, '--noEmit', '-p', project]);
      // tsc prints no uvu summary: its exit code is the verdict.
      const ok = !/error TS\d+/.test(o.output) && o.output.trim() === '';
      report({ ...o, passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
    }
  }

  // House rules a machine checks (biome.json): the formatter's layout (160 columns) and the linter.
  // `npm run format` applies both where it safely can.
  if (filter.length === 0 || filter.includes('lint')) {
    const o = await run('lint (biome ci)', process.execPath, [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'ci', '--colors=off', '.']);
    const ok = /Checked \d+ files?/.test(o.output) && !/error|×/i.test(o.output.replace(/Found \d+ info\./, ''));
    report({ ...o, passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
  }

  // A failed integration file is run once more, alone in its slot: on a loaded 2-core machine a
  // multi-process suite can miss a deadline. A pass on the second try still counts, but is named
  // FLAKY in the output so it gets fixed, not forgotten. CAIRN_TEST_RETRIES=0 turns this off.
  const retries = Number(process.env.CAIRN_TEST_RETRIES ?? 1);
  const flaky: string[] = [];
  const queue = [...files];
  await Promise.all(
    Array.from({ length: Math.max(1, jobs) }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        let o = await run(relative(root, f), process.execPath, [f]);
        for (let i = 0; o.failed && i < retries; i++) {
          console.log(
            `retry ${o.name} after ${o.failed} failure(s):\n${o.output
              .split('\n')
              .map((l) => '    | ' + l)
              .join('\n')}`,
          );
          o = await run(relative(root, f), process.execPath, [f]);
          if (!o.failed) flaky.push(o.name);
        }
        report(o);
      }
    }),
  );
  if (flaky.length) console.log(`FLAKY (passed on retry): ${flaky.join(', ')}`);

  const passed = outcomes.reduce((a, o) => a + o.passed, 0);
  const failed = outcomes.reduce((a, o) => a + o.failed, 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
