import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HEADERS,
  ISSUE_23_GOALS,
  buildRows,
  formatMarkdown,
  formatNumber,
  formatRatio,
  formatTable,
  goalText,
  notes,
  goalRows,
  ratioGoalRows,
  type Measurement,
} from './table.ts';
import { summarise } from './stats.ts';
import { describeError } from './client.ts';

const m = (workload: string, target: string, runs: number[], unit: Measurement['unit'] = 'obj/s'): Measurement => ({
  workload,
  label: workload,
  target,
  unit,
  summary: summarise(runs),
});

const all: Measurement[] = [
  m('disk-small-files', 'raw', [500, 550, 600], 'files/s'),
  m('put-4k', 'nginx', [9000, 10_000, 11_000]),
  m('put-4k', 's3rver', [700, 800, 900]),
  m('put-4k', 'cairn-1', [4500, 5000, 5500]),
  m('put-4k', 'cairn-1r3n-R2', [1000, 1500, 1900]),
  { workload: 'get-4k', label: 'get-4k', target: 'cairn-1', unit: 'obj/s', error: 'unreachable: cairn-1 did not start' },
];

test('numbers: separators from 100 up, three significant digits below', () => {
  assert.is(formatNumber(130_000.4), '130,000');
  assert.is(formatNumber(185.2), '185');
  assert.is(formatNumber(6.789), '6.79');
  assert.is(formatRatio(0.0812), '0.08×');
  assert.is(formatRatio(2.54), '2.5×');
  assert.is(formatRatio(12.4), '12×');
  assert.is(formatRatio(undefined), '');
});

test('rows carry the median, spread and the ratio to each anchor', () => {
  const rows = buildRows(all);
  const single = rows.find((r) => r[1] === 'cairn-1' && r[0] === 'put-4k')!;
  assert.equal(single.slice(0, 8), ['put-4k', 'cairn-1', '5,000', 'obj/s', '4,500 – 5,500', '0.50×', '6.3×', '9.1× disk-small-files']);
  const nginx = rows.find((r) => r[1] === 'nginx')!;
  assert.is(nginx[5], '', 'no ratio of nginx to itself');
  const failed = rows.find((r) => r[0] === 'get-4k')!;
  assert.is(failed[2], '—');
  assert.match(failed[4]!, /unreachable/);
});

test('issue 8 goals: met, missed, and not set for anchors', () => {
  assert.is(goalText(all[3]!, all), '≥ 4,000, ≥ 5× s3rver: met');
  assert.is(goalText(all[4]!, all), '≥ 2,000: MISSED');
  assert.is(goalText(all[1]!, all), '');
  assert.is(goalText(all[5]!, all), '≥ 10,000, ≥ 8 % nginx: not measured');
  // a goal relative to an anchor that was not measured cannot be met
  assert.is(
    goalText(
      all[3]!,
      all.filter((x) => x.target !== 's3rver'),
    ),
    '≥ 4,000, ≥ 5× s3rver: MISSED',
  );
});

test('text table pads columns and right-aligns numeric ones; markdown escapes pipes', () => {
  const t = formatTable(
    ['name', 'n'],
    [
      ['a', '1'],
      ['long name', '1,000'],
    ],
  ).split('\n');
  assert.equal(t, ['name           n', '---------  -----', 'a              1', 'long name  1,000']);
  const md = formatMarkdown(['a', 'b'], [['x|y', '2']]);
  assert.is(md, '| a | b |\n|---|---|\n| x\\|y | 2 |');
  assert.is(formatTable(HEADERS, buildRows(all)).split('\n').length, all.length + 2);
});

test('goal rows: one per issue 8 goal, with the figure or "not measured"', () => {
  const rows = goalRows(all);
  assert.equal(rows[0], ['single node', 'put-4k', '≥ 4,000, ≥ 5× s3rver', '5,000', 'obj/s', 'met']);
  assert.equal(
    rows.find((r) => r[0] === 'cluster, R=2' && r[1] === 'put-4k'),
    ['cluster, R=2', 'put-4k', '≥ 2,000', '1,500', 'obj/s', 'MISSED'],
  );
  assert.equal(
    rows.find((r) => r[1] === 'redundancy'),
    ['cluster, R=2', 'redundancy', '≥ 300', '—', '', 'not measured'],
  );
});

test('issue 23 goals: ratios to the same run, two decimals, the nginx ceiling, ceilings in MiB', () => {
  const run: Measurement[] = [
    m('disk-new-chunks', 'raw', [300, 320, 340], 'MB/s'),
    m('put-64m-1', 'nginx', [900, 1000, 1100], 'MB/s'),
    m('put-64m-1', 's3rver', [190, 200, 210], 'MB/s'),
    m('put-64m-1', 'cairn-1', [290, 299, 310], 'MB/s'),
    m('put-64m-1', 'cairn-1r3n-R2', [200, 210, 220], 'MB/s'),
    m('get-4k', 's3rver', [1000, 1000, 1000]),
    m('get-4k', 'cairn-1r3n-R2', [3000, 3100, 3200]),
    m('rss-1g', 'cairn-1', [201], 'MiB'),
  ];
  const rows = ratioGoalRows(run);
  assert.is(rows.length, ISSUE_23_GOALS.length);
  const row = (scope: string, workload: string, goal: string) => rows.find((r) => r[0] === scope && r[1] === workload && r[2] === goal);
  // 299 / 200 = 1.495: shown as 1.50× would read as met; it is not
  assert.equal(row('single node', 'put-64m-1', '≥ 1.5× s3rver'), ['single node', 'put-64m-1', '≥ 1.5× s3rver', '1.50×', '5.0×', 'MISSED']);
  assert.equal(row('single node', 'put-64m-1', '≥ 0.6× disk-new-chunks'), ['single node', 'put-64m-1', '≥ 0.6× disk-new-chunks', '0.93×', '', 'met']);
  assert.equal(row('cluster, R=2', 'put-64m-1', '≥ 1× s3rver'), ['cluster, R=2', 'put-64m-1', '≥ 1× s3rver', '1.05×', '5.0×', 'met']);
  assert.equal(row('cluster, R=2', 'get-4k', '≥ 3× s3rver'), ['cluster, R=2', 'get-4k', '≥ 3× s3rver', '3.10×', '', 'met']);
  assert.equal(row('single node', 'rss-1g', '≤ 200 MiB'), ['single node', 'rss-1g', '≤ 200 MiB', '201 MiB', '', 'MISSED']);
  assert.equal(row('cluster, R=2', 'rss-1g', '≤ 200'), ['cluster, R=2', 'rss-1g', '≤ 200', '—', '', 'not measured']);
  // no s3rver in the run: no ratio, and the goal is not read as met
  assert.equal(row('cluster, R=2', 'get-64m-1', '≥ 2× s3rver'), ['cluster, R=2', 'get-64m-1', '≥ 2× s3rver', '—', '', 'not measured']);
  const noAnchor = ratioGoalRows(run.filter((x) => x.target !== 's3rver'));
  assert.is(noAnchor.find((r) => r[0] === 'cluster, R=2' && r[1] === 'put-64m-1')![5], 'no anchor');
});

test('S3 error bodies are shown as Code: Message on one line', () => {
  assert.is(
    describeError('<?xml version="1.0"?>\n<Error><Code>ServiceUnavailable</Code><Message>2 of 3 replicas &amp; more</Message></Error>'),
    'ServiceUnavailable: 2 of 3 replicas & more',
  );
  assert.is(describeError('<html>\n  bad gateway </html>'), '<html> bad gateway </html>');
});

test('notes give the full reason of rows without a figure, n/a rows left out', () => {
  const ms: Measurement[] = [
    ...all,
    { workload: 'list-1000', label: 'LIST', target: 'nginx', unit: 'pages/s', error: 'n/a (no S3 listing)' },
    {
      workload: 'start',
      label: '(server start)',
      target: 'cairn-1r3n-R2',
      unit: 'obj/s',
      error: 'unreachable: node-0 exited (1):\n\nerror: bad flag\n--- output ---\nmore',
    },
  ];
  assert.equal(notes(ms), [
    'cairn-1 · get-4k: unreachable: cairn-1 did not start',
    'cairn-1r3n-R2 · (server start): unreachable: node-0 exited (1): | error: bad flag | more',
  ]);
});

test.run();
