// The data disk monitor with the file system faked: full below the reserve and usable again only
// above 1.5× it; a data directory that vanished or was replaced, or an I/O error, fails the disk
// for good; listeners hear each change once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiskMonitor, defaultReserve, type DiskStatus } from './disk.ts';

const MiB = 1024 * 1024;

function fakeDisk() {
  const fs = { free: 1000 * MiB, dir: { dev: 1, ino: 7 } as { dev: number; ino: number } | undefined };
  const monitor = new DiskMonitor({
    dir: '/data',
    reserveBytes: 100 * MiB,
    intervalMs: 60_000,
    statfs: async () => ({ bavail: fs.free / 4096, bsize: 4096, blocks: (10_000 * MiB) / 4096 }),
    stat: async () => {
      if (!fs.dir) throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
      return fs.dir;
    },
  });
  return { fs, monitor };
}

test('full below the reserve, usable again above 1.5× it', async () => {
  const { fs, monitor } = fakeDisk();
  const seen: DiskStatus['state'][] = [];
  monitor.onChange((s) => seen.push(s.state));
  assert.is((await monitor.start()).state, 'ok');
  fs.free = 99 * MiB;
  const full = await monitor.check();
  assert.is(full.state, 'full');
  assert.match(full.reason, /99 MiB free.*reserve of 100 MiB/);
  fs.free = 140 * MiB;
  assert.is((await monitor.check()).state, 'full', 'not above 1.5× the reserve yet: no flapping at the line');
  fs.free = 151 * MiB;
  assert.is((await monitor.check()).state, 'ok');
  assert.equal(seen, ['full', 'ok']);
  monitor.stop();
});

test('a data directory renamed away or replaced fails the disk for good', async () => {
  const gone = fakeDisk();
  await gone.monitor.start();
  gone.fs.dir = undefined;
  const s = await gone.monitor.check();
  assert.is(s.state, 'failed');
  assert.match(s.reason, /data directory \/data is gone/);
  gone.fs.dir = { dev: 1, ino: 7 };
  assert.is((await gone.monitor.check()).state, 'failed', 'sticky until the node restarts');
  gone.monitor.stop();

  const replaced = fakeDisk();
  await replaced.monitor.start();
  replaced.fs.dir = { dev: 2, ino: 7 };
  assert.match((await replaced.monitor.check()).reason, /replaced under the running node/);
  replaced.monitor.stop();
});

test('an I/O error from the store fails the disk; ENOSPC only makes it look again', async () => {
  const { fs, monitor } = fakeDisk();
  await monitor.start();
  fs.free = 10 * MiB;
  monitor.sawError(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
  await new Promise((r) => setImmediate(r));
  assert.is((await monitor.check()).state, 'full');
  monitor.sawError(Object.assign(new Error('i/o error'), { code: 'EIO' }));
  const s = await monitor.check();
  assert.is(s.state, 'failed');
  assert.match(s.reason, /EIO/);
  monitor.stop();
});

test('the default reserve: 1 % of the disk, within 256 MiB and 8 GiB', () => {
  assert.is(defaultReserve(10 * 1024 ** 3), 256 * MiB);
  assert.is(defaultReserve(100 * 1024 ** 3), 1024 ** 3);
  assert.is(defaultReserve(10 * 1024 ** 4), 8 * 1024 ** 3);
});

test.run();
