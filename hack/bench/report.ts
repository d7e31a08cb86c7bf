// Re-render a bench result: `npx node hack/bench/report.ts .cairn/bench/<timestamp>.json [--markdown]`
// prints the table (and the issue 8 and issue 23 goal tables) again from the JSON, e.g. for docs/performance.md.
import { readFileSync } from 'node:fs';
import {
  GOAL_HEADERS,
  HEADERS,
  RATIO_GOAL_HEADERS,
  buildRows,
  formatMarkdown,
  formatTable,
  goalRows,
  notes,
  ratioGoalRows,
  type Measurement,
} from './table.ts';

const [file, ...flags] = process.argv.slice(2);
if (!file) {
  console.error('usage: report.ts RESULT.json [--markdown]');
  process.exit(2);
}
const result = JSON.parse(readFileSync(file, 'utf8')) as {
  command: string;
  started: string;
  profile: { name: string };
  measurements: Measurement[];
  loads?: { target: string; loadavg1m: number }[];
};
const md = flags.includes('--markdown');
const render = md ? formatMarkdown : formatTable;
const why = notes(result.measurements);
console.log(`Command: ${md ? '`' + result.command + '`' : result.command} (${result.profile.name} profile), started ${result.started}`);
if (result.loads?.length)
  console.log(`1-minute load average when each target started: ${result.loads.map((l) => `${l.target} ${l.loadavg1m.toFixed(1)}`).join(', ')}`);
console.log(`\n${render(HEADERS, buildRows(result.measurements))}\n`);
if (why.length) console.log(`Notes:\n\n${why.map((n) => `- ${n}`).join('\n')}\n`);
console.log(`Issue 8 targets:\n\n${render(GOAL_HEADERS, goalRows(result.measurements))}`);
console.log(`\nIssue 23 goals (ratios of this run):\n\n${render(RATIO_GOAL_HEADERS, ratioGoalRows(result.measurements))}`);
