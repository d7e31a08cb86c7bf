// Multi-chunk bodies through a real `cairn` process, with the fast data path's moving parts in play:
// hashing on worker threads, chunk buffers reused from a pool (chunks/hasher.ts), the next piece
// read ahead while one is sent. Concurrent PUTs and GETs must return exactly the bytes written; a
// client that goes away mid-body must not disturb anyone else's bytes; and a chunk that rots on
// disk is never served: the connection is cut before Content-Length is satisfied (invariant 2).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import * as Minio from 'minio';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { signHeaders } from '../../test/s3-client.ts';

const CHUNK = 256 * 1024; // a power of two: pooled, and large enough for the hash workers
const B = 'large';
let proc: CairnProcess;
let mc: Minio.Client;
let dir: string;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A signed GET with node:http: the status, the declared length and what arrived before the end or the cut. */
function rawGet(key: string, opts: { abortAfter?: number } = {}): Promise<{ status: number; length: number; got: Buffer; complete: boolean }> {
  return signHeaders(proc.endpoint, { method: 'GET', bucket: B, key }, { accessKey: proc.accessKey, secretKey: proc.secretKey }).then(
    ({ path, headers }) =>
      new Promise((resolve, reject) => {
        const url = new URL(proc.endpoint);
        const req = request({ host: url.hostname, port: url.port, method: 'GET', path, headers, agent: false }, (res) => {
          const parts: Buffer[] = [];
          let n = 0;
          const finish = (complete: boolean) =>
            resolve({ status: res.statusCode ?? 0, length: Number(res.headers['content-length']), got: Buffer.concat(parts), complete });
          res.on('data', (d: Buffer) => {
            parts.push(d);
            n += d.length;
            if (opts.abortAfter !== undefined && n >= opts.abortAfter) {
              req.destroy();
              finish(false);
            }
          });
          res.on('end', () => finish(res.complete));
          res.on('error', () => finish(false));
          res.on('aborted', () => finish(false));
        });
        req.on('error', (e) => (opts.abortAfter !== undefined ? undefined : reject(e)));
        req.end();
      }),
  );
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-s3-large-'));
  proc = await startCairnProcess({ dataDir: join(dir, 'data'), extraArgs: ['--chunk-size', String(CHUNK)] });
  const url = new URL(proc.endpoint);
  mc = new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    region: 'us-east-1',
    accessKey: proc.accessKey,
    secretKey: proc.secretKey,
  });
  await mc.makeBucket(B);
});

test.after(async () => {
  await proc?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('concurrent multi-chunk PUTs and GETs return exactly the bytes written, also after a client left mid-body', async () => {
  const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(5 * CHUNK + 1000 * i + 1));
  const etags = await Promise.all(bodies.map((b, i) => mc.putObject(B, `obj-${i}`, b, b.length)));
  etags.forEach((e, i) => assert.is(e.etag, md5(bodies[i]), `ETag of obj-${i} is its MD5`));
  // Clients that go away after the first chunk: their buffers must not reach anybody else.
  const left = await Promise.all(bodies.map((_, i) => rawGet(`obj-${i}`, { abortAfter: CHUNK + 1 })));
  for (const l of left) assert.not.ok(l.complete);
  for (let round = 0; round < 2; round++) {
    const got = await Promise.all(bodies.map(async (_, i) => readAll(await mc.getObject(B, `obj-${i}`))));
    got.forEach((g, i) => assert.is(md5(g), md5(bodies[i]), `round ${round}: obj-${i}`));
  }
  const slice = await readAll(await mc.getPartialObject(B, 'obj-3', CHUNK - 10, 2 * CHUNK));
  assert.ok(slice.equals(bodies[3].subarray(CHUNK - 10, 3 * CHUNK - 10)), 'a range across chunk boundaries');
});

test('a chunk that rots on disk is never served: the body is cut before its declared length', async () => {
  const body = randomBytes(3 * CHUNK);
  await mc.putObject(B, 'rot', body, body.length);
  // The second chunk's file: find it by content (chunk files are named by their SHA-256).
  const second = createHash('sha256')
    .update(body.subarray(CHUNK, 2 * CHUNK))
    .digest('hex');
  const path = join(dir, 'data', 'chunks', second.slice(0, 2), second);
  const bytes = await readFile(path);
  bytes[100] ^= 0xff;
  await writeFile(path, bytes);
  const r = await rawGet('rot');
  assert.is(r.status, 200);
  assert.is(r.length, body.length);
  assert.not.ok(r.complete, 'the response must not complete');
  assert.ok(r.got.length < body.length, 'fewer bytes than Content-Length');
  assert.ok(r.got.length <= CHUNK, 'nothing of the rotten chunk or after it');
  assert.ok(r.got.equals(body.subarray(0, r.got.length)), 'what did arrive is the verified first chunk');
  assert.ok((await readdir(join(dir, 'data', 'chunks', second.slice(0, 2)))).includes(second));
});

test.run();
