// The chaos suite's short profile (about a minute): real processes, SIGKILLs, a join, a drain, a full
// disk and silent uploads under concurrent writers, overwriters, deleters and readers; nothing acknowledged may be lost or
// corrupted, no read may return bytes never written, redundancy and garbage collection converge.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runChaos, formatSummary, chaosProfiles } from './chaos.ts';

test('chaos (short profile): no loss, no corruption, full redundancy, no orphans', async () => {
  const s = await runChaos({ ...chaosProfiles.short, log: (l) => process.stderr.write(l + '\n') });
  process.stderr.write(formatSummary(s) + '\n');
  assert.ok(s.acknowledged > 0, 'some operations were acknowledged');
  assert.ok(s.kills > 0 && s.joined === 1 && s.drained === 1 && s.diskFull === 1 && s.stalledClients > 0, 'the faults happened');
  assert.is(s.stalledOpen, 0, 'stalled uploads left open');
  assert.is(s.lost, 0, 'lost');
  assert.is(s.corrupted, 0, 'corrupted');
  assert.is(s.badReads, 0, 'bad reads');
  assert.is(s.orphanChunks, 0, 'orphan chunks');
});

test.run();
