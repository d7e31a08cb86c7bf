// Lease timings: what is given wins, what is not (or is an explicit undefined, as a CLI passes on)
// falls back to client-go's defaults, and timings under which two leaders could overlap are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LEASE_TIMINGS, leaseTimings } from './lease.ts';

test('explicit undefined means "not given": the defaults hold', () => {
  assert.equal(leaseTimings({ leaseDurationMs: undefined, renewDeadlineMs: undefined, retryMs: undefined }), DEFAULT_LEASE_TIMINGS);
  assert.equal(leaseTimings(), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryMs: 2_000 });
  assert.equal(leaseTimings({ retryMs: 200, leaseDurationMs: 3000, renewDeadlineMs: 2000 }), { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryMs: 200 });
});

test('timings that would let two leaders overlap, or spin, are refused', () => {
  assert.throws(() => leaseTimings({ leaseDurationMs: 10_000 }), /lease duration .* must be longer than the renew deadline/);
  assert.throws(() => leaseTimings({ retryMs: 9_000 }), /renew deadline .* must be longer than the retry period/);
  assert.throws(() => leaseTimings({ retryMs: 0 }), /retryMs must be a positive number/);
  assert.throws(() => leaseTimings({ leaseDurationMs: Number.NaN }), /leaseDurationMs must be a positive number/);
});

test.run();
