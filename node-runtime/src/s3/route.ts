// Path-style addressing from the raw request URL. The key is the rest of the path after
// `/<bucket>/`, percent-decoded exactly once and otherwise verbatim: `a//b`, `../x` and `%2e%2e/y`
// are ordinary keys here (express/URL normalisation would silently change them).
import { S3Error } from '../util/errors.ts';

export interface Route {
  rawPath: string; // as sent, still encoded (for the signature)
  bucket?: string;
  key?: string; // undefined for service and bucket requests
  query: [string, string][]; // decoded pairs in request order
  params: Map<string, string>; // first value of each name
}

const invalidUri = () => new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.");

function decode(s: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? s.replace(/\+/g, ' ') : s);
  } catch {
    throw invalidUri();
  }
}

export function parseQuery(raw: string): [string, string][] {
  const pairs: [string, string][] = [];
  if (!raw) return pairs;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), true);
    const value = eq < 0 ? '' : decode(part.slice(eq + 1), true);
    pairs.push([name, value]);
  }
  return pairs;
}

export function parseRoute(url: string): Route {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  if (!rawPath.startsWith('/')) throw invalidUri();
  const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
  const params = new Map<string, string>();
  for (const [k, v] of query) if (!params.has(k)) params.set(k, v);

  const rest = rawPath.slice(1);
  const slash = rest.indexOf('/');
  const bucketPart = slash < 0 ? rest : rest.slice(0, slash);
  const keyPart = slash < 0 ? '' : rest.slice(slash + 1);
  const route: Route = { rawPath, query, params };
  if (bucketPart) route.bucket = decode(bucketPart, false);
  if (keyPart) route.key = decode(keyPart, false);
  return route;
}
