// `npm run chaos [-- --profile short|long] [--minutes N]`: run the chaos suite and print its one summary line.
import { parseArgs } from 'node:util';
import { runChaos, formatSummary, chaosProfiles } from './chaos.ts';

const { values } = parseArgs({ options: { profile: { type: 'string', default: 'long' }, minutes: { type: 'string' } } });
const profile = values.profile === 'short' ? chaosProfiles.short : chaosProfiles.long;
const opts = { ...profile, log: (l: string) => console.error(l) };
if (values.minutes) opts.durationMs = Number(values.minutes) * 60_000;
const s = await runChaos(opts);
console.log(formatSummary(s));
process.exitCode = s.lost || s.corrupted || s.badReads || s.orphanChunks || s.stalledOpen ? 1 : 0;
