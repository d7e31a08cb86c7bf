import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { startCairnProcess } from './cairn.ts';

test('a real cairn process: ready, serves S3 errors, restarts on its data, stops on SIGTERM, cleans up', async () => {
  const p = await startCairnProcess();
  try {
    const health = await fetch(`${p.cluster}/healthz`);
    assert.is(health.status, 200);
    const anon = await fetch(`${p.endpoint}/some-bucket/x`);
    assert.is(anon.status, 404, 'a bucket that does not exist is NoSuchBucket, to anyone (as S3 answers)');
    assert.match(await anon.text(), /<Code>NoSuchBucket<\/Code>/);
    const pid = p.pid;
    await p.restart();
    assert.is.not(p.pid, pid);
    assert.is((await fetch(`${p.cluster}/readyz`)).status, 200);
    assert.match(p.output(), /"msg":"serving"/);
    await p.stop();
    assert.match(p.output(), /"msg":"node stopped"/);
  } finally {
    await p.cleanup();
  }
  assert.not.ok(existsSync(p.dataDir), 'temp data dir removed');
});

test.run();
