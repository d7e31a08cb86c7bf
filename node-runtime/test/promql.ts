// PromQL inspection for the dashboard/alert checks: parse an expression with Prometheus' own
// grammar (@prometheus-io/lezer-promql, the parser of Prometheus' web UI) and list the metric
// names its selectors use. Used by tests; kept out of the runtime's import graph.
import { parser } from '@prometheus-io/lezer-promql';

/**
 * The metric names an expression selects (`foo`, `foo{a="b"}`, `{__name__="foo"}`), in order of
 * first use. Throws on a syntax error and on a selector without a metric name (it would match
 * every series, which no shipped query should do).
 */
export function metricNamesInPromQL(expr: string): string[] {
  const tree = parser.parse(expr);
  const names: string[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) {
      throw new Error(`PromQL syntax error at offset ${cursor.from} in: ${expr}`);
    }
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    let name = node.getChild('Identifier') ? expr.slice(node.getChild('Identifier')!.from, node.getChild('Identifier')!.to) : undefined;
    if (!name) {
      for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = matcher.getChild('LabelName');
        const value = matcher.getChild('StringLiteral');
        if (label && value && expr.slice(label.from, label.to) === '__name__') name = expr.slice(value.from + 1, value.to - 1);
      }
    }
    if (!name) throw new Error(`PromQL selector without a metric name at offset ${node.from} in: ${expr}`);
    if (!names.includes(name)) names.push(name);
  } while (cursor.next());
  return names;
}

/**
 * Replace Grafana's template variables so a dashboard query becomes plain PromQL:
 * `$__rate_interval`/`$__interval`/`$__range` → `5m`, any other `$var`/`${var}`/`${var:fmt}` → `var`.
 */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{[A-Za-z_]\w*(?::\w+)?\}|\$[A-Za-z_]\w*/g, 'var');
}
