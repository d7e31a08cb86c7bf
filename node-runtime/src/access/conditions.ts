// Policy conditions (pure): `"Condition": { "<Operator>": { "<key>": value | [values] } }`.
// Every block must hold for a statement to apply; within a block, a key matches when the request's
// value matches any listed value (a negated operator: none of them). As in IAM, a key the request
// does not carry makes a positive operator false and a negated one true, `...IfExists` makes an
// absent key true, `Null` tests presence, and `ForAnyValue:` / `ForAllValues:` compare multi-valued
// keys (e.g. the tag keys of a request).
import { BlockList, isIP } from 'node:net';
import { accessError } from './errors.ts';
import { wildcardMatch } from './wildcard.ts';

type Compare = (have: string, want: string) => boolean;
interface OperatorDef {
  compare: Compare;
  negated: boolean;
  checkValue?: (v: string) => boolean;
}

const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));
const date = (s: string) => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s));
const isNum = (s: string) => !Number.isNaN(num(s));
const isDate = (s: string) => !Number.isNaN(date(s));
const isBool = (s: string) => s === 'true' || s === 'false';

function cidr(want: string): BlockList | undefined {
  const [ip, bits] = want.split('/');
  const family = isIP(ip);
  if (!family) return undefined;
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  const list = new BlockList();
  list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list;
}
const inCidr: Compare = (have, want) => {
  const family = isIP(have);
  return !!family && !!cidr(want)?.check(have, family === 4 ? 'ipv4' : 'ipv6');
};

const operators: Record<string, OperatorDef> = {
  StringEquals: { compare: (h, w) => h === w, negated: false },
  StringNotEquals: { compare: (h, w) => h === w, negated: true },
  StringEqualsIgnoreCase: { compare: (h, w) => h.toLowerCase() === w.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { compare: (h, w) => h.toLowerCase() === w.toLowerCase(), negated: true },
  StringLike: { compare: (h, w) => wildcardMatch(w, h), negated: false },
  StringNotLike: { compare: (h, w) => wildcardMatch(w, h), negated: true },
  NumericEquals: { compare: (h, w) => num(h) === num(w), negated: false, checkValue: isNum },
  NumericNotEquals: { compare: (h, w) => num(h) === num(w), negated: true, checkValue: isNum },
  NumericLessThan: { compare: (h, w) => num(h) < num(w), negated: false, checkValue: isNum },
  NumericLessThanEquals: { compare: (h, w) => num(h) <= num(w), negated: false, checkValue: isNum },
  NumericGreaterThan: { compare: (h, w) => num(h) > num(w), negated: false, checkValue: isNum },
  NumericGreaterThanEquals: { compare: (h, w) => num(h) >= num(w), negated: false, checkValue: isNum },
  DateEquals: { compare: (h, w) => date(h) === date(w), negated: false, checkValue: isDate },
  DateNotEquals: { compare: (h, w) => date(h) === date(w), negated: true, checkValue: isDate },
  DateLessThan: { compare: (h, w) => date(h) < date(w), negated: false, checkValue: isDate },
  DateLessThanEquals: { compare: (h, w) => date(h) <= date(w), negated: false, checkValue: isDate },
  DateGreaterThan: { compare: (h, w) => date(h) > date(w), negated: false, checkValue: isDate },
  DateGreaterThanEquals: { compare: (h, w) => date(h) >= date(w), negated: false, checkValue: isDate },
  Bool: { compare: (h, w) => h.toLowerCase() === w.toLowerCase(), negated: false, checkValue: isBool },
  IpAddress: { compare: inCidr, negated: false, checkValue: (v) => !!cidr(v) },
  NotIpAddress: { compare: inCidr, negated: true, checkValue: (v) => !!cidr(v) },
  ArnEquals: { compare: (h, w) => h === w, negated: false },
  ArnNotEquals: { compare: (h, w) => h === w, negated: true },
  ArnLike: { compare: (h, w) => wildcardMatch(w, h), negated: false },
  ArnNotLike: { compare: (h, w) => wildcardMatch(w, h), negated: true },
};

export interface ConditionBlock {
  operator: string; // as written, for messages
  kind: 'plain' | 'null' | 'anyValue' | 'allValues';
  ifExists: boolean;
  def?: OperatorDef; // undefined for Null
  key: string; // lower case
  values: string[];
}

const malformed = (msg: string) => accessError('MalformedPolicy', msg);

/** Parse a statement's Condition element; anything not understood is MalformedPolicy. */
export function parseConditions(raw: unknown): ConditionBlock[] {
  if (raw === undefined) return [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw malformed('Condition must be an object');
  const out: ConditionBlock[] = [];
  for (const [operator, body] of Object.entries(raw as Record<string, unknown>)) {
    let name = operator;
    let kind: ConditionBlock['kind'] = 'plain';
    if (name.startsWith('ForAnyValue:')) {
      kind = 'anyValue';
      name = name.slice(12);
    } else if (name.startsWith('ForAllValues:')) {
      kind = 'allValues';
      name = name.slice(13);
    }
    const ifExists = name.endsWith('IfExists') && name !== 'IfExists';
    if (ifExists) name = name.slice(0, -8);
    const isNull = name === 'Null';
    const def = operators[name];
    if (!def && !isNull) throw malformed(`Invalid Condition type : ${operator}`);
    if (isNull && (ifExists || kind !== 'plain')) throw malformed(`Invalid Condition type : ${operator}`);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw malformed(`Condition ${operator} must map keys to values`);
    for (const [key, v] of Object.entries(body as Record<string, unknown>)) {
      if (!/^(aws|s3):[A-Za-z0-9-]+(\/.+)?$/.test(key)) throw malformed(`Policy has an invalid condition key: ${key}`);
      const list = (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'boolean' || typeof x === 'number' ? String(x) : x));
      if (!list.length || !list.every((x) => typeof x === 'string')) throw malformed(`Condition ${operator} ${key}: values must be strings`);
      const values = list as string[];
      if (isNull && !values.every(isBool)) throw malformed(`Condition Null ${key}: values must be true or false`);
      if (def?.checkValue && !values.every(def.checkValue)) throw malformed(`Condition ${operator} ${key}: invalid value ${JSON.stringify(v)}`);
      out.push({ operator, kind: isNull ? 'null' : kind, ifExists, def, key: key.toLowerCase(), values });
    }
  }
  return out;
}

function blockHolds(b: ConditionBlock, context: Record<string, string[] | undefined>): boolean {
  const have = context[b.key];
  const present = have !== undefined && have.length > 0;
  if (b.kind === 'null') return b.values.some((v) => (v === 'true') !== present);
  if (!present) return b.ifExists || b.def!.negated || b.kind === 'allValues';
  const matchesOne = (h: string) => b.values.some((w) => b.def!.compare(h, w));
  const ok = (h: string) => (b.def!.negated ? !matchesOne(h) : matchesOne(h));
  if (b.kind === 'allValues') return have.every(ok);
  return have.some(ok);
}

export function matchesConditions(blocks: ConditionBlock[], context: Record<string, string[] | undefined>): boolean {
  return blocks.every((b) => blockHolds(b, context));
}

// Keys that pin a statement to known callers (for GetBucketPolicyStatus).
const narrowing = new Set([
  'aws:sourceip',
  'aws:sourcearn',
  'aws:sourceaccount',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principalorgid',
  'aws:userid',
  'aws:username',
]);

/** A statement's conditions still let anyone in (nothing pins it to known callers). */
export function conditionsArePublic(blocks: ConditionBlock[]): boolean {
  return !blocks.some((b) => b.def && !b.def.negated && narrowing.has(b.key) && !(b.key === 'aws:sourceip' && b.values.some((v) => /\/0$/.test(v))));
}
