// Past its capacity (issue 19, finding 9), with a real node on loopback and small limits: 4× more
// concurrent uploads than it admits get 503 SlowDown with Retry-After at once, the admitted ones
// all succeed and never exceed the limit, and connections beyond the limit are answered and closed
// as they arrive. (The 4× sustainable-rate measurement with RSS and latency is hack/bench/overload.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startNode, type RunningNode } from './start.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { SigV4Signer } from '../../../hack/bench/sigv4.ts';

const MAX_REQUESTS = 8;
const MAX_CONNECTIONS = 48;
let dir: string;
let node: RunningNode;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-admission-'));
  const host = loopbackAddress();
  node = await startNode({ dataDir: dir, api: `${host}:0`, cluster: `${host}:0`, admission: { maxRequests: MAX_REQUESTS, maxConnections: MAX_CONNECTIONS } });
});

test.after(async () => {
  await node?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('4× more concurrent uploads than admitted: the rest get 503 SlowDown with Retry-After, early; the admitted all succeed', async () => {
  const u = new URL(node.endpoint);
  const signer = new SigV4Signer({ accessKey: node.accessKey, secretKey: node.secretKey, region: node.region });
  const pool = new Pool(u.origin, { connections: 4 * MAX_REQUESTS });
  const call = async (method: string, path: string, body?: Buffer) => {
    const r = signer.sign({ method, host: u.host, path, headers: body ? { 'content-length': String(body.length) } : {} });
    const t0 = performance.now();
    const res = await pool.request({ method: method as 'PUT', path: r.path, headers: r.headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, retryAfter: res.headers['retry-after'], text, ms: performance.now() - t0 };
  };
  try {
    assert.is((await call('PUT', '/busy')).status, 200);
    const outcomes: Awaited<ReturnType<typeof call>>[] = [];
    await Promise.all(
      Array.from({ length: 4 * MAX_REQUESTS }, async (_, w) => {
        for (let i = 0; i < 25; i++) outcomes.push(await call('PUT', `/busy/w${w}-${i}`, randomBytes(2048)));
      }),
    );
    const ok = outcomes.filter((o) => o.status === 200),
      refused = outcomes.filter((o) => o.status === 503);
    assert.is(ok.length + refused.length, outcomes.length, `only 200 or 503: ${[...new Set(outcomes.map((o) => o.status))]}`);
    assert.ok(refused.length > 0, 'some uploads were refused');
    assert.ok(ok.length > 0, 'and many admitted');
    for (const r of refused) {
      assert.is(r.retryAfter, '1');
      assert.match(r.text, /<Code>SlowDown<\/Code>/);
    }
    assert.ok(node.admission.peakRequests <= MAX_REQUESTS, `at most ${MAX_REQUESTS} in progress, saw ${node.admission.peakRequests}`);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    assert.ok(median(refused.map((r) => r.ms)) <= median(ok.map((r) => r.ms)), 'a refusal costs less than the work it refuses');
    const metrics = await node.metrics.text();
    assert.match(metrics, /cairn_s3_rejected_total\{[^}]*reason="requests"[^}]*\} [1-9]/);
  } finally {
    await pool.close();
  }
});

test('connections beyond the limit are answered 503 SlowDown and closed as they arrive', async () => {
  const u = new URL(node.endpoint);
  const open = (): Promise<{ socket: Socket; answer: Promise<string> }> =>
    new Promise((resolve) => {
      const socket = connect(Number(u.port), u.hostname, () => {
        let text = '';
        const answer = new Promise<string>((r) => {
          socket.on('data', (d) => {
            text += d.toString();
          });
          socket.on('close', () => r(text));
        });
        resolve({ socket, answer });
      });
      socket.on('error', () => {});
    });
  await waitFor(() => node.admission.connections === 0, { what: "the previous test's connections closed" });
  const held = [];
  for (let i = 0; i < MAX_CONNECTIONS; i++) held.push(await open());
  const extra = await open();
  const answer = await Promise.race([extra.answer, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no answer')), 5_000))]);
  assert.match(answer, /^HTTP\/1\.1 503 /);
  assert.match(answer, /Retry-After: 1/i);
  assert.match(answer, /SlowDown/);
  for (const h of held) h.socket.destroy();
});

test.run();
