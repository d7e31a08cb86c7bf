// Crash safety (invariants 1 and 3) against a real `cairn` process: many concurrent PUTs with the
// minio client, SIGKILL while they are in flight, restart on the same data dir. Every acknowledged
// write must read back byte-identical, every visible object must be whole, temp files are gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const client = (p: CairnProcess) => s3Client(p);

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

test('SIGKILL during concurrent PUTs: acknowledged writes survive intact, nothing half-written is visible', async () => {
  const p = await startCairnProcess({ extraArgs: ['--chunk-size', '65536'] });
  try {
    let mc = client(p);
    await mc.makeBucket('crash');
    const attempted = new Map<string, string>(); // key → sha256 of the body sent
    const acked = new Map<string, string>();
    let killed = false;
    let n = 0;
    const worker = async (w: number) => {
      for (let i = 0; !killed && i < 1000; i++) {
        // Mix inline (≤ 64 KiB) and multi-chunk bodies.
        const size = n++ % 3 === 0 ? 1 + Math.floor(Math.random() * 4000) : 100_000 + Math.floor(Math.random() * 300_000);
        const body = randomBytes(size);
        const key = `w${w}/obj-${i}`;
        attempted.set(key, sha(body));
        try {
          await mc.putObject('crash', key, body, body.length);
          if (!killed) acked.set(key, sha(body));
        } catch {
          return; // the server died under us
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    await waitFor(() => acked.size >= 60, { timeoutMs: 60_000, what: '60 acknowledged writes' });
    killed = true;
    await p.kill('SIGKILL');
    await Promise.all(workers);
    assert.ok(attempted.size > acked.size, 'some writes were in flight at the kill');

    await p.restart();
    mc = client(p);
    assert.equal(await readdir(join(p.dataDir, 'tmp')), [], 'temp files removed at restart');
    for (const [key, digest] of acked) {
      assert.is(sha(await readAll(await mc.getObject('crash', key))), digest, `acknowledged ${key} reads back intact`);
    }
    const listed: { name: string; size: number }[] = [];
    for await (const o of mc.listObjectsV2('crash', '', true)) listed.push(o as { name: string; size: number });
    const listedKeys = new Set(listed.map((o) => o.name));
    for (const key of acked.keys()) assert.ok(listedKeys.has(key), `${key} is listed`);
    for (const o of listed) {
      assert.ok(attempted.has(o.name), `${o.name} was written by the test`);
      const body = await readAll(await mc.getObject('crash', o.name));
      assert.is(body.length, o.size);
      assert.is(sha(body), attempted.get(o.name), `visible ${o.name} is whole`);
    }
    for (const key of attempted.keys()) {
      if (listedKeys.has(key)) continue;
      try {
        await mc.statObject('crash', key);
        assert.unreachable(`${key} is not listed but exists`);
      } catch (e) {
        assert.match(String((e as { code?: string }).code), /NotFound|NoSuchKey/);
      }
    }
  } finally {
    await p.cleanup();
  }
});

test.run();
