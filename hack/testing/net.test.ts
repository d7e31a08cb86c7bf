import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loopbackAddress, freePort, waitFor } from './net.ts';

test('loopback addresses are distinct and inside 127.0.0.0/8', () => {
  const a = loopbackAddress(),
    b = loopbackAddress();
  assert.ok(a.startsWith('127.') && b.startsWith('127.'));
  assert.is.not(a, b);
});

test('freePort gives a bindable port and waitFor polls until true', async () => {
  const port = await freePort(loopbackAddress());
  assert.ok(port > 0 && port < 65536);
  let n = 0;
  assert.is(await waitFor(() => ++n >= 3 && n), 3);
  try {
    await waitFor(() => false, { timeoutMs: 100, what: 'never' });
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /timed out waiting for never/);
  }
});

test.run();
