import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkStore } from '../chunks/store.ts';
import { readZoneFile, VolumeCapacity } from './facts.ts';

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-facts-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

test('capacity is the volume size when the file system is larger, the file system otherwise; the file is read at every call', async () => {
  const store = await ChunkStore.open(join(dir, 'data'));
  const fs = await store.capacityBytes();
  const sizeFile = join(dir, 'volume-size');
  const volume = new VolumeCapacity(store, sizeFile);
  assert.is(await volume.capacityBytes(), 0, 'no file yet: unknown (not the host disk an unenforced claim sits on)');
  await writeFile(sizeFile, `${300 * MiB}\n`);
  assert.is(await volume.capacityBytes(), 300 * MiB);
  await writeFile(sizeFile, `${400 * MiB}`);
  assert.is(await volume.capacityBytes(), 400 * MiB, 'a grown volume counts at once');
  await writeFile(sizeFile, String(fs * 4));
  assert.is(await volume.capacityBytes(), fs, 'a claim larger than its file system: the file system');
  await writeFile(sizeFile, '10Gi');
  assert.is(await volume.capacityBytes(), 0, 'not a byte count: unknown');
  assert.is(await new VolumeCapacity(store).capacityBytes(), fs, 'no file given: the file system');
});

test('free space is what is left of the volume when that is less than the file system has free', async () => {
  const store = await ChunkStore.open(join(dir, 'data'));
  const body = randomBytes(64 * 1024);
  await store.put(createHash('sha256').update(body).digest('hex'), body, body.length);
  const sizeFile = join(dir, 'volume-size');
  await writeFile(sizeFile, String(MiB));
  const volume = new VolumeCapacity(store, sizeFile);
  assert.is(await volume.freeBytes(), MiB - store.usedBytes());
  await writeFile(sizeFile, '1');
  assert.is(await volume.freeBytes(), 0, 'never negative');
  await rm(sizeFile);
  // The file system's free space moves while other processes write: the same, give or take that.
  const [volumeFree, fsFree] = [await volume.freeBytes(), await store.freeBytes()];
  assert.ok(Math.abs(volumeFree - fsFree) < 256 * MiB && volumeFree > MiB, `no file: the file system's free space (${volumeFree} vs ${fsFree})`);
});

test('the zone file: its trimmed content, empty for no zone; waited for until it appears', async () => {
  const file = join(dir, 'zone');
  await writeFile(file, 'eu-west-1a\n');
  assert.is(await readZoneFile(file), 'eu-west-1a');
  await writeFile(file, '');
  assert.is(await readZoneFile(file), '', 'a machine without a zone label');
  const later = join(dir, 'later');
  const writing = new Promise<void>((resolve) => setTimeout(() => void writeFile(later, 'b').then(() => resolve()), 150));
  assert.is(await readZoneFile(later, { waitMs: 10_000, intervalMs: 20 }), 'b');
  await writing;
});

test('the zone file: never there, or naming no single valid zone, is a clear error', async () => {
  const t0 = Date.now();
  await readZoneFile(join(dir, 'never'), { waitMs: 200, intervalMs: 20 }).then(
    () => assert.unreachable(),
    (e) => assert.match(String(e), /did not appear within/),
  );
  assert.ok(Date.now() - t0 < 5_000, 'bounded');
  await writeFile(join(dir, 'two'), 'a,b');
  await readZoneFile(join(dir, 'two')).then(
    () => assert.unreachable(),
    (e) => assert.match(String(e), /names 2 zones/),
  );
  await writeFile(join(dir, 'bad'), 'not a zone!');
  await readZoneFile(join(dir, 'bad')).then(
    () => assert.unreachable(),
    (e) => assert.match(String(e), /zone file .*bad: zone "not a zone!" is not a valid zone name/),
  );
});

test.run();
