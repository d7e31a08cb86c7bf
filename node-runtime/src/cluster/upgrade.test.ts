// A data dir that ran as a single-process cluster joins a multi-member cluster as its root without
// losing its buckets, keys or objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startNode } from '../node/start.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { setLogLevel } from '../util/log.ts';

setLogLevel(process.env.CAIRN_LOG_LEVEL ?? 'error');

test('single-process registry is taken over by the root of a multi-member cluster', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'cairn-upgrade-'));
  const host = loopbackAddress();
  try {
    const single = await startNode({ dataDir, api: `${host}:0`, cluster: `${host}:0`, accessKey: 'AKUPGRADE', secretKey: 'upgrade-secret' });
    await single.objects.createBucket('kept', { owner: 'AKUPGRADE', replicas: 1 });
    await single.objects.putObject('kept', 'k', Readable.from([Buffer.from('value')]), { size: 5 });
    await single.stop();

    // Same data dir, now a root+node of a cluster (its --roots lists a second root that is not up).
    const multi = await startNode({ dataDir, api: `${host}:0`, cluster: `${host}:0`, roots: [`http://${loopbackAddress()}:9`], secret: 'cluster-secret' });
    try {
      assert.ok(multi.view.bucket('kept'), 'bucket kept');
      assert.is((multi.view.key('AKUPGRADE') as { userId?: string })?.userId, 'admin', "the root key kept, as the admin user's");
      await waitFor(() => multi.view.members().some((m) => m.id === multi.id && m.state === 'active'), { what: 'self active' });
      const got = await multi.objects.getObject('kept', 'k');
      const parts: Buffer[] = [];
      for await (const b of got.body) parts.push(b as Buffer);
      assert.is(Buffer.concat(parts).toString(), 'value');
    } finally {
      await multi.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
