// The bench's one table: a row per (workload, target) with the median, the min–max spread, the
// ratio to each anchor (nginx, s3rver, the raw machine limit) and, for Cairn rows, the issue 8
// goal with a verdict. Pure: measurements in, text out.
import { ratio, type Summary } from './stats.ts';
import type { Unit } from './profile.ts';

export interface Measurement {
  workload: string; // id, e.g. put-4k
  label: string;
  target: string; // nginx | s3rver | cairn-1 | cairn-1r3n-R2 | raw
  unit: Unit;
  summary?: Summary;
  errors?: number; // failed requests across the runs
  cut?: number; // operations aborted at a run's hard time limit (partial bytes counted)
  error?: string; // why there is no figure
  extra?: Record<string, unknown>;
}

/** Which raw limit a workload is compared with. */
export const RAW_ANCHOR: Record<string, string | undefined> = {
  'put-4k': 'disk-small-files',
  'put-64m-1': 'disk-seq-write',
  'put-64m-8': 'disk-seq-write',
  'get-64m-1': 'sha256',
  'get-64m-8': 'sha256',
  'rss-16m': undefined,
  'rss-1g': undefined,
  'rss-after': undefined,
  redundancy: 'disk-seq-write',
};

export interface Goal {
  workload: string;
  cluster: boolean;
  atLeast?: number;
  atMost?: number;
  vs?: { anchor: 'nginx' | 's3rver' | 'raw'; factor: number };
}

/** Issue 8's targets for this machine. `cluster` picks the 1 root + 3 nodes target. */
export const GOALS: Goal[] = [
  { workload: 'put-4k', cluster: false, atLeast: 4000, vs: { anchor: 's3rver', factor: 5 } },
  { workload: 'get-4k', cluster: false, atLeast: 10_000, vs: { anchor: 'nginx', factor: 0.08 } },
  { workload: 'put-64m-1', cluster: false, atLeast: 450, vs: { anchor: 'raw', factor: 0.6 } },
  { workload: 'get-64m-1', cluster: false, atLeast: 1000, vs: { anchor: 'nginx', factor: 0.5 } },
  { workload: 'put-64m-1', cluster: true, atLeast: 250 },
  { workload: 'get-64m-1', cluster: true, atLeast: 800 },
  { workload: 'put-4k', cluster: true, atLeast: 2000 },
  { workload: 'get-4k', cluster: true, atLeast: 6000 },
  { workload: 'redundancy', cluster: true, atLeast: 300 },
  { workload: 'rss-1g', cluster: false, atMost: 200 },
  { workload: 'rss-1g', cluster: true, atMost: 200 },
];

export function isCairn(target: string): boolean {
  return target.startsWith('cairn');
}
export function isCluster(target: string): boolean {
  return isCairn(target) && target !== 'cairn-1';
}

/** Thousands separators from 100 up, three significant digits below. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

export function formatRatio(r: number | undefined): string {
  if (r === undefined) return '';
  return r >= 10 ? `${r.toFixed(0)}×` : r >= 1 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

function lookup(ms: Measurement[], workload: string, target: string): number | undefined {
  return ms.find((m) => m.workload === workload && m.target === target)?.summary?.median;
}

/** "≥ 4,000 and ≥ 5× s3rver: met" style text for a Cairn row, or '' when issue 8 sets no goal. */
export function goalText(m: Measurement, all: Measurement[]): string {
  if (!isCairn(m.target)) return '';
  const goals = GOALS.filter((g) => g.workload === m.workload && g.cluster === isCluster(m.target));
  if (goals.length === 0) return '';
  const v = m.summary?.median;
  const parts: string[] = [];
  let met = v !== undefined;
  for (const g of goals) {
    if (g.atLeast !== undefined) {
      parts.push(`≥ ${formatNumber(g.atLeast)}`);
      if (v !== undefined && v < g.atLeast) met = false;
    }
    if (g.atMost !== undefined) {
      parts.push(`≤ ${formatNumber(g.atMost)}`);
      if (v !== undefined && v > g.atMost) met = false;
    }
    if (g.vs) {
      const anchorValue = g.vs.anchor === 'raw' ? lookup(all, RAW_ANCHOR[m.workload] ?? '', 'raw') : lookup(all, m.workload, g.vs.anchor);
      const r = ratio(v, anchorValue);
      parts.push(`≥ ${g.vs.factor >= 1 ? g.vs.factor + '×' : Math.round(g.vs.factor * 100) + ' %'} ${g.vs.anchor}`);
      if (r === undefined || r < g.vs.factor) met = false;
    }
  }
  return `${parts.join(', ')}: ${v === undefined ? 'not measured' : met ? 'met' : 'MISSED'}`;
}

export const GOAL_HEADERS = ['scope', 'workload', 'issue 8 goal', 'measured', 'unit', 'verdict'];

/** One row per issue 8 goal with the Cairn figure measured for it (for docs/performance.md). */
export function goalRows(ms: Measurement[]): string[][] {
  const seen = new Set<string>();
  const rows: string[][] = [];
  for (const g of GOALS) {
    const key = `${g.workload}/${g.cluster}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Without a measurement, a stand-in with no figure still names the goal ("not measured").
    const m = ms.find((x) => x.workload === g.workload && isCairn(x.target) && isCluster(x.target) === g.cluster) ?? {
      workload: g.workload,
      label: g.workload,
      target: g.cluster ? 'cairn-cluster' : 'cairn-1',
      unit: '' as Unit,
    };
    const scope = g.cluster ? 'cluster, R=2' : 'single node';
    const text = goalText(m, ms);
    const cut = text.lastIndexOf(': ');
    rows.push([scope, m.label, text.slice(0, cut), m.summary ? formatNumber(m.summary.median) : '—', m.unit, text.slice(cut + 2)]);
  }
  return rows;
}

/**
 * Issue 23's goals: ratios to an anchor measured in the same run (s3rver, or a raw limit named by
 * its workload id), or a ceiling in the row's own unit. Each is read on the median of its row.
 */
export interface RatioGoal {
  workload: string;
  cluster: boolean;
  vs?: { anchor: string; factor: number }; // 's3rver' or a raw workload id
  atMost?: number;
}

export const ISSUE_23_GOALS: RatioGoal[] = [
  { workload: 'put-64m-1', cluster: false, vs: { anchor: 's3rver', factor: 1.5 } },
  { workload: 'put-64m-1', cluster: false, vs: { anchor: 'disk-new-chunks', factor: 0.6 } },
  { workload: 'put-64m-1', cluster: true, vs: { anchor: 's3rver', factor: 1 } },
  { workload: 'get-64m-1', cluster: true, vs: { anchor: 's3rver', factor: 2 } },
  { workload: 'rss-after', cluster: false, atMost: 250 },
  { workload: 'rss-1g', cluster: false, atMost: 200 },
  { workload: 'rss-1g', cluster: true, atMost: 200 },
  { workload: 'put-4k', cluster: true, vs: { anchor: 's3rver', factor: 2 } },
  { workload: 'get-4k', cluster: true, vs: { anchor: 's3rver', factor: 3 } },
];

export const RATIO_GOAL_HEADERS = ['scope', 'workload', 'issue 23 goal', 'measured', 'nginx × s3rver', 'verdict'];

/**
 * One row per issue 23 goal: the ratio (or figure) of this run and its verdict. Beside a goal against
 * s3rver, nginx's ratio to s3rver on the same workload: the HTTP ceiling of this machine (a static
 * file server that neither hashes nor fsyncs), for reading what a goal asks of it.
 */
export function ratioGoalRows(ms: Measurement[]): string[][] {
  return ISSUE_23_GOALS.map((g) => {
    const m = ms.find((x) => x.workload === g.workload && isCairn(x.target) && isCluster(x.target) === g.cluster);
    const scope = g.cluster ? 'cluster, R=2' : 'single node';
    const label = m?.label ?? g.workload;
    const v = m?.summary?.median;
    if (g.atMost !== undefined) {
      const unit = m?.unit ?? '';
      const verdict = v === undefined ? 'not measured' : v <= g.atMost ? 'met' : 'MISSED';
      return [scope, label, `≤ ${formatNumber(g.atMost)} ${unit}`.trimEnd(), v === undefined ? '—' : `${formatNumber(v)} ${unit}`.trimEnd(), '', verdict];
    }
    const vs = g.vs!;
    const anchor = vs.anchor === 's3rver' ? lookup(ms, g.workload, 's3rver') : lookup(ms, vs.anchor, 'raw');
    const r = ratio(v, anchor);
    const ceiling = vs.anchor === 's3rver' ? formatRatio(ratio(lookup(ms, g.workload, 'nginx'), anchor)) : '';
    const verdict = v === undefined ? 'not measured' : r === undefined ? 'no anchor' : r >= vs.factor ? 'met' : 'MISSED';
    // Two decimals: a goal missed by a hair must not read as met.
    return [scope, label, `≥ ${vs.factor}× ${vs.anchor}`, r === undefined ? '—' : `${r.toFixed(2)}×`, ceiling, verdict];
  });
}

export const HEADERS = ['workload', 'target', 'median', 'unit', 'min – max', '× nginx', '× s3rver', '× raw', 'issue 8 goal'];

/** Table rows in input order; a failed measurement shows its error instead of figures. */
export function buildRows(ms: Measurement[]): string[][] {
  return ms.map((m) => {
    if (!m.summary) return [m.label, m.target, '—', m.unit, shorten(m.error ?? 'not measured', 48), '', '', '', goalText(m, ms)];
    const s = m.summary;
    const anchorRatio = (t: string) => (t === m.target ? '' : formatRatio(ratio(s.median, lookup(ms, m.workload, t))));
    const raw = m.target === 'raw' ? undefined : RAW_ANCHOR[m.workload];
    const rawRatio = raw ? ratio(s.median, lookup(ms, raw, 'raw')) : undefined;
    return [
      m.label + (m.errors ? ` (${m.errors} errors)` : '') + (m.cut ? ` (${m.cut} cut)` : ''),
      m.target,
      formatNumber(s.median),
      m.unit,
      `${formatNumber(s.min)} – ${formatNumber(s.max)}`,
      anchorRatio('nginx'),
      anchorRatio('s3rver'),
      rawRatio === undefined ? '' : `${formatRatio(rawRatio)} ${raw}`,
      goalText(m, ms),
    ];
  });
}

function shorten(s: string, n: number): string {
  const line = s.split('\n')[0]!;
  return line.length > n ? line.slice(0, n - 1) + '…' : line;
}

/** Full reasons for the rows without a figure (the table cell holds only their start). */
export function notes(ms: Measurement[]): string[] {
  return ms
    .filter((m) => !m.summary && m.error && !m.error.startsWith('n/a'))
    .map(
      (m) =>
        `${m.target} · ${m.label}: ${m
          .error!.split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !/^-+ output -+$/.test(l))
          .slice(0, 4)
          .join(' | ')}`,
    );
}

/** Plain-text table, columns padded to their widest cell; numbers right-aligned. */
export function formatTable(headers: string[], rows: string[][]): string {
  const width = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-—\d.,]*$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table in Markdown, for docs/performance.md. */
export function formatMarkdown(headers: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}
