// Slow clients against a real node on loopback (issue 19, finding 1): nine connections that each
// announce an 8 MiB body, send 100 KiB and go silent take every 4 MiB chunk grant of the default
// buffer memory. Another client's 6 MiB PUT must still succeed promptly, and the stalled sockets
// must be closed within the stated time (their fills are reclaimed when others wait, the idle
// timeout closes the connections).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Minio from 'minio';
import { startNode, type RunningNode } from './start.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { SigV4Signer } from '../../../hack/bench/sigv4.ts';
import { DEFAULT_STALL_MS } from '../chunks/memory.ts';

const MiB = 1024 * 1024;
const IDLE_MS = 3_000; // the test's idle timeout (the default is 30 s, docs/performance.md)
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let node: RunningNode;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-slow-'));
  const host = loopbackAddress();
  // Default chunk size (4 MiB) and buffer memory (48 MiB: nine chunks for uploads).
  node = await startNode({ dataDir: dir, api: `${host}:0`, cluster: `${host}:0`, timeouts: { idleMs: IDLE_MS } });
});

test.after(async () => {
  await node?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A signed PUT that announces `announced` bytes, sends `sent` of them and then nothing more. */
function stalledPut(n: RunningNode, key: string, announced: number, sent: number): { socket: Socket; closed: Promise<number>; answer: () => string } {
  const u = new URL(n.endpoint);
  const signer = new SigV4Signer({ accessKey: n.accessKey, secretKey: n.secretKey, region: n.region });
  const req = signer.sign({ method: 'PUT', host: u.host, path: `/victim/${key}`, headers: { 'content-length': String(announced) } });
  const socket = connect(Number(u.port), u.hostname);
  let answer = '';
  socket.on('data', (d) => {
    answer += d.toString();
  });
  socket.on('error', () => {});
  const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
  socket.write(
    `PUT ${req.path} HTTP/1.1\r\n${Object.entries(req.headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`,
  );
  socket.write(randomBytes(sent));
  return { socket, closed, answer: () => answer };
}

test("nine stalled uploads neither block another client's PUT nor keep their sockets", async () => {
  const u = new URL(node.endpoint);
  const mc = new Minio.Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: node.accessKey,
    secretKey: node.secretKey,
    pathStyle: true,
    region: node.region,
  });
  await mc.makeBucket('victim');
  const budget = node.memory.chunks;
  const stalled = Array.from({ length: 9 }, (_, i) => stalledPut(node, `stalled-${i}`, 8 * MiB, 100 * 1024));
  // The attack in place: every chunk grant of the budget is held by a silent body.
  await waitFor(() => budget.used >= 9 * 4 * MiB, { timeoutMs: 10_000, what: 'the stalled bodies to hold the chunk memory' });
  const silentSince = Date.now();

  const body = randomBytes(6 * MiB);
  const started = Date.now();
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([
    mc.putObject('victim', 'other-client', body, body.length),
    new Promise((_, reject) => {
      deadline = setTimeout(() => reject(new Error('a 6 MiB PUT got no answer within 15 s while the stalled bodies held the memory')), 15_000);
    }),
  ]).finally(() => clearTimeout(deadline));
  const putMs = Date.now() - started;
  // It waits for at most about one stall period (plus the check interval) before the silent bodies give way.
  assert.ok(putMs < DEFAULT_STALL_MS + 3_000, `PUT took ${putMs} ms`);
  const got: Buffer[] = [];
  for await (const b of await mc.getObject('victim', 'other-client')) got.push(b as Buffer);
  assert.is(sha(Buffer.concat(got)), sha(body));

  // The stalled sockets: answered RequestTimeout when their memory was reclaimed, closed by the idle
  // timeout at most IDLE_MS after the last byte moved.
  const closedAt = await Promise.race([
    Promise.all(stalled.map((s) => s.closed)),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('stalled sockets still open')), DEFAULT_STALL_MS + IDLE_MS + 5_000)),
  ]);
  for (const t of closedAt) assert.ok(t - silentSince <= DEFAULT_STALL_MS + IDLE_MS + 2_000, `closed ${t - silentSince} ms after going silent`);
  assert.ok(
    stalled.every((s) => /^HTTP\/1\.1 400 /.test(s.answer()) && /RequestTimeout/.test(s.answer())),
    stalled.map((s) => s.answer().split('\r\n')[0]).join(' | '),
  );
  assert.is(budget.used, 0, 'every grant came back');
  assert.ok(budget.reclaimed >= 1);
});

test('a stalled upload with nobody waiting for memory is closed by the idle timeout', async () => {
  const s = stalledPut(node, 'alone', 8 * MiB, 100 * 1024);
  await waitFor(() => node.memory.chunks.used > 0, { timeoutMs: 5_000, what: 'the body to hold a chunk' });
  const silentSince = Date.now();
  const closed = await Promise.race([
    s.closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('stalled socket still open')), IDLE_MS + 5_000)),
  ]);
  assert.ok(closed - silentSince <= IDLE_MS + 2_000, `closed ${closed - silentSince} ms after going silent`);
  await waitFor(() => node.memory.chunks.used === 0, { timeoutMs: 5_000, what: 'the grant to come back' });
});

test.run();
