// Sources stripped ahead (node-runtime/bin/stripped-sources.js): a process that uses them loads a
// source's stripped form when it matches the source, and the source itself once it was edited.
// Each case runs in a child process, as module hooks and loaded modules are for a whole process.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stripSources, strippedPath } from '../../bin/stripped-sources.js';

const hooks = new URL('../../bin/stripped-sources.js', import.meta.url).href;

/** A fake app root with node-runtime/src/value.ts (and a test file beside it). */
function fakeApp(): { root: string; dir: string; source: string } {
  const root = mkdtempSync(join(tmpdir(), 'cairn-stripped-'));
  mkdirSync(join(root, 'node-runtime/src'), { recursive: true });
  const source = join(root, 'node-runtime/src/value.ts');
  writeFileSync(source, 'export const value: number = 1;\n');
  writeFileSync(join(root, 'node-runtime/src/value.test.ts'), 'throw new Error("not for a process");\n');
  return { root, dir: join(root, 'stripped'), source };
}

/** What `value.ts` exports in a fresh process that uses the stripped forms, and how its sources loaded. */
function load(root: string, dir: string): { value: number; stats: { ahead: number; atLoad: number } } {
  const script = `
    const { useStrippedSources } = await import(${JSON.stringify(hooks)});
    useStrippedSources(${JSON.stringify(dir)}, ${JSON.stringify(root + '/')});
    const { value } = await import(${JSON.stringify(join(root, 'node-runtime/src/value.ts'))});
    console.log(JSON.stringify({ value, stats: globalThis[Symbol.for('cairn.strippedSources')] }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

test('every source but tests gets a stripped form named by its content, with lines kept', () => {
  const { root, dir, source } = fakeApp();
  try {
    assert.is(stripSources(dir, root), 1);
    const files = readdirSync(join(dir, 'node-runtime/src'));
    assert.equal(files, [strippedPath(dir, root, source, 'export const value: number = 1;\n').split('/').pop()]);
    assert.match(files[0]!, /^value\.ts\.[0-9a-f]{20}\.js$/);
    assert.is.not(strippedPath(dir, root, source, 'a'), strippedPath(dir, root, source, 'b'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a process loads the stripped form that matches the source, and the source once it is edited', () => {
  const { root, dir, source } = fakeApp();
  try {
    stripSources(dir, root);
    assert.equal(load(root, dir), { value: 1, stats: { ahead: 1, atLoad: 0 } });
    // Prove which was run: a stripped form that says something else is what the process sees.
    writeFileSync(strippedPath(dir, root, source, 'export const value: number = 1;\n'), 'export const value = 2;\n');
    assert.is(load(root, dir).value, 2);
    // An edited source has no stripped form of its own: Node strips it as it loads.
    writeFileSync(source, 'export const value: number = 3;\n');
    assert.equal(load(root, dir), { value: 3, stats: { ahead: 0, atLoad: 1 } });
    // No stripped forms at all: no hook (and nothing to report).
    rmSync(dir, { recursive: true });
    const none = load(root, dir);
    assert.is(none.value, 3);
    assert.is(none.stats, undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
