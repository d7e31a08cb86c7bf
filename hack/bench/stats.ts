// Summaries of repeated benchmark runs: the median is the figure we report, min and max show the
// spread. Pure functions, no I/O.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median, min and max of the runs; throws on an empty list or a non-finite value (a broken run). */
export function summarise(runs: readonly number[]): Summary {
  if (runs.length === 0) throw new RangeError('no runs to summarise');
  for (const r of runs) if (!Number.isFinite(r)) throw new RangeError(`run value is not finite: ${r}`);
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

/** The p-th percentile (0..100) by nearest rank; undefined for an empty list. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

/** a / b, or undefined when either side is missing or b is zero (no ratio to show). */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return a / b;
}
