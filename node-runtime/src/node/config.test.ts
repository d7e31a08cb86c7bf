import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bufferMemoryMiB, withEnvironment } from './config.ts';

test('buffer memory setting: default, MiB, nonsense refused', () => {
  assert.is(bufferMemoryMiB(undefined), 48);
  assert.is(bufferMemoryMiB('16'), 16);
  assert.throws(() => bufferMemoryMiB('lots'), /CAIRN_BUFFER_MEMORY/);
  assert.throws(() => bufferMemoryMiB('-1'), /positive/);
});

test('the environment fills only what the options leave unset, once, at the edge', () => {
  const env = { CAIRN_HEARTBEAT_MS: '200', CAIRN_FAILURE_TIMEOUT_MS: '1500', CAIRN_REPAIR_INTERVAL_MS: 'soon', CAIRN_BUFFER_MEMORY: '16' };
  const o = withEnvironment({ dataDir: '/d', heartbeatMs: 50 }, env);
  assert.is(o.heartbeatMs, 50, 'an option wins');
  assert.is(o.failureTimeoutMs, 1500);
  assert.is(o.repairIntervalMs, undefined, 'a value that is not a positive number is no setting');
  assert.is(o.bufferMemoryBytes, 16 * 1024 * 1024);
  assert.is(withEnvironment({ dataDir: '/d' }, {}).bufferMemoryBytes, 48 * 1024 * 1024);
});

test('direct I/O for chunk files: on unless CAIRN_DIRECT_IO says 0/false/off/no; an option wins', () => {
  assert.is(withEnvironment({ dataDir: '/d' }, {}).directIo, undefined, 'unset: the store tries it');
  for (const off of ['0', 'false', 'OFF', 'no']) assert.is(withEnvironment({ dataDir: '/d' }, { CAIRN_DIRECT_IO: off }).directIo, false, off);
  assert.is(withEnvironment({ dataDir: '/d' }, { CAIRN_DIRECT_IO: '1' }).directIo, true);
  assert.is(withEnvironment({ dataDir: '/d', directIo: true }, { CAIRN_DIRECT_IO: '0' }).directIo, true);
});

test('CAIRN_REST_AFTER_MS: a quiet time, 0 for never (node/at-rest.ts), unset for the default; an option wins', () => {
  assert.is(withEnvironment({ dataDir: '/d' }, { CAIRN_REST_AFTER_MS: '2500' }).restAfterMs, 2500);
  assert.is(withEnvironment({ dataDir: '/d' }, { CAIRN_REST_AFTER_MS: '0' }).restAfterMs, 0);
  assert.is(withEnvironment({ dataDir: '/d' }, {}).restAfterMs, undefined);
  assert.is(withEnvironment({ dataDir: '/d', restAfterMs: 5 }, { CAIRN_REST_AFTER_MS: '0' }).restAfterMs, 5);
});

test.run();
