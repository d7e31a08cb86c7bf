// The image's build step and start as they are run: `node node-runtime/bin/stripped-sources.js`
// (the Dockerfile's RUN line) strips every source ahead, and `cairn server` then loads them all
// from there (no TypeScript compiler in the process) and serves as usual.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { s3Client, startCairnProcess } from '../../../hack/testing/cairn.ts';

const repo = new URL('../../../', import.meta.url).pathname;

/** The `sources` field of the server's "serving" log line. */
function sources(output: string): { ahead: number; atLoad: number } | undefined {
  const line = output.split('\n').find((l) => l.includes('"msg":"serving"'));
  assert.ok(line, `no "serving" line in:\n${output}`);
  return JSON.parse(line).sources;
}

test('`cairn server` runs its sources as the image build stripped them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-stripped-'));
  const env = { CAIRN_STRIPPED_DIR: dir, CAIRN_LOG_LEVEL: 'info' };
  const built = execFileSync(process.execPath, ['node-runtime/bin/stripped-sources.js'], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.match(built, new RegExp(`^stripped \\d+ sources into ${dir}`));
  const p = await startCairnProcess({ env });
  try {
    const s = sources(p.output());
    assert.ok(s && s.ahead > 100, `sources loaded ahead: ${JSON.stringify(s)}`);
    assert.is(s!.atLoad, 0, 'no source was stripped as it loaded');
    const s3 = s3Client(p);
    await s3.makeBucket('stripped');
    await s3.putObject('stripped', 'k', Buffer.from('hello'));
    const parts: Buffer[] = [];
    for await (const c of await s3.getObject('stripped', 'k')) parts.push(c as Buffer);
    assert.is(Buffer.concat(parts).toString(), 'hello');
  } finally {
    await p.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without the build step, `cairn server` strips its sources as they load', async () => {
  const p = await startCairnProcess({ env: { CAIRN_STRIPPED_DIR: join(tmpdir(), 'cairn-no-such-dir'), CAIRN_LOG_LEVEL: 'info' } });
  try {
    assert.is(sources(p.output()), undefined);
    await s3Client(p).makeBucket('plain');
  } finally {
    await p.cleanup();
  }
});

test.run();
