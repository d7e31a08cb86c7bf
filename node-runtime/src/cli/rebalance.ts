// `cairn rebalance status` and the progress display of `cairn drain`: repair progress from the admin
// status, as a progress bar (cli-progress) in a terminal and as plain lines otherwise. The bar's
// total is what has moved since the command started plus what is left, so it only grows when new
// work appears (a node lost meanwhile), which is what people expect from a rebalance bar.
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import type { AdminClient, ClusterStatus, RepairProgress } from '../admin/types.ts';
import { adminClient, ADMIN_URL_ENV, SECRET_ENV, type ConnOpts } from './connect.ts';

export interface WatchOptions {
  /** Stop when this holds (default: nothing under-replicated or left to move). */
  done?: (s: ClusterStatus) => boolean;
  /** A label shown after the bar, e.g. the draining member's state. */
  label?: (s: ClusterStatus) => string;
  intervalMs?: number;
  timeoutMs?: number; // 0 = no limit
  tty?: boolean;
  stream?: NodeJS.WritableStream;
}

export const converged = (s: ClusterStatus) => s.repair.underReplicatedChunks === 0 && s.repair.bytesRemaining === 0;

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** One line for people: counts, bytes, rate and ETA. */
export function describeRepair(r: RepairProgress): string {
  const eta = r.etaSeconds === null ? (r.bytesRemaining > 0 ? 'unknown' : '-') : `${r.etaSeconds}s`;
  return (
    `${r.underReplicatedChunks} under-replicated, ${r.misplacedChunks} misplaced chunks; ${bytes(r.bytesRemaining)} to move, ` +
    `${bytes(r.bytesMoved)} moved, ${bytes(r.rateBytesPerSec)}/s, ETA ${eta}`
  );
}

/** Poll the status until `done`; a bar in a TTY, a line every few polls otherwise. */
export async function watchRepair(admin: AdminClient, o: WatchOptions = {}): Promise<ClusterStatus> {
  const done = o.done ?? converged;
  const stream = o.stream ?? process.stderr;
  const tty = o.tty ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  const interval = o.intervalMs ?? 1000;
  const deadline = o.timeoutMs ? Date.now() + o.timeoutMs : Infinity;
  let s = await admin.status();
  const movedAtStart = s.repair.bytesMoved;
  const bar = tty
    ? new SingleBar({
        stream,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
        format: 'rebalance [{bar}] {percentage}% | {moved}/{all} | {under} under-replicated | {rate}/s | ETA {eta_formatted} {label}',
      })
    : undefined;
  const fields = (x: ClusterStatus) => {
    const moved = Math.max(0, x.repair.bytesMoved - movedAtStart);
    return {
      moved,
      total: Math.max(1, moved + x.repair.bytesRemaining),
      payload: {
        moved: bytes(moved),
        all: bytes(moved + x.repair.bytesRemaining),
        under: x.repair.underReplicatedChunks,
        rate: bytes(x.repair.rateBytesPerSec),
        label: o.label?.(x) ?? '',
      },
    };
  };
  const f0 = fields(s);
  bar?.start(f0.total, f0.moved, f0.payload);
  if (!bar) stream.write(`${describeRepair(s.repair)}${o.label ? ' ' + o.label(s) : ''}\n`);
  try {
    for (let polls = 0; !done(s); polls++) {
      if (Date.now() > deadline) throw new Error(`not finished after ${o.timeoutMs} ms: ${describeRepair(s.repair)}`);
      await new Promise((r) => setTimeout(r, interval));
      s = await admin.status();
      const f = fields(s);
      if (bar) {
        bar.setTotal(f.total);
        bar.update(f.moved, f.payload);
      } else if (polls % 5 === 4) stream.write(`${describeRepair(s.repair)}${o.label ? ' ' + o.label(s) : ''}\n`);
    }
    if (bar) {
      const f = fields(s);
      bar.setTotal(f.total);
      bar.update(f.total, f.payload);
    }
  } finally {
    bar?.stop();
  }
  return s;
}

/** `cairn drain` follows the drain here until the member is drained. */
export function watchDrain(admin: AdminClient, member: string, o: WatchOptions = {}): Promise<ClusterStatus> {
  const find = (s: ClusterStatus) => s.members.find((m) => m.id === member || m.name === member);
  return watchRepair(admin, {
    ...o,
    done: (s) => find(s)?.state === 'drained',
    label: (s) => `| ${member} ${find(s)?.state ?? 'gone'}`,
  });
}

/** Register `cairn rebalance status [--no-watch]` on a program. */
export function registerRebalanceCommands(program: Command, client: (o: ConnOpts) => AdminClient = adminClient): void {
  const rebalance = program.command('rebalance').description('repair and rebalancing progress');
  rebalance
    .command('status')
    .description('show repair/rebalance progress; in a terminal, a progress bar until the cluster has converged')
    .option('--admin <url>', `cluster port URL of any root or node (env ${ADMIN_URL_ENV}; default: the \`npm start\` cluster of $CAIRN_HOME, ./.cairn)`)
    .option('--secret <secret>', `cluster secret (env ${SECRET_ENV})`)
    .option('--json', 'print JSON for scripts')
    .option('--no-watch', 'print once and exit, even in a terminal')
    .action(async (o: { admin?: string; secret?: string; json?: boolean; watch: boolean }) => {
      try {
        const admin = client(o);
        const s = await admin.status();
        if (o.json) {
          process.stdout.write(
            JSON.stringify({ repair: s.repair, members: s.members.map((m) => ({ name: m.name, state: m.state, repair: m.repair })) }, null, 2) + '\n',
          );
          return;
        }
        process.stdout.write(`cluster: ${describeRepair(s.repair)}\n`);
        for (const m of s.members.filter((x) => x.roles.includes('node'))) process.stdout.write(`  ${m.name} (${m.state}): ${describeRepair(m.repair)}\n`);
        if (o.watch && process.stderr.isTTY && !converged(s)) await watchRepair(admin, { timeoutMs: 0 });
      } catch (e) {
        const err = e as Error & { code?: string };
        process.stderr.write(`cairn: ${err.code ? err.code + ': ' : ''}${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
