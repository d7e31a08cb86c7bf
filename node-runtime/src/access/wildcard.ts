// IAM-style wildcards (pure): `*` is any run of characters (also none, also across `/`), `?` is
// exactly one character; everything else is literal. Used for actions, resource ARNs, principals
// and the *Like condition operators.
const cache = new Map<string, RegExp>();

export function wildcardMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[\\s\\S]*')
      .replace(/\?/g, '[\\s\\S]');
    re = new RegExp(`^${body}$`);
    if (cache.size > 10_000) cache.clear(); // patterns come from stored policies: few, but bounded anyway
    cache.set(pattern, re);
  }
  return re.test(value);
}
