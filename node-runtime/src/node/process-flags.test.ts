import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCairnProcess } from '../../../hack/testing/cairn.ts';
import { APPLIED_ENV, OLD_GENERATION_FLOOR_FLAG, tunedInvocation, YOUNG_GENERATION_FLAG } from './process-flags.ts';

const base = {
  execPath: '/usr/bin/node',
  execArgv: [] as string[],
  argv: ['/usr/bin/node', '/app/bin/cairn.js', 'server', '--data', '/d'],
  env: { PATH: '/bin' },
};

test('a server replaces itself once with the young-generation and old-generation flags and malloc arenas, keeping its arguments and environment', () => {
  const next = tunedInvocation(base)!;
  assert.equal(next.file, '/usr/bin/node');
  assert.equal(next.args, ['/usr/bin/node', YOUNG_GENERATION_FLAG, OLD_GENERATION_FLOOR_FLAG, '/app/bin/cairn.js', 'server', '--data', '/d']);
  assert.equal(next.env.PATH, '/bin');
  assert.equal(next.env.MALLOC_ARENA_MAX, '2');
  assert.equal(next.env.MALLOC_MMAP_THRESHOLD_, '131072');
  assert.equal(next.env[APPLIED_ENV], '1');
  assert.is(tunedInvocation({ ...base, env: next.env }), undefined, 'the replaced process runs as it is');
});

test('what the user set wins: their own young-generation size and old-generation floor, in argv or NODE_OPTIONS, and their malloc settings', () => {
  assert.equal(tunedInvocation({ ...base, execArgv: ['--max-semi-space-size=32'] })!.args, [
    '/usr/bin/node',
    OLD_GENERATION_FLOOR_FLAG,
    '--max-semi-space-size=32',
    '/app/bin/cairn.js',
    'server',
    '--data',
    '/d',
  ]);
  assert.not.ok(tunedInvocation({ ...base, env: { NODE_OPTIONS: '--max-semi-space-size=1' } })!.args.includes(YOUNG_GENERATION_FLAG));
  assert.equal(tunedInvocation({ ...base, env: { MALLOC_ARENA_MAX: '8' } })!.env.MALLOC_ARENA_MAX, '8');
  const prof = tunedInvocation({ ...base, execArgv: ['--cpu-prof'] })!;
  assert.equal(prof.args.slice(1, 4), [YOUNG_GENERATION_FLAG, OLD_GENERATION_FLOOR_FLAG, '--cpu-prof'], 'node flags are kept');
  const own = tunedInvocation({ ...base, execArgv: ['--initial-old-space-size=16'] })!.args;
  assert.equal(own.slice(1, 3), [YOUNG_GENERATION_FLAG, '--initial-old-space-size=16']);
});

test('`cairn server` as users start it runs with the settings in the same process (pid) that was started', async () => {
  const p = await startCairnProcess();
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes(YOUNG_GENERATION_FLAG), cmdline.join(' '));
    assert.ok(cmdline.includes(OLD_GENERATION_FLOOR_FLAG), 'V8 took the flag (an unknown one stops node at start)');
    assert.ok(cmdline.includes('server'));
    const environ = readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('MALLOC_ARENA_MAX=2'));
    const res = await fetch(`${p.cluster}/readyz`);
    assert.is(res.status, 200, 'the replaced process serves');
  } finally {
    await p.cleanup();
  }
});

test.run();
