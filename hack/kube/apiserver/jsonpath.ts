// The "simple JSON path" of CRD printer columns and scale paths: `.spec.replicas`, `.a[0].b`,
// `.status.conditions[?(@.type=="Ready")].status`, `.items[*].name`.
type Step = { field: string } | { index: number } | { all: true } | { filter: { path: string[]; value: string } };

export function parseJsonPath(expr: string): Step[] {
  const s = expr
    .trim()
    .replace(/^\{|\}$/g, '')
    .replace(/^\$/, '');
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      let name = '';
      while (i < s.length && s[i] !== '.' && s[i] !== '[') name += s[i++];
      if (name) steps.push({ field: name });
    } else if (s[i] === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw new Error(`unterminated [ in ${expr}`);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ field: inner.slice(1, -1) });
      else {
        const m = inner.match(/^\?\(@\.([\w.-]+)\s*==\s*["']?(.*?)["']?\)$/);
        if (!m) throw new Error(`unsupported JSONPath element [${inner}] in ${expr}`);
        steps.push({ filter: { path: m[1].split('.'), value: m[2] } });
      }
    } else {
      let name = '';
      while (i < s.length && s[i] !== '.' && s[i] !== '[') name += s[i++];
      steps.push({ field: name });
    }
  }
  return steps;
}

/** All values the path selects (empty when nothing matches). */
export function evalJsonPath(obj: unknown, expr: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of parseJsonPath(expr)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if ('field' in step) {
        if (v && typeof v === 'object' && !Array.isArray(v) && step.field in v) next.push((v as Record<string, unknown>)[step.field]);
      } else if ('index' in step) {
        if (Array.isArray(v)) {
          const x = v[step.index < 0 ? v.length + step.index : step.index];
          if (x !== undefined) next.push(x);
        }
      } else if ('all' in step) {
        if (Array.isArray(v)) next.push(...v);
        else if (v && typeof v === 'object') next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        for (const item of v) {
          let x: unknown = item;
          for (const p of step.filter.path) x = x && typeof x === 'object' ? (x as Record<string, unknown>)[p] : undefined;
          if (x !== undefined && String(x) === step.filter.value) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** Set a simple dotted path (`.spec.replicas`), creating objects on the way. */
export function setJsonPath(obj: Record<string, unknown>, expr: string, value: unknown): void {
  const steps = parseJsonPath(expr);
  let cur: Record<string, unknown> = obj;
  steps.forEach((st, i) => {
    if (!('field' in st)) throw new Error(`cannot set through ${expr}`);
    if (i === steps.length - 1) cur[st.field] = value;
    else cur = (cur[st.field] ??= {}) as Record<string, unknown>;
  });
}
