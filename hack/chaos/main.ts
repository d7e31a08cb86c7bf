// `npm run chaos [-- --profile short|long] [--minutes N]`: run the chaos suite and print its one summary line.
import { parseArgs } from 'node:util';
import { runChaos, formatSummary, type ChaosOptions } from './chaos.ts';

const { values } = parseArgs({ options: { profile: { type: 'string', default: 'long' }, minutes: { type: 'string' } } });
const profiles: Record<string, ChaosOptions> = {
  short: { durationMs: 20_000, nodes: 4, replicas: 2, workers: 4, keysPerWorker: 8, maxOpsPerWorker: 400, faultEveryMs: 4_000, chunkSize: 256 * 1024, failureTimeoutMs: 2_000, gcGraceMs: 3_000 },
  long: { durationMs: 5 * 60_000, nodes: 4, replicas: 2, workers: 8, keysPerWorker: 50, maxOpsPerWorker: 20_000, faultEveryMs: 15_000, chunkSize: 256 * 1024, failureTimeoutMs: 3_000, gcGraceMs: 5_000 },
};
const opts = { ...profiles[values.profile!] ?? profiles.long!, log: (l: string) => console.error(l) };
if (values.minutes) opts.durationMs = Number(values.minutes) * 60_000;
const s = await runChaos(opts);
console.log(formatSummary(s));
process.exitCode = s.lost || s.corrupted || s.badReads || s.orphanChunks ? 1 : 0;
