// The soak check itself: its verdict on made-up series (a leak is caught, noise is not), and a
// short real run of `npm run soak` over `npm start` (the full 15 minutes is `npm run soak`).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loopbackAddress } from '../testing/net.ts';
import { processTree, sample, verdict, type Sample } from './main.ts';

const repo = new URL('../..', import.meta.url).pathname;
const series = (fds: number[]): Sample[] => fds.map((n, i) => ({ atS: i * 30, processes: 8, fds: n, sockets: Math.round(n / 2) }));

test('verdict: a steady count is flat, a climbing one is not', () => {
  assert.ok(verdict(series([400, 410, 395, 405, 402, 398])).flat);
  const leak = verdict(series([400, 900, 1400, 1900, 2400, 2900]));
  assert.not.ok(leak.flat);
  assert.match(leak.why, 'fds 400 → 2900');
});

test("sample counts this process's own fds and sockets", () => {
  const me = sample(processTree(process.pid), 0);
  assert.ok(me.processes >= 1 && me.fds >= 3, `${JSON.stringify(me)}`);
});

test('npm run soak over npm start: a short run stays flat', async () => {
  const podNetwork = `127.${250 + Math.floor(Math.random() * 5)}.`;
  const args = [
    '--minutes',
    '1',
    '--settle',
    '15',
    '--every',
    '10',
    '--',
    '--roots',
    '1',
    '--nodes',
    '2',
    '--kube-host',
    loopbackAddress(),
    '--kube-port',
    '0',
    '--pod-network',
    podNetwork,
    '--timeout',
    '150',
  ];
  const child = spawn(process.execPath, [join(repo, 'hack/soak/main.ts'), ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.is(code, 0, out.slice(-3000));
  assert.match(out, /^flat: /m);
  const rows = out.split('\n').filter((l) => /^\s+\d+\s+\d+\s+\d+\s+\d+$/.test(l));
  assert.ok(rows.length >= 6, `sampled every 10 s for a minute:\n${out}`);
  assert.ok(
    rows.every((r) => Number(r.trim().split(/\s+/)[1]) >= 5),
    'the control plane, two operators and three storage pods are all counted',
  );
});

test.run();
