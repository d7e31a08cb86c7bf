// Label and field selectors in their query-string forms (`a=b,c in (d,e),!f`, `metadata.name=x`).
import { badRequest } from './errors.ts';
import type { KObject } from './store.ts';

type Op = 'exists' | 'notexists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

export type Matcher = (obj: KObject) => boolean;

function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim() !== '') parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean);
}

const keyRe = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function parseRequirement(raw: string): Requirement {
  let m: RegExpMatchArray | null;
  if ((m = raw.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
    return {
      key: m[1],
      op: m[2] as Op,
      values: m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    };
  }
  if ((m = raw.match(/^([^=!<>\s]+)\s*(==|!=|=|<|>)\s*(.*)$/))) {
    const op: Op = m[2] === '!=' ? '!=' : m[2] === '<' ? 'lt' : m[2] === '>' ? 'gt' : '=';
    return { key: m[1], op, values: [m[3].trim()] };
  }
  if ((m = raw.match(/^!\s*(\S+)$/))) return { key: m[1], op: 'notexists', values: [] };
  if (keyRe.test(raw)) return { key: raw, op: 'exists', values: [] };
  throw badRequest(`unable to parse requirement: ${raw}`);
}

function matches(req: Requirement, value: string | undefined): boolean {
  switch (req.op) {
    case 'exists':
      return value !== undefined;
    case 'notexists':
      return value === undefined;
    case '=':
      return value === req.values[0];
    case '!=':
      return value !== req.values[0];
    case 'in':
      return value !== undefined && req.values.includes(value);
    case 'notin':
      return value === undefined || !req.values.includes(value);
    case 'gt':
      return value !== undefined && Number(value) > Number(req.values[0]);
    case 'lt':
      return value !== undefined && Number(value) < Number(req.values[0]);
  }
}

/** `app=web,tier in (a,b),!canary` → a predicate on metadata.labels. */
export function parseLabelSelector(s: string | null | undefined): Matcher {
  if (!s) return () => true;
  const reqs = splitTop(s).map(parseRequirement);
  for (const r of reqs) if (!keyRe.test(r.key)) throw badRequest(`unable to parse requirement: invalid label key "${r.key}"`);
  return (obj) => reqs.every((r) => matches(r, obj.metadata.labels?.[r.key]));
}

function fieldValue(obj: KObject, path: string): string | undefined {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

// The fields each built-in kind can be selected by (field label conversion funcs); every kind
// supports metadata.name and metadata.namespace. Custom resources add their selectableFields.
const selectable: Record<string, string[]> = {
  '/pods': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.podIPs',
    'status.nominatedNodeName',
  ],
  '/events': [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  'events.k8s.io/events': [
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'regarding.apiVersion',
    'regarding.resourceVersion',
    'regarding.fieldPath',
    'reason',
    'reportingController',
    'type',
  ],
  '/secrets': ['type'],
  '/namespaces': ['status.phase'],
  '/nodes': ['spec.unschedulable'],
  '/services': ['spec.clusterIP', 'spec.type'],
  '/persistentvolumeclaims': ['spec.volumeName'],
  'apps/replicasets': ['status.replicas'],
  'batch/jobs': ['status.successful'],
  'certificates.k8s.io/certificatesigningrequests': ['spec.signerName'],
};

/** Fields `fieldSelector` accepts for a resource, or undefined for "any" (tests of the parser). */
export function selectableFields(group: string, resource: string, extra: string[] = []): string[] {
  return ['metadata.name', 'metadata.namespace', ...(selectable[`${group}/${resource}`] ?? []), ...extra];
}

/**
 * `metadata.name=x,status.phase!=Running`. A missing field compares as the empty string, as in
 * Kubernetes; a field the kind cannot be selected by is a 400 (`field label not supported`).
 */
export function parseFieldSelector(s: string | null | undefined, allowed?: string[]): Matcher {
  if (!s) return () => true;
  const reqs = splitTop(s).map((raw) => {
    const r = parseRequirement(raw);
    if (r.op !== '=' && r.op !== '!=') throw badRequest(`invalid field selector: ${raw}`);
    if (allowed && !allowed.includes(r.key)) throw badRequest(`field label not supported: ${r.key}`);
    return r;
  });
  return (obj) => reqs.every((r) => matches({ ...r }, fieldValue(obj, r.key) ?? ''));
}

/** metav1.LabelSelector (matchLabels + matchExpressions) → its string form (Scale status.selector). */
export function labelSelectorString(
  sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
): string {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'exists') parts.push(e.key);
    else if (op === 'doesnotexist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${op} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}
