import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import type { AdminClient, ClusterStatus, RepairProgress } from '../admin/types.ts';
import { describeRepair, watchDrain, watchRepair } from './rebalance.ts';

const repair = (under: number, remaining: number, moved: number): RepairProgress => ({
  underReplicatedChunks: under,
  misplacedChunks: 0,
  bytesRemaining: remaining,
  bytesMoved: moved,
  rateBytesPerSec: 1024,
  etaSeconds: remaining ? 3 : 0,
});
const status = (r: RepairProgress, state: 'draining' | 'drained' = 'draining'): ClusterStatus => ({
  clusterId: 'c',
  endpoint: '',
  region: 'us-east-1',
  buckets: [],
  repair: r,
  capacityBytes: 0,
  usedBytes: 0,
  writeQuorumAvailable: true,
  counts: { joining: 0, active: 3, draining: state === 'draining' ? 1 : 0, drained: state === 'drained' ? 1 : 0, down: 0 },
  members: [
    {
      id: 'id-1',
      name: 'node-1',
      roles: ['node'],
      state,
      zone: '',
      weight: 1,
      api: '',
      cluster: '',
      capacityBytes: 0,
      usedBytes: 0,
      chunks: 0,
      heartbeatAgeMs: 0,
      repair: r,
    },
  ],
});
const fake = (seq: ClusterStatus[]): AdminClient & { calls: number } => {
  const c = { calls: 0, status: async () => seq[Math.min(c.calls++, seq.length - 1)]! } as unknown as AdminClient & { calls: number };
  return c;
};

test('describeRepair says counts, bytes, rate and ETA', () => {
  assert.is(describeRepair(repair(2, 2048, 1024)), '2 under-replicated, 0 misplaced chunks; 2.0 KiB to move, 1.0 KiB moved, 1.0 KiB/s, ETA 3s');
});

test('watchRepair polls until converged, printing plain lines without a terminal', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => {
    text += d;
  });
  const admin = fake([status(repair(3, 4096, 0)), status(repair(1, 1024, 3072)), status(repair(0, 0, 4096))]);
  const s = await watchRepair(admin, { intervalMs: 1, tty: false, stream: out });
  assert.is(s.repair.underReplicatedChunks, 0);
  assert.is(admin.calls, 3);
  assert.match(text, /3 under-replicated/);
});

test('watchDrain waits for the member to be drained; a timeout says what is left', async () => {
  const admin = fake([status(repair(0, 0, 0)), status(repair(0, 0, 0), 'drained')]);
  const s = await watchDrain(admin, 'node-1', { intervalMs: 1, tty: false, stream: new PassThrough() });
  assert.is(s.members[0]!.state, 'drained');
  const stuck = fake([status(repair(5, 100, 0))]);
  try {
    await watchRepair(stuck, { intervalMs: 5, timeoutMs: 20, tty: false, stream: new PassThrough() });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /5 under-replicated/);
  }
});

test.run();
