// `cairn status|drain|undrain|bucket create|keys add`: the admin API for people (tables) and scripts
// (--json). Every command talks to one cluster port through admin/client.ts.
import { InvalidArgumentError, type Command } from 'commander';
import { adminClient, ADMIN_URL_ENV, SECRET_ENV, type ConnOpts as Conn } from './connect.ts';
import type { AdminClient, ClusterStatus } from '../admin/types.ts';
import { watchDrain } from './rebalance.ts';

interface ConnOpts extends Conn {
  json?: boolean;
}

const client = (o: ConnOpts): AdminClient => adminClient(o);

function withConn(cmd: Command): Command {
  return cmd
    .option('--admin <url>', `cluster port URL of any root or node (env ${ADMIN_URL_ENV}; default: the \`npm start\` cluster of $CAIRN_HOME, ./.cairn)`)
    .option('--secret <secret>', `cluster secret (env ${SECRET_ENV})`)
    .option('--json', 'print JSON for scripts');
}

// Errors print one clear line and set a non-zero exit code instead of a stack trace.
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const err = e as Error & { code?: string };
      process.stderr.write(`cairn: ${err.code ? err.code + ': ' : ''}${err.message}\n`);
      process.exitCode = 1;
    }
  };
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40, pi: 2 ** 50 };

/** A size as people write it: 1048576, 500M, 10Gi, 10GiB, 1.5TB (decimal and binary suffixes). */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]i?)?b?$/i.exec(v.trim());
  const n = m ? Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()] : NaN;
  if (!Number.isSafeInteger(Math.round(n)) || !m) throw new InvalidArgumentError(`not a size: ${v} (e.g. 10GiB, 500M, 1048576)`);
  return Math.round(n);
}

const count =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${v}`);
    return n;
  };

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

/** A line per disk state other than ok: the cluster is not healthy while any disk is full or failed. */
function diskWarnings(s: ClusterStatus): string[] {
  const named = (d: string) => s.members.filter((m) => m.disk === d).map((m) => m.name);
  const full = named('full'),
    failed = named('failed');
  return [
    ...(full.length ? [`disks FULL (no new chunks, reads served): ${full.join(', ')}`] : []),
    ...(failed.length ? [`disks FAILED (out of placement, data rebuilt elsewhere): ${failed.join(', ')}`] : []),
  ];
}

/** `used/limit`, or just `used` without a limit. */
const ofQuota = (used: string, limit: string | undefined) => (limit === undefined ? used : `${used}/${limit}`);
const maybe = <T>(v: T | undefined, f: (x: T) => string) => (v === undefined ? undefined : f(v));

/** The status for people: a summary line, then members and buckets as tables. */
export function formatStatus(s: ClusterStatus): string {
  const counts = Object.entries(s.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const lines = [
    `cluster ${s.clusterId}  endpoint ${s.endpoint}  region ${s.region}`,
    `members: ${counts || 'none'}  used ${bytes(s.usedBytes)} of ${bytes(s.capacityBytes)}  write quorum ${s.writeQuorumAvailable ? 'available' : 'NOT available'}`,
    `repair: ${s.repair.underReplicatedChunks} under-replicated, ${s.repair.misplacedChunks} misplaced chunks`,
    ...diskWarnings(s),
    '',
    table([
      ['NAME', 'ID', 'ROLES', 'STATE', 'DISK', 'ZONE', 'WEIGHT', 'USED', 'CHUNKS', 'HEARTBEAT', 'API'],
      ...s.members.map((m) => [
        m.name,
        m.id.slice(0, 8),
        m.roles.join(','),
        m.state,
        m.disk ?? '-',
        m.zone || '-',
        String(m.weight),
        bytes(m.usedBytes),
        String(m.chunks),
        `${(m.heartbeatAgeMs / 1000).toFixed(1)}s ago`,
        m.api,
      ]),
    ]),
    '',
    s.buckets.length === 0
      ? 'no buckets'
      : table([
          ['BUCKET', 'REPLICAS', 'ACCESS', 'OBJECTS', 'BYTES', 'CREATED'],
          ...s.buckets.map((b) => [
            b.name,
            String(b.replicas),
            b.access,
            ofQuota(String(b.objects), maybe(b.quotaObjects, String)),
            ofQuota(bytes(b.bytes), maybe(b.quotaBytes, bytes)),
            b.createdAt,
          ]),
        ]),
    ...(s.users?.length
      ? [
          '',
          table([
            ['USER', 'BUCKETS', 'OBJECTS', 'BYTES'],
            ...s.users.map((u) => [
              u.id,
              ofQuota(String(u.buckets), maybe(u.quota?.buckets, String)),
              ofQuota(String(u.objects), maybe(u.quota?.objects, String)),
              ofQuota(bytes(u.bytes), maybe(u.quota?.bytes, bytes)),
            ]),
          ]),
        ]
      : []),
  ];
  return lines.join('\n') + '\n';
}

const out = (o: ConnOpts, value: unknown, human: string) => process.stdout.write(o.json ? JSON.stringify(value, null, 2) + '\n' : human + '\n');

export function registerAdminCommands(program: Command): void {
  withConn(program.command('status').description('show members, buckets and repair progress')).action(
    action(async (o: ConnOpts) => {
      const s = await client(o).status();
      process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s));
    }),
  );

  withConn(
    program
      .command('drain')
      .argument('<node>', 'member id or name')
      .description('stop placing data on a node and move its data off')
      .option('--no-wait', 'return once the node is marked draining (in a terminal the default is a progress bar until drained)'),
  ).action(
    action(async (node: string, o: ConnOpts & { wait: boolean }) => {
      const admin = client(o);
      const m = await admin.drain(node);
      out(o, m, `${m.name} (${m.id}) is ${m.state}`);
      // In a terminal, follow the data moving off until the member is drained (Ctrl-C stops watching, not the drain).
      if (o.wait && !o.json && process.stderr.isTTY && m.state !== 'drained') {
        await watchDrain(admin, m.name);
        process.stdout.write(`${m.name} is drained\n`);
      }
    }),
  );

  withConn(program.command('undrain').argument('<node>', 'member id or name').description('make a draining node active again')).action(
    action(async (node: string, o: ConnOpts) => {
      const m = await client(o).undrain(node);
      out(o, m, `${m.name} (${m.id}) is ${m.state}`);
    }),
  );

  const bucket = program.command('bucket').description('manage buckets');
  withConn(
    bucket
      .command('create')
      .argument('<name>')
      .description('create (or update) a bucket')
      .option('--replicas <n>', 'replication factor R', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--replicas must be a positive integer, got ${v}`);
        return n;
      })
      .option('--owner <user>', 'the user who owns it (default: admin)')
      .option('--public', 'allow anonymous reads (public-read)'),
  ).action(
    action(async (name: string, o: ConnOpts & { replicas?: number; public?: boolean; owner?: string }) => {
      const b = await client(o).putBucket({ name, owner: o.owner, replicas: o.replicas, access: o.public ? 'public-read' : undefined });
      out(o, b, `bucket ${b.name}: owner ${b.owner}, ${b.replicas} replicas, ${b.access}`);
    }),
  );

  const user = program.command('user').description('manage users (each owns its buckets and objects)');
  withConn(
    user
      .command('create')
      .argument('<id>')
      .description('create (or update) a user')
      .option('--display-name <name>', 'the name S3 shows for it (default: the id)')
      .option('--email <address>', 'for grants by e-mail'),
  ).action(
    action(async (id: string, o: ConnOpts & { displayName?: string; email?: string }) => {
      const u = await client(o).putUser({ id, displayName: o.displayName, email: o.email });
      out(o, u, `user ${u.id} (${u.displayName})`);
    }),
  );
  withConn(user.command('list').description('users with their keys and buckets')).action(
    action(async (o: ConnOpts) => {
      const us = await client(o).users!();
      out(
        o,
        us,
        us
          .map(
            (u) =>
              `${u.id.padEnd(24)} ${u.disabled ? 'disabled' : 'enabled '} keys: ${u.keys.map((k) => k.accessKeyId + (k.disabled ? ' (disabled)' : '')).join(', ') || '-'}  buckets: ${u.buckets.join(', ') || '-'}`,
          )
          .join('\n'),
      );
    }),
  );
  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    withConn(
      user
        .command(verb)
        .argument('<id>')
        .description(`${verb} a user: ${disabled ? 'its keys stop working on every node within seconds' : 'its keys work again'}`),
    ).action(
      action(async (id: string, o: ConnOpts) => {
        const u = await client(o).putUser({ id, disabled });
        out(o, u, `user ${u.id} ${u.disabled ? 'disabled' : 'enabled'}`);
      }),
    );
  }
  withConn(user.command('delete').argument('<id>').description('delete a user and its keys (it must own no buckets)')).action(
    action(async (id: string, o: ConnOpts) => {
      await client(o).deleteUser!(id);
      out(o, { deleted: id }, `user ${id} deleted`);
    }),
  );

  withConn(
    user
      .command('quota')
      .argument('<id>')
      .description("set a user's plan: limits over every bucket it owns (omitted limits are removed)")
      .option('--bytes <size>', 'most bytes, e.g. 10GiB, 500M, 1048576', parseSize)
      .option('--objects <n>', 'most objects', count('--objects'))
      .option('--buckets <n>', 'most buckets', count('--buckets'))
      .option('--clear', 'remove every limit'),
  ).action(
    action(async (id: string, o: ConnOpts & { bytes?: number; objects?: number; buckets?: number; clear?: boolean }) => {
      const quota = o.clear
        ? {}
        : {
            ...(o.bytes !== undefined ? { bytes: o.bytes } : {}),
            ...(o.objects !== undefined ? { objects: o.objects } : {}),
            ...(o.buckets !== undefined ? { buckets: o.buckets } : {}),
          };
      if (!o.clear && Object.keys(quota).length === 0) throw new Error('give --bytes, --objects, --buckets or --clear');
      const u = await client(o).putUserQuota!(id, quota);
      const q = u.quota ?? {};
      const held = u.usage ?? { buckets: 0, objects: 0, bytes: 0 };
      out(
        o,
        u,
        `user ${u.id}: buckets ${ofQuota(String(held.buckets), maybe(q.buckets, String))}, objects ${ofQuota(String(held.objects), maybe(q.objects, String))}, bytes ${ofQuota(bytes(held.bytes), maybe(q.bytes, bytes))}`,
      );
    }),
  );

  const keys = program.command('keys').description('manage access keys (each belongs to one user)');
  withConn(
    keys
      .command('add')
      .description('create an access key pair for a user (the secret is printed once)')
      .requiredOption('--user <id>', 'the user the key belongs to')
      .option('--id <id>', 'access key id (generated when omitted)')
      .option('--secret-key <secret>', 'secret access key (generated when omitted)'),
  ).action(
    action(async (o: ConnOpts & { id?: string; secretKey?: string; user: string }) => {
      const k = await client(o).createKey({ user: o.user, accessKeyId: o.id, secretAccessKey: o.secretKey });
      out(o, k, `user:              ${k.user}\naccess key id:     ${k.accessKeyId}\nsecret access key: ${k.secretAccessKey}`);
    }),
  );
  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    withConn(keys.command(verb).argument('<accessKeyId>').description(`${verb} an access key`)).action(
      action(async (id: string, o: ConnOpts) => {
        const k = await client(o).setKeyDisabled!(id, disabled);
        out(o, k, `access key ${k.accessKeyId} ${k.disabled ? 'disabled' : 'enabled'}`);
      }),
    );
  }
  withConn(keys.command('delete').argument('<accessKeyId>').description('delete an access key')).action(
    action(async (id: string, o: ConnOpts) => {
      await client(o).deleteKey(id);
      out(o, { deleted: id }, `access key ${id} deleted`);
    }),
  );
}
