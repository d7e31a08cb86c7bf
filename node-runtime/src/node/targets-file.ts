// The notification targets declared on the cluster (`--notification-targets FILE`), read once at
// start: JSON or YAML, a list of targets or `{ targets: [...] }`. Secrets are given inline or, as
// Kubernetes mounts them, as files (`passwordFile`, `bearerTokenFile`) read here. Every member must
// be given the same targets: a member delivers the events it coordinated (docs/events.md).
//
//   - { name: jobs, kind: redis, address: 10.0.0.5:6379, list: cairn-events, passwordFile: /etc/…/password }
//   - { name: hook, kind: webhook, url: https://example.com/hook, bearerTokenFile: /etc/…/token }
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkTargetSpec, type TargetSpec } from '../events/targets.ts';

const FIELDS: Record<TargetSpec['kind'], string[]> = {
  redis: ['name', 'kind', 'address', 'username', 'password', 'passwordFile', 'db', 'list', 'stream', 'streamMaxLen', 'connectTimeoutMs', 'commandTimeoutMs'],
  webhook: ['name', 'kind', 'url', 'bearerToken', 'bearerTokenFile', 'timeoutMs'],
};
const NUMBERS = ['db', 'streamMaxLen', 'connectTimeoutMs', 'commandTimeoutMs', 'timeoutMs'];
const SECRET_FILES: Record<string, string> = { passwordFile: 'password', bearerTokenFile: 'bearerToken' };

/** The targets a file's text declares; `secret(path)` reads a secret file. Throws naming the file's problem. */
export async function parseTargets(text: string, secret: (path: string) => Promise<string>): Promise<TargetSpec[]> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new Error(`not JSON or YAML: ${(e as Error).message}`);
  } // YAML reads JSON too
  const list = Array.isArray(doc) ? doc : ((doc as { targets?: unknown } | null)?.targets ?? (doc == null ? [] : undefined));
  if (!Array.isArray(list)) throw new Error('expected a list of targets, or { targets: [...] }');
  const seen = new Set<string>();
  const out: TargetSpec[] = [];
  for (const [i, raw] of list.entries()) {
    const where = `target #${i + 1}${raw && typeof raw === 'object' && 'name' in raw ? ` (${String((raw as { name: unknown }).name)})` : ''}`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: expected an object`);
    const t = { ...(raw as Record<string, unknown>) };
    if (t.kind !== 'redis' && t.kind !== 'webhook') throw new Error(`${where}: kind must be redis or webhook`);
    for (const k of Object.keys(t))
      if (!FIELDS[t.kind].includes(k)) throw new Error(`${where}: unknown field ${k} for a ${t.kind} target (known: ${FIELDS[t.kind].join(', ')})`);
    for (const k of Object.keys(t)) {
      if (NUMBERS.includes(k) ? !Number.isSafeInteger(t[k]) || (t[k] as number) < 0 : typeof t[k] !== 'string')
        throw new Error(`${where}: ${k} must be ${NUMBERS.includes(k) ? 'a non-negative integer' : 'a string'}`);
    }
    for (const [file, field] of Object.entries(SECRET_FILES)) {
      if (t[file] === undefined) continue;
      if (t[field] !== undefined) throw new Error(`${where}: give ${field} or ${file}, not both`);
      try {
        t[field] = (await secret(t[file] as string)).replace(/\r?\n$/, '');
      } catch (e) {
        throw new Error(`${where}: ${file}: ${(e as Error).message}`);
      }
      delete t[file];
    }
    const spec = t as unknown as TargetSpec;
    try {
      checkTargetSpec(spec);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    if (seen.has(spec.name)) throw new Error(`${where}: the name ${spec.name} is declared twice`);
    seen.add(spec.name);
    out.push(spec);
  }
  return out;
}

export async function loadTargets(path: string): Promise<TargetSpec[]> {
  try {
    // A relative secret file is relative to the targets file (Kubernetes mounts both in one volume).
    return await parseTargets(await readFile(path, 'utf8'), (p) => readFile(resolve(dirname(path), p), 'utf8'));
  } catch (e) {
    throw new Error(`notification targets ${path}: ${(e as Error).message}`, { cause: e });
  }
}
