import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { staleNode } from './node-lifecycle.ts';

const node = (status: string, beat: string) => ({ metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status, lastHeartbeatTime: beat }] } });
const t0 = Date.parse('2026-01-01T00:00:00Z');

test('a node is stale when its Ready heartbeat is older than the grace period, once', () => {
  assert.ok(staleNode(node('True', '2026-01-01T00:00:00Z'), t0 + 41_000, 40_000));
  assert.not.ok(staleNode(node('True', '2026-01-01T00:00:00Z'), t0 + 39_000, 40_000));
  assert.not.ok(staleNode(node('Unknown', '2026-01-01T00:00:00Z'), t0 + 99_000, 40_000), 'already marked');
  assert.not.ok(staleNode({ metadata: { name: 'n' }, status: {} }, t0, 1), 'a node that never reported is left alone');
});

test.run();
