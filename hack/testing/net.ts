// Loopback addresses for tests. Every server a test starts listens on 127.0.0.0/8 only; each test
// process takes its own random 127.x.y.z block so parallel test files never collide on ports.
import { createServer } from 'node:net';

let block: [number, number] | undefined;
let next = 2;

/** A fresh loopback address, e.g. 127.83.17.2; successive calls in one process give .3, .4, ... */
export function loopbackAddress(): string {
  block ??= [1 + Math.floor(Math.random() * 250), 1 + Math.floor(Math.random() * 250)];
  if (next > 250) throw new Error('out of loopback addresses in this test process');
  return `127.${block[0]}.${block[1]}.${next++}`;
}

/** A free TCP port on the given loopback host. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Poll `check` until it returns a truthy value or the deadline passes (no fixed sleeps in tests). */
export async function waitFor<T>(check: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
