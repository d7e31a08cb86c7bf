import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandaloneClusterView } from './standalone.ts';
import { MetaStore } from '../meta/store.ts';
import { replicasFor } from './placement.ts';

const self = { id: 'n1', name: 'solo', api: 'http://127.0.0.1:9000', cluster: 'http://127.0.0.1:9100', zone: '', weight: 1, capacityBytes: 1 };

test('registry, keys and settings persist across reopen; one active member holding data', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-standalone-'));
  try {
    let meta = MetaStore.open(dir);
    const usedBytes = () => 0;
    let view = await StandaloneClusterView.open({ self, meta, usedBytes, settings: { defaultReplicas: 1, chunkSize: 1 << 20 } });
    let changes = 0;
    view.onChange(() => changes++);
    await view.putBucket({ name: 'b1', createdAt: 'now', owner: 'k', replicas: 1, access: 'public-read' });
    await view.putBucket({ name: 'b2', createdAt: 'now', owner: 'k', replicas: 1, access: 'private' });
    await view.removeBucket('b2');
    await view.putUser({ id: 'u1', displayName: 'U1', createdAt: 'now' });
    await view.putKey({ accessKeyId: 'k1', userId: 'u1', sealedSecret: 'sealed', createdAt: 'now' });
    assert.is(changes, 5);
    assert.equal(
      replicasFor('bucket:b1', view.members(), 1).map((m) => m.id),
      ['n1'],
    );
    await meta.close();

    meta = MetaStore.open(dir);
    view = await StandaloneClusterView.open({ self, meta, usedBytes, settings: { region: 'eu-1' } });
    assert.equal(
      view.buckets().map((b) => b.name),
      ['b1'],
    );
    assert.is(view.bucket('b1')?.access, 'public-read');
    assert.is(view.bucket('b2'), undefined);
    assert.equal(view.key('k1'), { accessKeyId: 'k1', userId: 'u1', sealedSecret: 'sealed', createdAt: 'now' });
    assert.is(view.user('u1')?.displayName, 'U1');
    assert.is(view.settings().chunkSize, 1 << 20, 'earlier setting kept');
    assert.is(view.settings().region, 'eu-1', 'new override applied');
    await view.removeKey('k1');
    assert.is(view.key('k1'), undefined);
    await meta.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
