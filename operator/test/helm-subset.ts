// Renders the Go-template subset the cairn-operator chart uses, so a test can check the chart
// without helm (not packaged by Debian bookworm nor on npm): `{{ }}` with `-` trimming, `if`/`else`/
// `end`, `define`/`include`, pipelines, `.Values`/`.Release`/`.Chart` paths and the functions
// quote, default, toYaml, nindent, indent, not. Anything else is an error, never silently skipped.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

type Node = { t: 'text'; s: string } | { t: 'out'; p: string } | { t: 'if'; p: string; then: Node[]; else: Node[] } | { t: 'define'; name: string; body: Node[] };

function lex(src: string): ({ t: 'text'; s: string } | { t: 'act'; s: string })[] {
  const out: ({ t: 'text'; s: string } | { t: 'act'; s: string })[] = [];
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    out.push({ t: 'text', s: text });
    if (!m[2]!.startsWith('/*')) out.push({ t: 'act', s: m[2]! });
    trimNext = !!m[3];
    last = re.lastIndex;
  }
  out.push({ t: 'text', s: trimNext ? src.slice(last).replace(/^\s+/, '') : src.slice(last) });
  return out;
}

function parseNodes(tokens: ReturnType<typeof lex>, i = 0, stop: string[] = []): { nodes: Node[]; i: number; end?: string } {
  const nodes: Node[] = [];
  while (i < tokens.length) {
    const tok = tokens[i++]!;
    if (tok.t === 'text') { nodes.push({ t: 'text', s: tok.s }); continue; }
    const [kw, ...rest] = tok.s.split(/\s+/);
    if (stop.includes(kw!)) return { nodes, i, end: kw };
    if (kw === 'if') {
      const then = parseNodes(tokens, i, ['else', 'end']);
      let els: Node[] = [];
      i = then.i;
      if (then.end === 'else') { const e = parseNodes(tokens, i, ['end']); els = e.nodes; i = e.i; }
      nodes.push({ t: 'if', p: rest.join(' '), then: then.nodes, else: els });
    } else if (kw === 'define') {
      const body = parseNodes(tokens, i, ['end']);
      i = body.i;
      nodes.push({ t: 'define', name: JSON.parse(rest.join(' ')), body: body.nodes });
    } else if (['range', 'with', 'template', 'block', 'else', 'end'].includes(kw!)) {
      throw new Error(`unsupported template action: {{ ${tok.s} }}`);
    } else nodes.push({ t: 'out', p: tok.s });
  }
  if (stop.length) throw new Error(`missing {{ end }}`);
  return { nodes, i };
}

function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0, quote = false, cur = '';
  for (const ch of s) {
    if (ch === '"' && !cur.endsWith('\\')) quote = !quote;
    if (!quote && ch === '(') depth++;
    if (!quote && ch === ')') depth--;
    if (!quote && depth === 0 && (sep === ' ' ? /\s/.test(ch) : ch === sep)) { if (cur.trim()) parts.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

const truthy = (v: unknown) => !(v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0));

export class ChartRenderer {
  private readonly defines = new Map<string, Node[]>();
  private readonly root: Record<string, unknown>;

  constructor(root: Record<string, unknown>) { this.root = root; }

  addDefines(src: string): void { this.render(src); }

  render(src: string, ctx: unknown = this.root): string {
    return this.exec(parseNodes(lex(src)).nodes, ctx);
  }

  private exec(nodes: Node[], ctx: unknown): string {
    let out = '';
    for (const n of nodes) {
      if (n.t === 'text') out += n.s;
      else if (n.t === 'out') { const v = this.pipeline(n.p, ctx); out += v === undefined || v === null ? '' : String(v); }
      else if (n.t === 'if') out += this.exec(truthy(this.pipeline(n.p, ctx)) ? n.then : n.else, ctx);
      else this.defines.set(n.name, n.body);
    }
    return out;
  }

  private pipeline(p: string, ctx: unknown): unknown {
    const cmds = splitTop(p, '|');
    let v: unknown;
    cmds.forEach((cmd, i) => { v = this.command(splitTop(cmd, ' '), ctx, i === 0 ? undefined : { v }); });
    return v;
  }

  private term(s: string, ctx: unknown): unknown {
    if (s.startsWith('"')) return JSON.parse(s);
    if (/^-?\d+$/.test(s)) return Number(s);
    if (s === 'true' || s === 'false') return s === 'true';
    if (s.startsWith('(')) return this.pipeline(s.slice(1, -1), ctx);
    if (s === '.') return ctx;
    if (s.startsWith('.')) return s.slice(1).split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), ctx);
    throw new Error(`unsupported term: ${s}`);
  }

  private command(words: string[], ctx: unknown, piped?: { v: unknown }): unknown {
    const [head, ...rawArgs] = words;
    const fns: Record<string, (...a: any[]) => unknown> = {
      quote: (v) => JSON.stringify(v == null ? '' : String(v)),
      default: (d, v) => (truthy(v) ? v : d),
      toYaml: (v) => (v === undefined || v === null ? '' : stringify(v).replace(/\n$/, '')),
      nindent: (n, v) => '\n' + String(v).split('\n').map((l) => ' '.repeat(n) + l).join('\n'),
      indent: (n, v) => String(v).split('\n').map((l) => ' '.repeat(n) + l).join('\n'),
      not: (v) => !truthy(v),
      include: (name, c) => {
        const body = this.defines.get(name);
        if (!body) throw new Error(`include of undefined template ${name}`);
        return this.exec(body, c);
      },
    };
    if (!(head! in fns)) {
      if (rawArgs.length || piped) throw new Error(`unsupported function: ${head}`);
      return this.term(head!, ctx);
    }
    const args = rawArgs.map((a) => this.term(a, ctx));
    if (piped) args.push(piped.v);
    return fns[head!]!(...args);
  }
}

/** Render every template of a chart dir with `values` merged over values.yaml; returns file → text. */
export function renderChart(chartDir: string, values: Record<string, unknown> = {}, release = { Name: 'cairn', Namespace: 'cairn-system', Service: 'Helm' }): Record<string, string> {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'));
  const defaults = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
  const r = new ChartRenderer({ Values: merge(defaults, values), Release: release, Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion } });
  const files = readdirSync(join(chartDir, 'templates')).sort();
  for (const f of files.filter((f) => f.endsWith('.tpl'))) r.addDefines(readFileSync(join(chartDir, 'templates', f), 'utf8'));
  const out: Record<string, string> = {};
  for (const f of files.filter((f) => f.endsWith('.yaml'))) out[f] = r.render(readFileSync(join(chartDir, 'templates', f), 'utf8'));
  return out;
}

function merge(a: any, b: any): any {
  if (b === undefined) return a;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  }
  return b;
}
