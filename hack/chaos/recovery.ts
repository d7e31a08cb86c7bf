// Time to full redundancy after losing a node holding ≥ `--gib` GiB, next to this disk's sequential
// write rate. `npx node hack/chaos/recovery.ts [--gib 1] [--nodes 4]`: starts 1 root + N nodes
// (R=2, 4 MiB chunks, repair unthrottled), fills a bucket until the fullest node holds the target,
// SIGKILLs it and times (a) failure detection and (b) the repair until every member reports a
// pass with nothing under-replicated. Prints one line per measurement.
import { Client } from 'minio';
import { mkdtempSync, rmSync, openSync, writeSync, fsyncSync, closeSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { startCairnProcess, type CairnProcess } from '../testing/cairn.ts';
import { loopbackAddress, waitFor } from '../testing/net.ts';
import { createAdminClient } from '../../node-runtime/src/admin/client.ts';
import type { ClusterStatus } from '../../node-runtime/src/admin/types.ts';

const { values } = parseArgs({ options: { gib: { type: 'string', default: '1' }, nodes: { type: 'string', default: '4' } } });
const target = Number(values.gib) * 1024 ** 3;
const nodeCount = Number(values.nodes);
const MiB = 1024 * 1024;

/** Sequential write of `bytes` in 4 MiB blocks with one fsync at the end (dd conv=fsync), in MB/s. */
function diskWriteMBps(dir: string, bytes: number): number {
  const path = join(dir, 'disk-rate.bin');
  const block = randomBytes(4 * MiB);
  const t = performance.now();
  const fd = openSync(path, 'w');
  for (let n = 0; n < bytes; n += block.length) writeSync(fd, block);
  fsyncSync(fd);
  closeSync(fd);
  const s = (performance.now() - t) / 1000;
  unlinkSync(path);
  return bytes / 1e6 / s;
}

const base = mkdtempSync(join(tmpdir(), 'cairn-recovery-'));
const secret = randomBytes(16).toString('hex');
const accessKey = 'RECOVERY' + randomBytes(4).toString('hex').toUpperCase(),
  secretKey = randomBytes(20).toString('hex');
const env = { CAIRN_FAILURE_TIMEOUT_MS: '3000', CAIRN_HEARTBEAT_MS: '250', CAIRN_REPAIR_INTERVAL_MS: '2000', CAIRN_LOG_LEVEL: 'error' };
const common = { secret, accessKey, secretKey, env, extraArgs: ['--repair-concurrency', '4'] };
const procs: CairnProcess[] = [];
try {
  const disk = diskWriteMBps(base, 1024 * MiB);
  console.log(`disk: sequential write 1 GiB in 4 MiB blocks + fsync: ${disk.toFixed(0)} MB/s`);
  const root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0', host: loopbackAddress(), dataDir: join(base, 'root') });
  procs.push(root);
  for (let i = 0; i < nodeCount; i++)
    procs.push(
      await startCairnProcess({
        ...common,
        roles: ['node'],
        name: `node-${i}`,
        host: loopbackAddress(),
        dataDir: join(base, `node-${i}`),
        roots: [root.cluster],
      }),
    );
  const admin = createAdminClient({ url: root.cluster, secret });
  await waitFor(async () => (await admin.status()).counts.active === nodeCount + 1, { timeoutMs: 30_000, what: 'active' });
  await admin.putBucket({ name: 'fill', replicas: 2 });
  const u = new URL(procs[1]!.endpoint);
  const s3 = new Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey, secretKey, region: 'us-east-1' });
  const objectSize = 64 * MiB;
  const fullest = (s: ClusterStatus) => s.members.filter((m) => m.roles.includes('node')).sort((a, b) => b.usedBytes - a.usedBytes)[0]!;
  const tFill = performance.now();
  let written = 0;
  for (let i = 0; i < 10_000; i++) {
    const block = randomBytes(MiB);
    const body = Readable.from(
      (function* () {
        for (let k = 0; k < objectSize / MiB; k++) {
          block.writeUInt32LE(k, 0);
          block.writeUInt32LE(i, 4);
          yield Buffer.from(block);
        }
      })(),
    );
    await s3.putObject('fill', `o-${i}`, body, objectSize);
    written += objectSize;
    if ((written * 2) / nodeCount >= target * 1.1 && fullest(await admin.status()).usedBytes >= target) break;
  }
  console.log(`filled ${(written / 1024 ** 3).toFixed(2)} GiB (R=2) in ${((performance.now() - tFill) / 1000).toFixed(1)} s`);
  await waitFor(async () => fullest(await admin.status()).usedBytes >= target, { timeoutMs: 30_000, what: 'usage reported' });
  const victimStatus = fullest(await admin.status());
  const victim = procs.find((p) => p.name === victimStatus.name)!;
  const held = victimStatus.usedBytes;
  const tKill = Date.now();
  await victim.kill('SIGKILL');
  await waitFor(async () => (await admin.status()).members.find((m) => m.name === victim.name)?.state === 'down', {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: 'down',
  });
  const tDown = Date.now();
  await waitFor(
    async () => {
      const s = await admin.status();
      const up = s.members.filter((m) => m.roles.includes('node') && m.state === 'active');
      return up.every((m) => (m.repair.lastPassAt ?? 0) > tDown && m.repair.underReplicatedChunks === 0);
    },
    { timeoutMs: 1_800_000, intervalMs: 250, what: 'full redundancy' },
  );
  const tDone = Date.now();
  const moved = (await admin.status()).members.reduce((n, m) => n + m.repair.bytesMoved, 0);
  const repairS = (tDone - tDown) / 1000;
  console.log(
    `lost ${victim.name} holding ${(held / 1024 ** 3).toFixed(2)} GiB: detected down after ${((tDown - tKill) / 1000).toFixed(1)} s, full redundancy ${repairS.toFixed(1)} s later ` +
      `(${(held / 1e6 / repairS).toFixed(0)} MB/s of lost data re-replicated; ${(moved / 1e6).toFixed(0)} MB copied) vs disk ${disk.toFixed(0)} MB/s; total ${((tDone - tKill) / 1000).toFixed(1)} s from the kill`,
  );
} finally {
  await Promise.allSettled(procs.map((p) => p.cleanup()));
  rmSync(base, { recursive: true, force: true });
}
