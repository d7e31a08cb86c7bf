// Kubernetes resource quantities ("10Gi", "500M", "1.5Ki", 1024) to bytes and back to a short
// human form for status. Decimal exponents and milli-units are accepted as the API accepts them.
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Bytes (rounded up to an integer) of a quantity; throws a clear error on malformed input. */
export function quantityToBytes(q: string | number): number {
  if (typeof q === 'number') return Math.ceil(q);
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([KMGTPE]i|[mkMGTPE])|[eE]([+-]?\d+))?$/.exec(q.trim());
  if (!m) throw new Error(`invalid quantity ${JSON.stringify(q)} (expected e.g. 10Gi, 500M, 1024)`);
  const n = Number(m[1]);
  const mult = m[3] !== undefined ? 10 ** Number(m[3]) : m[2] ? (binary[m[2]] ?? decimal[m[2]]) : 1;
  return Math.ceil(n * mult!);
}

/** "1.2Gi" style, for people reading status. */
export function formatBytes(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes}` : `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10}${units[i]}`;
}
