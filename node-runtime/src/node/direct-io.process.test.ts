// Chunk files written around the page cache, as users start the server: `cairn server` writes them
// direct by default and through the page cache with CAIRN_DIRECT_IO=0 (chunks/store.ts). `fincore`
// (util-linux) counts a file's pages in the page cache.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chunkFiles, s3Client, startCairnProcess } from '../../../hack/testing/cairn.ts';

const cachedPages = (path: string) => Number(execFileSync('fincore', ['--raw', '--noheadings', '--output', 'PAGES', path], { encoding: 'utf8' }).trim());

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of s) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

test('`cairn server` writes chunk files around the page cache; with CAIRN_DIRECT_IO=0 through it', async () => {
  const p = await startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'warn' } });
  try {
    const s3 = s3Client(p);
    await s3.makeBucket('direct');
    const a = randomBytes(8 << 20); // two whole 4 MiB chunks
    await s3.putObject('direct', 'a', a, a.length);
    const first = await chunkFiles(p);
    assert.is(first.length, 2);
    for (const f of first) assert.is(cachedPages(f), 0, `${f} is not in the page cache`);

    await p.restart({ CAIRN_DIRECT_IO: '0' });
    const b = randomBytes(8 << 20);
    await s3Client(p).putObject('direct', 'b', b, b.length);
    const added = (await chunkFiles(p)).filter((f) => !first.includes(f));
    assert.is(added.length, 2);
    for (const f of added) assert.ok(cachedPages(f) > 0, `${f} went through the page cache`);
    assert.ok((await readAll(await s3Client(p).getObject('direct', 'a'))).equals(a));
    assert.ok((await readAll(await s3Client(p).getObject('direct', 'b'))).equals(b));
  } finally {
    await p.cleanup();
  }
});

test.run();
