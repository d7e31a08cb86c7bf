// Time to full redundancy after a disk loss (issue 23 item 3): `npx node hack/bench/disk-loss.ts [--gib 1] [--nodes 4]`
// (npm run bench:disk-loss). Not part of npm test.
//
// 1 root + N nodes (real `cairn server` processes on loopback, default settings: 1 s heartbeats, phi
// failure detection), one bucket with R=2 filled through S3 with 64 MiB objects until each node holds
// about --gib GiB. Once the cluster settled (no under-replicated nor misplaced chunk, usage steady),
// the node holding the most is SIGKILLed and stays dead: its disk is lost. The root's admin status is
// polled every 250 ms; the run ends when the node is `down`, no chunk is under-replicated or misplaced
// on any member, and every live node reports a repair pass that started after the loss was detected.
// Prints the time to detection, from detection to full redundancy, and a timeline; the goal is
// detection + 20 s at 1 GiB per node. With --replace, a new node with an empty disk takes the lost
// one's place at once (as a StatefulSet brings the pod back on a new volume): the data then also
// moves to it, and the copies made meanwhile elsewhere become misplaced and are dropped.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { s3Client, startCairnProcess, type CairnProcess } from '../testing/cairn.ts';
import { waitFor } from '../testing/net.ts';
import { createAdminClient } from '../../node-runtime/src/admin/client.ts';
import type { ClusterStatus } from '../../node-runtime/src/admin/types.ts';

const log = (s: string) => console.error(`[disk-loss ${new Date().toISOString().slice(11, 19)}] ${s}`);
const MiB = 1024 * 1024;
const OBJECT = 64 * MiB;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { gib: { type: 'string', default: '1' }, nodes: { type: 'string', default: '4' }, replace: { type: 'boolean', default: false } },
    strict: true,
  });
  const gib = Number(values.gib);
  const n = Number(values.nodes);
  const secret = randomBytes(12).toString('hex');
  const common = {
    secret,
    accessKey: 'AKDISKLOSS',
    secretKey: 'disk-loss-secret-key',
    env: { CAIRN_LOG_LEVEL: 'error', ...JSON.parse(process.env.CAIRN_BENCH_SERVER_ENV ?? '{}') },
  };
  const procs: CairnProcess[] = [];
  try {
    const root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
    procs.push(root);
    const nodes: CairnProcess[] = [];
    for (let i = 0; i < n; i++) nodes.push(await startCairnProcess({ ...common, roles: ['node'], name: `node-${i}`, roots: [root.cluster] }));
    procs.push(...nodes);
    const admin = createAdminClient({ url: root.cluster, secret });
    await waitFor(async () => (await admin.status()).counts.active === n + 1, { timeoutMs: 30_000, what: 'members active' });
    await admin.putBucket({ name: 'loss', replicas: 2 });

    const objects = Math.ceil((gib * 1024 * MiB * n) / 2 / OBJECT);
    log(`writing ${objects} × 64 MiB (R=2: ≈ ${gib} GiB per node on ${n} nodes)`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        const s3 = s3Client(nodes[w % n]!);
        for (let i = next++; i < objects; i = next++) {
          const body = randomBytes(OBJECT);
          await s3.putObject('loss', `o${i}`, body, body.length);
        }
      }),
    );
    const quiet = (s: ClusterStatus) => s.repair.underReplicatedChunks === 0 && s.repair.misplacedChunks === 0;
    let lastUsage = '';
    const settled = await waitFor(
      async () => {
        const s = await admin.status();
        const usage = JSON.stringify(s.members.map((m) => m.usedBytes));
        const ok = quiet(s) && usage === lastUsage;
        lastUsage = usage;
        return ok ? s : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2000, what: 'the cluster settled after the fill' },
    );
    const ranked = settled.members.filter((m) => m.roles.includes('node')).sort((a, b) => b.usedBytes - a.usedBytes);
    const victim = ranked[0]!;
    const proc = nodes.find((p) => p.name === victim.name)!;
    log(`usage per node: ${ranked.map((m) => `${m.name} ${(m.usedBytes / MiB).toFixed(0)} MiB`).join(', ')}`);
    log(`killing ${victim.name} (SIGKILL; its disk counts as lost)`);
    const t0 = Date.now();
    await proc.kill('SIGKILL');
    if (values.replace) {
      procs.push(await startCairnProcess({ ...common, roles: ['node'], name: `${victim.name}-new`, roots: [root.cluster] }));
      log(`${victim.name}-new started with an empty disk (${((Date.now() - t0) / 1000).toFixed(1)} s after the kill)`);
    }
    let detected: number | undefined;
    let peakUnder = 0;
    let peakMisplaced = 0;
    const timeline: string[] = [];
    let lastLine = '';
    const done = await waitFor(
      async () => {
        const s = await admin.status().catch(() => undefined);
        if (!s) return undefined;
        const t = Date.now();
        const down = s.members.find((m) => m.name === victim.name)?.state === 'down';
        if (down && detected === undefined) detected = t;
        const { underReplicatedChunks: under, misplacedChunks: misplaced } = s.repair;
        peakUnder = Math.max(peakUnder, under);
        peakMisplaced = Math.max(peakMisplaced, misplaced);
        const line = `${down ? 'down' : 'up?'} under ${under} misplaced ${misplaced} moved ${(s.repair.bytesMoved / MiB).toFixed(0)} MiB`;
        if (line !== lastLine) timeline.push(`${((t - t0) / 1000).toFixed(2)} s: ${line}`);
        lastLine = line;
        const live = s.members.filter((m) => m.roles.includes('node') && m.state === 'active');
        if (values.replace && !live.some((m) => m.name === `${victim.name}-new`)) return undefined;
        const passedSince = detected !== undefined && live.every((m) => (m.repair.lastPassAt ?? 0) >= detected! - 1000);
        return down && passedSince && under === 0 && misplaced === 0 && peakUnder > 0 ? t : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 250, what: 'full redundancy after the loss' },
    );
    for (const l of timeline) log(l);
    const detectS = (detected! - t0) / 1000;
    const repairS = (done - detected!) / 1000;
    console.log(
      `disk loss of ${victim.name}${values.replace ? ', replaced by an empty node' : ''} (${(victim.usedBytes / MiB).toFixed(0)} MiB, ${n} nodes, R=2): detected ${detectS.toFixed(1)} s after the kill, ` +
        `full redundancy (0 under-replicated, 0 misplaced) ${repairS.toFixed(1)} s after detection, ${(detectS + repairS).toFixed(1)} s in all; ` +
        `peak ${peakUnder} under-replicated, ${peakMisplaced} misplaced; goal: detection + 20 s: ${repairS <= 20 ? 'met' : 'MISSED'}`,
    );
  } finally {
    await Promise.allSettled(procs.map((p) => p.cleanup()));
  }
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    },
  );
}
