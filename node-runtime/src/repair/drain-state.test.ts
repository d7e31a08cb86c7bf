// A draining member that goes silent is marked down (its data is re-replicated) and, when it comes
// back, resumes draining: a transient failure must not cancel the drain the operator asked for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootService } from '../cluster/root.ts';
import { membersOf } from '../cluster/maps.ts';

test('down while draining → back as draining; down while active → back as active', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-drainstate-'));
  try {
    const root = await RootService.open({ selfId: 'root', dataDir: dir, settings: { failureTimeoutMs: 1000 } });
    const member = (id: string) => ({
      id,
      name: id,
      roles: ['node' as const],
      api: '',
      cluster: 'http://x',
      zone: '',
      weight: 1,
      capacityBytes: 0,
      usedBytes: 0,
      lastHeartbeat: 0,
    });
    const state = (id: string) => membersOf(root.maps).find((m) => m.id === id)?.state;
    const t0 = Date.now() + 60_000;
    for (const id of ['a', 'b']) root.heartbeat({ member: member(id), ready: true }, t0);
    await root.set('states', 'a', 'draining');
    assert.equal(root.detectFailures(t0 + 5_000).sort(), ['a', 'b']);
    assert.is(state('a'), 'down');
    root.heartbeat({ member: member('a'), ready: true }, t0 + 6_000);
    root.heartbeat({ member: member('b'), ready: true }, t0 + 6_000);
    assert.is(state('a'), 'draining');
    assert.is(state('b'), 'active');
    // Undrained later, then down and back: active (the old marker does not revive the drain).
    await root.set('states', 'a', 'active');
    root.detectFailures(t0 + 20_000);
    root.heartbeat({ member: member('a'), ready: true }, t0 + 21_000);
    assert.is(state('a'), 'active');
    await root.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
