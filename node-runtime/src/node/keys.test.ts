import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { masterKey, masterKeyFromSecret } from './keys.ts';

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cairn-keys-'));
  dirs.push(d);
  return d;
};
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e.message,
  );

test('without a given key: derived from the cluster secret and kept, so a later secret changes nothing', async () => {
  const dir = dataDir();
  const derived = await masterKey(dir, { secret: 's1' });
  assert.ok(derived.equals(masterKeyFromSecret('s1')));
  assert.ok((await masterKey(dir, { secret: 'another' })).equals(derived), 'the kept key wins');
});

test('a given key must be the one the data dir was used with: the kept one', async () => {
  const dir = dataDir();
  const kept = await masterKey(dir, { secret: 's1' });
  // The operator hands an existing cluster's pods the key they derived: accepted, in hex or base64.
  assert.ok((await masterKey(dir, { masterKey: kept.toString('base64'), secret: 's1' })).equals(kept));
  assert.ok((await masterKey(dir, { masterKey: kept.toString('hex') })).equals(kept));
  const other = randomBytes(32).toString('base64');
  assert.match((await refusal(masterKey(dir, { masterKey: other }))) ?? '', `is not the master key ${dir} was used with`);
});

test('a given key is remembered by its fingerprint only, and another is refused from then on', async () => {
  const dir = dataDir();
  const key = randomBytes(32);
  assert.ok((await masterKey(dir, { masterKey: key.toString('base64'), secret: 's1' })).equals(key));
  assert.equal(readdirSync(dir), ['master.key.check'], 'the key itself is not written');
  assert.not.match(readFileSync(join(dir, 'master.key.check'), 'utf8'), key.toString('base64'));
  assert.ok((await masterKey(dir, { masterKey: key.toString('hex') })).equals(key));
  assert.match((await refusal(masterKey(dir, { masterKey: masterKeyFromSecret('s1').toString('base64') }))) ?? '', 'master.key.check');
  assert.match((await refusal(masterKey(dir, { masterKey: 'short' }))) ?? '', 'must be 32 bytes');
});

test.run();
