// The shipped dashboard, alert rules and autoscaling examples use only metrics that exist: every
// PromQL expression is parsed with Prometheus' own parser (lezer-promql, as in Prometheus' UI) and
// each metric it names must be exported by this process's registry or listed as an operator metric.
// The dashboard is also type-checked against Grafana's packaged schema (@grafana/schema), and
// docs/metrics.md must document exactly the metrics that exist.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { metricNamesInPromQL, substituteGrafanaVariables } from '../../test/promql.ts';
import { NodeMetrics, operatorMetrics } from './metrics.ts';
import { checkDashboardSchema } from '../../test/dashboard-schema.ts';

const { registry } = new NodeMetrics(); // every metric a node exports exists from its creation

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string) => readFileSync(repo + p, 'utf8');

/** Every series name a scrape can contain: histograms expand to _bucket/_sum/_count. */
async function exportedSeriesNames(): Promise<Set<string>> {
  const names = new Set<string>();
  const add = (name: string, type: string) => {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  };
  for (const m of await registry.getMetricsAsJSON()) add(m.name, String(m.type));
  for (const m of operatorMetrics) add(m.name, m.type);
  return names;
}

/** Problems with a list of expressions: syntax errors, unnamed selectors, unknown metrics. */
function expressionProblems(where: string, exprs: { name: string; expr: string }[], known: Set<string>): string[] {
  if (exprs.length === 0) return [`${where}: no expressions found`];
  const problems: string[] = [];
  for (const { name, expr } of exprs) {
    let used: string[];
    try {
      used = metricNamesInPromQL(expr);
    } catch (e) {
      problems.push(`${where} ${name}: ${(e as Error).message}`);
      continue;
    }
    if (used.length === 0) problems.push(`${where} ${name}: names no metric: ${expr}`);
    for (const m of used) if (!known.has(m)) problems.push(`${where} ${name}: metric ${m} is not exported by Cairn (${expr})`);
  }
  return problems;
}

function checkExpressions(where: string, exprs: { name: string; expr: string }[], known: Set<string>): void {
  assert.equal(expressionProblems(where, exprs, known), []);
}

interface Target {
  expr?: string;
  refId?: string;
  datasource?: unknown;
}
interface PanelJson {
  id?: number;
  type?: string;
  title?: string;
  datasource?: unknown;
  targets?: Target[];
  gridPos?: { x: number; y: number; w: number; h: number };
  panels?: PanelJson[];
}
const dashboard = JSON.parse(read('examples/grafana/cairn-dashboard.json')) as {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list: { name: string; type: string; query?: unknown }[] };
};

test('the PromQL checker rejects bad syntax and unknown metrics', async () => {
  assert.throws(() => metricNamesInPromQL('sum(rate(cairn_s3_requests_total[5m])'), /syntax error/);
  assert.throws(() => metricNamesInPromQL('{code="200"}'), /without a metric name/);
  assert.equal(metricNamesInPromQL('a / on() {__name__="b"} + rate(c[5m] offset 1h)').sort(), ['a', 'b', 'c']);
  assert.is(substituteGrafanaVariables('rate(x{ns=~"$namespace",n="${node:regex}"}[$__rate_interval])'), 'rate(x{ns=~"var",n="var"}[5m])');
  const known = await exportedSeriesNames();
  assert.equal(
    expressionProblems(
      't',
      [
        { name: 'x', expr: 'rate(cairn_no_such_metric[5m])' },
        { name: 'y', expr: 'sum(' },
      ],
      known,
    ).length,
    2,
  );
});

test('every dashboard query names an exported metric', async () => {
  const known = await exportedSeriesNames();
  const exprs: { name: string; expr: string }[] = [];
  const visit = (p: PanelJson) => {
    for (const t of p.targets ?? []) if (t.expr) exprs.push({ name: `panel "${p.title}" ${t.refId}`, expr: substituteGrafanaVariables(t.expr) });
    p.panels?.forEach(visit);
  };
  dashboard.panels.forEach(visit);
  checkExpressions('dashboard', exprs, known);
  for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
    const m = /^label_values\(([a-zA-Z_:][\w:]*),\s*\w+\)$/.exec(q);
    assert.ok(m, `variable ${v.name}: unsupported query ${q}`);
    assert.ok(known.has(m[1]), `variable ${v.name}: metric ${m[1]} is not exported`);
  }
});

test('the dashboard has the shape Grafana imports', () => {
  assert.type(dashboard.schemaVersion, 'number');
  assert.ok(dashboard.uid && dashboard.title);
  const ids = new Set<number>();
  const cells = new Set<string>();
  for (const p of dashboard.panels) {
    assert.type(p.id, 'number');
    assert.not.ok(ids.has(p.id!), `duplicate panel id ${p.id}`);
    ids.add(p.id!);
    const g = p.gridPos!;
    assert.ok(g && g.w > 0 && g.h > 0 && g.x + g.w <= 24, `panel ${p.title}: bad gridPos`);
    for (let x = g.x; x < g.x + g.w; x++)
      for (let y = g.y; y < g.y + g.h; y++) {
        assert.not.ok(cells.has(`${x},${y}`), `panel ${p.title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    if (p.type === 'row') continue;
    assert.equal(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel ${p.title}: datasource`);
    assert.ok(p.targets && p.targets.length > 0, `panel ${p.title}: no targets`);
    for (const t of p.targets!) assert.ok(t.refId && t.expr, `panel ${p.title}: target without refId/expr`);
  }
  const sections = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
  for (const s of ['Cluster overview', 'Capacity', 'Traffic', 'Latency', 'Durability', 'Membership', 'Operator'])
    assert.ok(sections.includes(s), `missing section ${s}`);
});

test("the dashboard type-checks against Grafana's packaged schema (@grafana/schema)", () => {
  const errors = checkDashboardSchema(read('examples/grafana/cairn-dashboard.json'));
  assert.equal(errors, []);
  // The check is real: a wrong field type is reported.
  const broken = JSON.parse(read('examples/grafana/cairn-dashboard.json'));
  broken.schemaVersion = 'thirty-nine';
  const errors2 = checkDashboardSchema(JSON.stringify(broken, null, 2));
  assert.ok(
    errors2.some((e) => /schemaVersion.*not assignable to type 'number'/.test(e)),
    errors2.join('\n'),
  );
});

test('every alert rule parses, names exported metrics and carries severity and summary', async () => {
  const known = await exportedSeriesNames();
  const doc = parseYaml(read('examples/prometheus/cairn-alerts.yaml')) as { groups: { name: string; rules: Record<string, any>[] }[] };
  const exprs: { name: string; expr: string }[] = [];
  const alerts = new Set<string>();
  for (const g of doc.groups) {
    assert.ok(g.name && g.rules.length > 0, 'group without name or rules');
    for (const r of g.rules) {
      assert.ok(r.alert, `group ${g.name}: a rule without alert name`);
      alerts.add(r.alert);
      assert.type(r.expr, 'string');
      if (r.for !== undefined) assert.match(r.for, /^\d+[smh]$/);
      assert.ok(['warning', 'critical'].includes(r.labels?.severity), `${r.alert}: severity`);
      assert.ok(r.annotations?.summary && r.annotations?.description, `${r.alert}: summary/description`);
      exprs.push({ name: r.alert, expr: r.expr });
    }
  }
  checkExpressions('alert', exprs, known);
  for (const a of [
    'CairnNodeDown',
    'CairnUnderReplicatedTooLong',
    'CairnCapacityHigh',
    'CairnCapacityCritical',
    'CairnWriteQuorumLost',
    'CairnScrubErrors',
    'CairnOperatorReconcileErrors',
  ]) {
    assert.ok(alerts.has(a), `missing alert ${a}`);
  }
});

test('the autoscaling examples query exported metrics and target the StorageCluster scale subresource', async () => {
  const known = await exportedSeriesNames();
  const docs = (name: string) => parseAllDocuments(read(`examples/autoscaling/${name}`)).map((d) => d.toJS() as Record<string, any>);
  const hpa = docs('hpa.yaml').find((d) => d.kind === 'HorizontalPodAutoscaler')!;
  assert.is(hpa.apiVersion, 'autoscaling/v2');
  assert.equal(hpa.spec.scaleTargetRef, { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'StorageCluster', name: hpa.spec.scaleTargetRef.name });
  const adapter = docs('hpa.yaml').find((d) => d.kind === 'ConfigMap')!;
  const rules = parseYaml(adapter.data['config.yaml']) as { externalRules: { seriesQuery: string; metricsQuery: string; name: { as: string } }[] };
  const rule = rules.externalRules[0];
  assert.is(hpa.spec.metrics[0].external.metric.name, rule.name.as, 'the HPA asks for the metric the adapter exposes');
  // The adapter's Go templates expand to a selector and label list; substitute them to parse.
  const adapterQuery = rule.metricsQuery
    .replace('<<.Series>>', rule.seriesQuery.replace(/\{.*$/, ''))
    .replace('<<.LabelMatchers>>', 'namespace="x"')
    .replace(/<<\.GroupBy>>/g, 'namespace');
  const keda = docs('keda-scaledobject.yaml').find((d) => d.kind === 'ScaledObject')!;
  assert.equal(keda.spec.scaleTargetRef, { apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'StorageCluster', name: keda.spec.scaleTargetRef.name });
  checkExpressions(
    'autoscaling',
    [
      { name: 'adapter seriesQuery', expr: rule.seriesQuery },
      { name: 'adapter metricsQuery', expr: adapterQuery },
      { name: 'keda', expr: keda.spec.triggers[0].metadata.query },
    ],
    known,
  );
});

test('the operator exports the operator metrics listed here, with the same types', async () => {
  // Imported at run time: the operator is a separate program; this keeps the shared list honest.
  const mod = (await import(new URL('../../../operator/src/controller/metrics.ts', import.meta.url).href)) as {
    createOperatorMetrics(): { registry: typeof registry };
  };
  const exported = new Map((await mod.createOperatorMetrics().registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
  for (const m of operatorMetrics) assert.is(exported.get(m.name), m.type, `operator metric ${m.name}`);
});

test('docs/metrics.md documents exactly the metrics Cairn exports', async () => {
  const md = read('docs/metrics.md');
  const documented = new Set([...md.matchAll(/`(cairn_[a-z0-9_]+)`/g)].map((m) => m[1]));
  const exported = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('cairn_'));
  for (const n of [...exported, ...operatorMetrics.map((m) => m.name)]) assert.ok(documented.has(n), `docs/metrics.md does not document ${n}`);
  const known = await exportedSeriesNames();
  for (const n of documented) assert.ok(known.has(n), `docs/metrics.md documents ${n}, which is not exported`);
});

test.run();
