import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WorkerRunner, type WorkerState } from './background.ts';
import { waitFor } from '../../../hack/testing/net.ts';

test('a worker runs until done, and errors back off without stopping it', async () => {
  let calls = 0;
  const runner = new WorkerRunner({
    name: 'test',
    async step(): Promise<WorkerState> {
      calls++;
      if (calls === 2) throw new Error('transient');
      return calls >= 4 ? 'done' : 'busy';
    },
  });
  runner.start();
  runner.poke();
  await waitFor(() => runner.status.state === 'done', { timeoutMs: 5000 });
  assert.is(calls, 4);
  assert.is(runner.status.errors, 1);
  assert.is(runner.status.lastError, 'transient');
  await runner.stop();
});

test('stop interrupts an idle sleep', async () => {
  const runner = new WorkerRunner(
    {
      name: 'idle',
      async step() {
        return 'idle' as const;
      },
    },
    { idleMs: 60_000 },
  ).start();
  await waitFor(() => runner.status.state === 'idle');
  const t0 = Date.now();
  await runner.stop();
  assert.ok(Date.now() - t0 < 1000);
  assert.is(runner.status.state, 'stopped');
});

test('a stop that lands mid-step ends the runner when the step returns, without its idle sleep', async () => {
  let release!: () => void;
  let entered = false;
  const runner = new WorkerRunner(
    {
      name: 'slow-step',
      async step() {
        entered = true;
        await new Promise<void>((r) => {
          release = r;
        });
        return 'idle' as const;
      },
    },
    { idleMs: 60_000 },
  ).start();
  await waitFor(() => entered);
  const t0 = Date.now();
  const stopped = runner.stop();
  release();
  await stopped;
  assert.ok(Date.now() - t0 < 1000, `stopped in ${Date.now() - t0} ms`);
});

test.run();
