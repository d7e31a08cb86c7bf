// The chaos suite: concurrent writers, overwriters, deleters and readers against a local cluster
// of real `cairn` processes while faults happen — SIGKILL and restart of random nodes, a node
// added, another drained, a node whose disk is full for a while, and clients that start uploads and
// go silent (their sockets must be closed by the idle timeout). At the end every acknowledged object must read back with the right
// SHA-256, every acknowledged delete must stay deleted, under-replicated must reach 0, and after
// the GC grace period no orphan chunk may remain. Bounded in time and operations; stops by itself.
import { Client } from 'minio';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startCairnProcess, type CairnProcess } from '../testing/cairn.ts';
import { loopbackAddress, waitFor } from '../testing/net.ts';
import { createAdminClient } from '../../node-runtime/src/admin/client.ts';
import type { ClusterStatus } from '../../node-runtime/src/admin/types.ts';
import { Ledger, body, sha256 } from './workload.ts';
import { stalledUpload, type StalledUpload } from './stalled.ts';

export interface ChaosOptions {
  durationMs: number; // how long the workload and faults run
  nodes: number; // initial ordinary nodes (one more joins mid-run)
  replicas: number; // bucket R
  workers: number; // concurrent key owners
  keysPerWorker: number;
  maxOpsPerWorker: number; // hard bound on operations
  faultEveryMs: number;
  chunkSize: number;
  failureTimeoutMs: number;
  gcGraceMs: number;
  log?: (line: string) => void;
}

export interface ChaosSummary {
  operations: number;
  acknowledged: number;
  lost: number;
  corrupted: number;
  badReads: number;
  orphanChunks: number;
  fullRedundancyMs: number;
  kills: number;
  joined: number;
  drained: number;
  /** Nodes made full (their disk below its reserve) for a few fault periods. */
  diskFull: number;
  /** Uploads started and left silent; those whose socket the node had not closed within the idle timeout (+ 5 s). */
  stalledClients: number;
  stalledOpen: number;
}

/** The idle timeout the chaos nodes run with: a silent upload's socket is closed after it. */
const IDLE_TIMEOUT_MS = 3_000;
/** The fault rounds every run has: 2 a join, 3 a drain, 4 a full disk (random kills in the others). */
const LAST_SCRIPTED_ROUND = 4;
/** How long past its duration a run may go for its scripted faults on a slow host. */
const SCRIPTED_GRACE_MS = 60_000;
/** A disk reserve no disk has free (the node is full), and an ordinary one to come back with. */
const NO_ROOM = '1000000000000000',
  ROOM = String(256 * 1024 * 1024);

const sizes = [1024, 40 * 1024, 300 * 1024, 1_200 * 1024];

/** The short profile runs inside `npm test` (chaos.test.ts); the long one by hand (`npm run chaos`).
 *  The GC grace must exceed the longest upload: a chunk stored before its version is committed is
 *  unreferenced until then (refs.ts). */
export const chaosProfiles: Record<'short' | 'long', ChaosOptions> = {
  short: {
    durationMs: 20_000,
    nodes: 4,
    replicas: 2,
    workers: 4,
    keysPerWorker: 8,
    maxOpsPerWorker: 400,
    faultEveryMs: 3_000,
    chunkSize: 256 * 1024,
    failureTimeoutMs: 2_000,
    gcGraceMs: 8_000,
  },
  long: {
    durationMs: 5 * 60_000,
    nodes: 4,
    replicas: 2,
    workers: 8,
    keysPerWorker: 50,
    maxOpsPerWorker: 20_000,
    faultEveryMs: 15_000,
    chunkSize: 256 * 1024,
    failureTimeoutMs: 3_000,
    gcGraceMs: 15_000,
  },
};

export async function runChaos(o: ChaosOptions): Promise<ChaosSummary> {
  const log = o.log ?? (() => {});
  const base = mkdtempSync(join(tmpdir(), 'cairn-chaos-'));
  const secret = randomBytes(16).toString('hex');
  const accessKey = 'CHAOS' + randomBytes(6).toString('hex').toUpperCase();
  const secretKey = randomBytes(20).toString('hex');
  const env = {
    CAIRN_FAILURE_TIMEOUT_MS: String(o.failureTimeoutMs),
    CAIRN_GC_GRACE_MS: String(o.gcGraceMs),
    CAIRN_REPAIR_INTERVAL_MS: '1000',
    CAIRN_HEARTBEAT_MS: '250',
    CAIRN_LOG_LEVEL: 'error',
    CAIRN_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
  };
  const common = { secret, accessKey, secretKey, env, extraArgs: ['--chunk-size', String(o.chunkSize)] };
  const procs: CairnProcess[] = [];
  const summary: ChaosSummary = {
    operations: 0,
    acknowledged: 0,
    lost: 0,
    corrupted: 0,
    badReads: 0,
    orphanChunks: 0,
    fullRedundancyMs: 0,
    kills: 0,
    joined: 0,
    drained: 0,
    diskFull: 0,
    stalledClients: 0,
    stalledOpen: 0,
  };
  const stalled: StalledUpload[] = [];
  try {
    const root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0', host: loopbackAddress(), dataDir: join(base, 'root-0') });
    procs.push(root);
    const startNode = async (i: number) => {
      const p = await startCairnProcess({
        ...common,
        roles: ['node'],
        name: `node-${i}`,
        host: loopbackAddress(),
        dataDir: join(base, `node-${i}`),
        roots: [root.cluster],
      });
      procs.push(p);
      return p;
    };
    for (let i = 0; i < o.nodes; i++) await startNode(i);
    const admin = createAdminClient({ url: root.cluster, secret });
    await waitFor(async () => (await admin.status()).members.filter((m) => m.state === 'active' && m.roles.includes('node')).length === o.nodes, {
      timeoutMs: 30_000,
      what: 'nodes active',
    });
    await admin.putBucket({ name: 'chaos', replicas: o.replicas });

    const nodeProcs = () => procs.filter((p) => p !== root);
    const clientFor = (p: CairnProcess) => {
      const u = new URL(p.endpoint);
      return new Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey, secretKey, region: 'us-east-1' });
    };
    const ledger = new Ledger();
    const deadline = Date.now() + o.durationMs;
    // The scripted faults (a join, a drain, a full disk: rounds 2–4) happen in every run, also on a
    // host so slow that they do not fit the duration; the writers go on until they did. This bounds
    // how far past the duration that may go.
    const hardStop = deadline + SCRIPTED_GRACE_MS;
    let scripted = false;
    const down = new Set<CairnProcess>();
    let drainedName: string | undefined;

    // Workers: each owns its keys and talks to a random live process each time (any node answers).
    const worker = async (w: number) => {
      const versions = new Map<string, number>();
      for (let n = 0; n < o.maxOpsPerWorker && (Date.now() < deadline || !scripted) && Date.now() < hardStop; n++) {
        const key = `w${w}/k${Math.floor(Math.random() * o.keysPerWorker)}`;
        const live = procs.filter((p) => !down.has(p));
        const c = clientFor(live[Math.floor(Math.random() * live.length)]!);
        const dice = Math.random();
        try {
          if (dice < 0.5) {
            const v = (versions.get(key) ?? 0) + 1;
            versions.set(key, v);
            const b = body(key, v, sizes[Math.floor(Math.random() * sizes.length)]!);
            const out = { kind: 'put' as const, sha: sha256(b) };
            ledger.attempt(key, out);
            try {
              await c.putObject('chaos', key, b, b.length);
              ledger.ack(key, out);
            } catch {
              ledger.fail(key, out);
            }
          } else if (dice < 0.65) {
            ledger.attempt(key, { kind: 'delete' });
            try {
              await c.removeObject('chaos', key);
              ledger.ack(key, { kind: 'delete' });
            } catch {
              ledger.fail(key, { kind: 'delete' });
            }
          } else {
            const got = await readBody(c, key);
            if (got !== null && got !== 'error' && !ledger.plausibleRead(key, got)) summary.badReads++;
          }
        } catch {
          /* a read error during faults is allowed; wrong bytes are not */
        }
      }
    };

    // Faults: kill a random node and restart it after a while; one join, one drain and one full
    // disk mid-run; silent uploads all along.
    let full: CairnProcess | undefined;
    const refill = async () => {
      const f = full;
      if (!f) return;
      full = undefined;
      down.add(f);
      await f.restart({ CAIRN_DISK_RESERVE_BYTES: ROOM }).finally(() => down.delete(f));
      log(`chaos: ${f.name} has room again`);
    };
    const faults = (async () => {
      let round = 0;
      while ((round < LAST_SCRIPTED_ROUND || Date.now() < deadline - o.faultEveryMs) && Date.now() < hardStop) {
        if (round >= LAST_SCRIPTED_ROUND) scripted = true; // its fault is done
        await new Promise((r) => setTimeout(r, o.faultEveryMs));
        round++;
        // Two uploads that announce 2 MiB, send 64 KiB and go silent, on random live nodes.
        for (let i = 0; i < 2; i++) {
          const live = nodeProcs().filter((p) => !down.has(p));
          const at = live[Math.floor(Math.random() * live.length)];
          if (at) stalled.push(stalledUpload(at.endpoint, { accessKey, secretKey }, `chaos/stalled-${round}-${i}`, 2 * 1024 * 1024, 64 * 1024));
        }
        if (round === 2) {
          await startNode(o.nodes);
          summary.joined++;
          log('chaos: node joined');
          continue;
        }
        if (round === 3 && !drainedName) {
          const victim = nodeProcs().find((p) => !down.has(p));
          if (victim) {
            try {
              await admin.drain(victim.name);
              drainedName = victim.name;
              summary.drained++;
              log(`chaos: draining ${victim.name}`);
            } catch (e) {
              log(`chaos: drain refused: ${(e as Error).message}`);
            }
          }
          continue;
        }
        if (round === 4 && !full) {
          // A disk below its reserve: the node takes no new chunks, serves what it holds.
          const victim = nodeProcs().find((p) => !down.has(p) && p.name !== drainedName);
          if (victim) {
            down.add(victim);
            await victim.restart({ CAIRN_DISK_RESERVE_BYTES: NO_ROOM }).finally(() => down.delete(victim));
            full = victim;
            summary.diskFull++;
            log(`chaos: ${victim.name} disk full`);
          }
          continue;
        }
        if (round === 6) {
          await refill();
          continue;
        }
        const candidates = nodeProcs().filter((p) => !down.has(p) && p.name !== drainedName && p !== full);
        if (candidates.length <= o.replicas) continue;
        const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
        down.add(victim);
        summary.kills++;
        await victim.kill('SIGKILL');
        log(`chaos: killed ${victim.name}`);
        setTimeout(() => {
          void victim
            .restart()
            .then(() => down.delete(victim))
            .catch(() => {});
        }, o.faultEveryMs / 2);
      }
      scripted = true;
    })();

    await Promise.all([faults, ...Array.from({ length: o.workers }, (_, w) => worker(w))]);
    await refill();
    await waitFor(() => down.size === 0, { timeoutMs: 60_000, what: 'killed nodes restarted' });
    // Every silent upload's socket closed by its node within the idle timeout (a node killed
    // meanwhile closes it too).
    summary.stalledClients = stalled.length;
    summary.stalledOpen = (await Promise.all(stalled.map((x) => x.closedWithin(IDLE_TIMEOUT_MS + 5_000)))).filter((closed) => !closed).length;

    // Convergence: full redundancy with every node back, judged only from repair passes that
    // started after the last fault (an older pass's zero says nothing about the current map).
    const t0 = Date.now();
    let last: ClusterStatus | undefined;
    await waitFor(
      async () => {
        last = await admin.status();
        const data = last.members.filter((m) => m.roles.includes('node') && (m.state === 'active' || m.state === 'draining'));
        return (
          last.repair.underReplicatedChunks === 0 &&
          last.members.every((m) => m.state !== 'down' && m.state !== 'joining' && m.disk !== 'full') &&
          data.every((m) => (m.repair.lastPassAt ?? 0) > t0 && m.repair.underReplicatedChunks === 0) &&
          (drainedName === undefined || last.members.find((m) => m.name === drainedName)?.state === 'drained')
        );
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'under-replicated = 0 and the drain finished' },
    ).catch((e) => {
      for (const m of last?.members ?? []) log(`chaos: ${m.name} ${m.state} ${JSON.stringify(m.repair)}`);
      throw e;
    });
    summary.fullRedundancyMs = Date.now() - t0;

    // Verification through a node that was never drained.
    const reader = clientFor(nodeProcs().find((p) => p.name !== drainedName)!);
    for (const key of ledger.keys.keys()) {
      const got = await readBody(reader, key);
      if (got === 'error') {
        summary.lost++;
        continue;
      }
      if (!ledger.allowedFinal(key, got)) {
        if (got === null) summary.lost++;
        else summary.corrupted++;
        log(`chaos: ${key} holds ${got ?? 'nothing'}, expected ${JSON.stringify(ledger.keys.get(key)?.acked)}`);
      }
    }
    summary.operations = ledger.operations;
    summary.acknowledged = ledger.acknowledged;

    // Orphans: after the grace period, chunk replicas on disk == chunks of live objects × R.
    summary.orphanChunks = await orphanChunks(admin, o, ledger, reader);
    return summary;
  } finally {
    for (const x of stalled) x.destroy();
    await Promise.allSettled(procs.map((p) => p.cleanup()));
    rmSync(base, { recursive: true, force: true });
  }
}

async function readBody(c: Client, key: string): Promise<string | null | 'error'> {
  try {
    const s = await c.getObject('chaos', key);
    const parts: Buffer[] = [];
    for await (const d of s) parts.push(d as Buffer);
    return sha256(Buffer.concat(parts));
  } catch (e) {
    return (e as { code?: string }).code === 'NoSuchKey' ? null : 'error';
  }
}

async function orphanChunks(admin: ReturnType<typeof createAdminClient>, o: ChaosOptions, ledger: Ledger, c: Client): Promise<number> {
  let expected = 0;
  for (const key of ledger.keys.keys()) {
    try {
      const st = await c.statObject('chaos', key);
      if (st.size > 64 * 1024) expected += Math.ceil(st.size / o.chunkSize) * o.replicas;
    } catch {
      /* deleted */
    }
  }
  let held = 0;
  await waitFor(
    async () => {
      const s = await admin.status();
      held = s.members.filter((m) => m.state === 'active').reduce((a, m) => a + m.chunks, 0);
      return held <= expected;
    },
    { timeoutMs: o.gcGraceMs + 60_000, intervalMs: 1000, what: 'garbage collection' },
  ).catch(() => {});
  return Math.max(0, held - expected);
}

export function formatSummary(s: ChaosSummary): string {
  return `chaos: operations=${s.operations} acknowledged=${s.acknowledged} lost=${s.lost} corrupted=${s.corrupted} bad-reads=${s.badReads} orphan-chunks=${s.orphanChunks} kills=${s.kills} joined=${s.joined} drained=${s.drained} disk-full=${s.diskFull} stalled-clients=${s.stalledClients} stalled-left-open=${s.stalledOpen} time-to-full-redundancy=${(s.fullRedundancyMs / 1000).toFixed(1)}s`;
}
