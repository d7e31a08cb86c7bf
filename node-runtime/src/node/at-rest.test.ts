import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { residentByMapping } from '../../../hack/bench/memory.ts';
import { s3Client, startCairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { giveBack, rangesOf, REST_AFTER_MS, RestWatch } from './at-rest.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the ranges a file is mapped at, from /proc/self/maps (a path with spaces; other files and anonymous maps left out)', () => {
  const maps = [
    '7f9d693d0000-7f9d693e0000 r--s 07670000 fe:00 2171470                    /data/meta/data.mdb',
    '7f9d693e0000-7f9d693f0000 r--s 07660000 fe:00 2171470                    /data/meta/lock.mdb',
    '7f9d70000000-7f9d70021000 rw-p 00000000 00:00 0 ',
    '55d0c0a00000-55d0c0a40000 rw-p 00000000 00:00 0                          [heap]',
    '7f9d69400000-7f9d69410000 r--s 00000000 fe:00 2171471                    /my data/meta/data.mdb',
    '7f9d693f0000-7f9d69400000 r--s 07650000 fe:00 2171470                    /data/meta/data.mdb',
  ].join('\n');
  assert.equal(rangesOf(maps, '/data/meta/data.mdb'), [
    { start: 0x7f9d693d0000, end: 0x7f9d693e0000 },
    { start: 0x7f9d693f0000, end: 0x7f9d69400000 },
  ]);
  assert.equal(rangesOf(maps, '/my data/meta/data.mdb'), [{ start: 0x7f9d69400000, end: 0x7f9d69410000 }]);
  assert.equal(rangesOf(maps, '/elsewhere/data.mdb'), []);
});

test('a node comes to rest once per quiet spell: not while a request is in flight, not again until it was busy', async () => {
  let rests = 0;
  const w = new RestWatch({ restAfterMs: 60, onRest: () => rests++ });
  try {
    const end = w.begin();
    await sleep(150);
    assert.is(rests, 0, 'a request in flight keeps the node busy');
    end();
    end(); // a second call of the same end changes nothing
    await sleep(30);
    assert.is(rests, 0, 'not before the quiet time');
    await sleep(120);
    assert.is(rests, 1);
    await sleep(150);
    assert.is(rests, 1, 'once per rest');
    w.begin()();
    await sleep(150);
    assert.is(rests, 2, 'busy again, then at rest again');
  } finally {
    w.stop();
  }
  const never = new RestWatch({ restAfterMs: 0, onRest: () => rests++ });
  never.begin()();
  await sleep(100);
  never.stop();
  assert.is(rests, 2, 'restAfterMs 0: never');
});

test('nodes of one process resting together: the process is collected and trimmed once, every map advised', () => {
  const t = Date.now() + 60_000; // past any giving back of an earlier test
  // Blocks of glibc's heap that become free below one still in use: only a trim gives them back.
  let freed: Buffer[] = Array.from({ length: 256 }, () => Buffer.allocUnsafeSlow(32 * 1024));
  const kept = Buffer.allocUnsafeSlow(32 * 1024);
  freed = [];
  const first = giveBack([], t);
  assert.ok(first.collected);
  assert.ok(first.trimmed, 'glibc released the freed blocks');
  assert.is(kept.length + freed.length, 32 * 1024);
  const second = giveBack(['/nonexistent/data.mdb'], t + 100);
  assert.equal(second, { collected: false, trimmed: false, advisedBytes: 0 });
  assert.ok(giveBack([], t + 5_000).collected, 'collected again once the spell is over');
});

/** Resident KiB of a process's mappings named `name` (a path or `[heap]`). */
const residentKiB = (pid: number, name: string) => residentByMapping(pid).get(name) ?? 0;

test('`cairn server` as users start it gives back the metadata map and glibc`s free memory once at rest, and serves on', async () => {
  const p = await startCairnProcess();
  try {
    const s3 = s3Client(p);
    await s3.makeBucket('rest');
    const body = (i: number) => Buffer.alloc(4096, i % 251);
    const n = 1500;
    let next = 0;
    const each = async (fn: (i: number) => Promise<unknown>) =>
      Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = next++; i < n; i = next++) await fn(i);
        }),
      );
    await each((i) => s3.putObject('rest', `k${i}`, body(i)));
    next = 0;
    await each(async (i) => {
      for await (const _ of await s3.getObject('rest', `k${i}`));
    });
    const map = join(p.dataDir, 'meta', 'data.mdb');
    const busyMap = residentKiB(p.pid, map);
    const busyHeap = residentKiB(p.pid, '[heap]');
    assert.ok(busyMap > 4096, `the reads mapped the bodies' pages: ${busyMap} KiB`);
    // The default quiet time: nothing injected.
    const t0 = Date.now();
    const restMap = await waitFor(
      () => {
        const kib = residentKiB(p.pid, map);
        return kib < busyMap / 10 ? { kib } : undefined;
      },
      { timeoutMs: REST_AFTER_MS + 15_000, intervalMs: 250, what: `the map given back (${busyMap} KiB resident while busy)` },
    );
    assert.ok(Date.now() - t0 > REST_AFTER_MS / 2, 'not before the node was at rest');
    const restHeap = residentKiB(p.pid, '[heap]');
    // (measured: ~47 → ~11 MiB; without the trim it stays where it was, freed blocks and all)
    assert.ok(restHeap < busyHeap * 0.75, `glibc's heap given back: ${busyHeap} → ${restHeap} KiB`);
    // Every object reads back whole from the pages read again.
    next = 0;
    await each(async (i) => {
      const parts: Buffer[] = [];
      for await (const b of await s3.getObject('rest', `k${i}`)) parts.push(b as Buffer);
      if (!Buffer.concat(parts).equals(body(i))) throw new Error(`k${i} read back wrong`);
    });
    assert.ok(residentKiB(p.pid, map) > restMap.kib, 'the reads mapped the pages again');
  } finally {
    await p.cleanup();
  }
});

test.run();
