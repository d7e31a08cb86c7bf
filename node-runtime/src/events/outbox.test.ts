import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeMetrics } from '../observability/metrics.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { Outbox } from './outbox.ts';
import { encodeRecord } from './segment.ts';

interface Item {
  n: number;
  pad?: string;
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cairn-outbox-'));
  dirs.push(d);
  return d;
}
const metric = async (m: NodeMetrics, name: string) => {
  await m.text(); // runs the collectors that set the gauges
  return (await m.registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
};
const segments = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();

// The crash test's child: appends as fast as it can, printing each sequence number once append() resolved.
if (process.argv[2] === '--append-child') {
  const outbox = await Outbox.open<Item>({ dir: process.argv[3], segmentBytes: 64 * 1024, maxBytes: 64 << 20 });
  for (let n = 0; ; n++) {
    const batch = Array.from({ length: 1 + (n % 7) }, (_, i) => outbox.append({ n: n * 10 + i, pad: 'x'.repeat((n * 37) % 900) }));
    for (const seq of await Promise.all(batch)) process.stdout.write(`${seq}\n`);
  }
}

test('appends read back in order; concurrent appends share an fdatasync', async () => {
  const dir = await tempDir();
  const outbox = await Outbox.open<Item>({ dir });
  const probe = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const original = proto.datasync;
  let syncs = 0;
  proto.datasync = function (this: unknown) {
    syncs++;
    return original.call(this);
  };
  try {
    const seqs = await Promise.all(Array.from({ length: 500 }, (_, n) => outbox.append({ n })));
    assert.equal(
      seqs,
      Array.from({ length: 500 }, (_, n) => n),
    );
    assert.ok(syncs >= 1 && syncs <= 20, `500 concurrent appends took ${syncs} fdatasyncs`);
  } finally {
    proto.datasync = original;
  }
  assert.is(outbox.end, 500);
  const all: number[] = [];
  for (let from = 0; from < outbox.end; ) {
    const r = await outbox.read(from, 64);
    assert.is(r.skipped, 0);
    all.push(...r.entries.map((e) => e.value.n));
    from = r.next;
  }
  assert.equal(
    all,
    Array.from({ length: 500 }, (_, n) => n),
  );
  const middle = await outbox.read(130, 3);
  assert.equal(
    middle.entries.map((e) => e.seq),
    [130, 131, 132],
  );
  assert.is(middle.next, 133);
  await outbox.close();
});

test('reopening keeps entries, the sequence and flushed cursors; a torn tail is cut off', async () => {
  const dir = await tempDir();
  let outbox = await Outbox.open<Item>({ dir, segmentBytes: 4096, maxBytes: 1 << 20 });
  for (let n = 0; n < 100; n++) await outbox.append({ n, pad: 'y'.repeat(2 * n) });
  assert.ok((await segments(dir)).length > 3, 'several segments');
  assert.is(outbox.cursor('target:a'), 0);
  outbox.commit('target:a', 42);
  outbox.commit('target:a', 17); // never backwards
  await outbox.close();
  // A crash mid-append: half a record at the end of the active segment.
  const last = (await segments(dir)).at(-1)!;
  await appendFile(join(dir, last), encodeRecord(100, Date.now(), Buffer.from(JSON.stringify({ n: 100 }))).subarray(0, 30));
  outbox = await Outbox.open<Item>({ dir, segmentBytes: 4096, maxBytes: 1 << 20 });
  assert.is(outbox.end, 100);
  assert.is(outbox.cursor('target:a'), 42);
  assert.is(await outbox.append({ n: 100 }), 100);
  const r = await outbox.read(95, 10);
  assert.equal(
    r.entries.map((e) => e.value.n),
    [95, 96, 97, 98, 99, 100],
  );
  await outbox.close();
});

test('a child killed mid-append (SIGKILL) loses no acknowledged entry', async () => {
  const dir = await tempDir();
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--append-child', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitFor(() => out.split('\n').length > 3000, { timeoutMs: 20_000, what: 'the child to append 3000 entries' });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const acked = out
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
  const outbox = await Outbox.open<Item>({ dir, segmentBytes: 64 * 1024, maxBytes: 64 << 20 });
  assert.ok(outbox.end >= Math.max(...acked) + 1, `end ${outbox.end} covers every acknowledged entry (last ${Math.max(...acked)})`);
  const seen: number[] = [];
  for (let from = 0; from < outbox.end; ) {
    const r = await outbox.read(from, 512);
    for (const e of r.entries) {
      assert.is(e.seq, seen.length);
      seen.push(e.value.n);
    }
    from = r.next;
  }
  assert.is(seen.length, outbox.end);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], 'entries in append order');
  assert.is(await outbox.append({ n: -1 }), outbox.end - 1, 'appends continue after the recovered end');
  await outbox.close();
});

test('segments go once every consumer passed them and the retention window allows', async () => {
  const dir = await tempDir();
  let now = 1_000_000;
  const outbox = await Outbox.open<Item>({ dir, segmentBytes: 2048, maxBytes: 1 << 20, retainMs: 60_000, now: () => now });
  outbox.cursor('target:a');
  outbox.cursor('target:b');
  for (let n = 0; n < 200; n++) await outbox.append({ n, pad: 'z'.repeat(50) });
  const before = (await segments(dir)).length;
  assert.ok(before > 5);
  outbox.commit('target:a', 200);
  outbox.commit('target:b', 100);
  await outbox.flush();
  await outbox.collect();
  assert.is((await segments(dir)).length, before, 'inside the retention window nothing goes');
  now += 61_000;
  await outbox.collect();
  const after = await segments(dir);
  assert.ok(after.length < before && after.length > 1, `${before} → ${after.length} segments`);
  assert.ok(outbox.first <= 100, `b's next entry (100) is kept; first is ${outbox.first}`);
  const r = await outbox.read(outbox.first - 1, 1);
  assert.is(r.skipped, 1, 'an entry before the first retained one is reported as skipped');
  outbox.commit('target:b', 200);
  await outbox.flush();
  await outbox.collect();
  assert.is((await segments(dir)).length, 1, 'the active segment always stays');
  assert.is(outbox.first, (await segments(dir)).map((n) => Number(n.slice(0, 20)))[0]);
  await outbox.close();
});

test('when full, the oldest entries are dropped, counted and reported to readers; appends never fail', async () => {
  const dir = await tempDir();
  const metrics = new NodeMetrics();
  const outbox = await Outbox.open<Item>({ dir, segmentBytes: 4096, maxBytes: 16384, metrics });
  outbox.cursor('target:down'); // a target that never acknowledges
  for (let n = 0; n < 400; n++) await outbox.append({ n, pad: 'p'.repeat(60) });
  let bytes = 0;
  for (const s of await segments(dir)) bytes += (await stat(join(dir, s))).size;
  assert.ok(bytes <= 16384, `${bytes} bytes on disk`);
  const dropped = await metric(metrics, 'cairn_events_outbox_dropped_total');
  assert.is(dropped, outbox.first, 'every entry before the first retained one was dropped unread and counted');
  assert.ok(outbox.first > 0);
  const r = await outbox.read(outbox.cursor('target:down'), 5);
  assert.is(r.skipped, outbox.first);
  assert.is(r.entries[0].seq, outbox.first);
  assert.is(await metric(metrics, 'cairn_events_outbox_appended_total'), 400);
  assert.is(await metric(metrics, 'cairn_events_outbox_bytes'), outbox.bytes);
  assert.is(await metric(metrics, 'cairn_events_outbox_limit_bytes'), 16384);
  assert.is(await metric(metrics, 'cairn_events_outbox_entries'), 400 - outbox.first);
  await outbox.close();
  const refused = await outbox.append({ n: 0 }).then(
    () => 'accepted',
    (e: Error) => e.message,
  );
  assert.match(refused, /closed/);
});

test("cursor strings: opaque, tied to this outbox's lifetime", async () => {
  const a = await Outbox.open<Item>({ dir: await tempDir() });
  const b = await Outbox.open<Item>({ dir: await tempDir() });
  const c = a.encodeCursor(123456);
  assert.equal(a.parseCursor(c), { seq: 123456 });
  assert.equal(b.parseCursor(c), { error: 'foreign' });
  for (const bad of ['', '123', 'zz.1', `${c}!`, `${c.split('.')[0]}.-1`]) assert.equal(a.parseCursor(bad), { error: 'malformed' }, bad);
  await a.close();
  await b.close();
});

test('waitForAppend wakes on a durable append, an abort or a timeout', async () => {
  const outbox = await Outbox.open<Item>({ dir: await tempDir() });
  const woken = outbox.waitForAppend(outbox.end);
  let done = false;
  void woken.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.not.ok(done, 'waits while nothing new is there');
  await outbox.append({ n: 1 });
  await waitFor(() => done, { timeoutMs: 2000 });
  const ac = new AbortController();
  const aborted = outbox.waitForAppend(outbox.end, { signal: ac.signal });
  ac.abort();
  await aborted;
  await outbox.waitForAppend(outbox.end, { timeoutMs: 10 });
  await outbox.close();
});

test.after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

if (process.argv[2] !== '--append-child') test.run();
