// Request ids come from a pool of random bytes refilled every 512 ids: they must stay S3-shaped
// and distinct across refills.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { newRequestId, withRequestId, currentRequestId } from './request-id.ts';

test('ids are 16 upper-case hex characters and distinct across several pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = newRequestId();
    assert.match(id, /^[0-9A-F]{16}$/);
    seen.add(id);
  }
  assert.is(seen.size, 5000);
});

test('the current id follows the async context', async () => {
  const id = newRequestId();
  const seen = await withRequestId(id, async () => {
    await new Promise((r) => setImmediate(r));
    return currentRequestId();
  });
  assert.is(seen, id);
  assert.is(currentRequestId(), undefined);
});

test.run();
