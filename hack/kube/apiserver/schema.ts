// Structural OpenAPI schemas of custom resources: defaulting, pruning of unknown fields and
// validation with Kubernetes' field paths and messages (apiextensions-apiserver's behaviour).
import type { FieldError } from './errors.ts';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface JSONSchema {
  type?: string;
  format?: string;
  description?: string;
  nullable?: boolean;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JSONSchema>;
  required?: string[];
  additionalProperties?: boolean | JSONSchema;
  items?: JSONSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  allOf?: JSONSchema[];
  anyOf?: JSONSchema[];
  oneOf?: JSONSchema[];
  not?: JSONSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function childSchema(s: JSONSchema, key: string): JSONSchema | undefined {
  if (s.properties?.[key]) return s.properties[key];
  if (isObj(s.additionalProperties)) return s.additionalProperties as JSONSchema;
  return undefined;
}

/** Fill `default`s top-down (a defaulted object then gets its own children's defaults). */
export function applyDefaults(value: unknown, s: JSONSchema | undefined): void {
  if (!s) return;
  if (isObj(value)) {
    for (const [k, ps] of Object.entries(s.properties ?? {})) {
      if ((value[k] === undefined || (value[k] === null && !ps.nullable)) && ps.default !== undefined) value[k] = structuredClone(ps.default);
    }
    for (const [k, v] of Object.entries(value)) applyDefaults(v, childSchema(s, k));
  } else if (Array.isArray(value) && s.items) {
    for (const v of value) applyDefaults(v, s.items);
  }
}

/** Drop fields the schema does not know, unless `x-kubernetes-preserve-unknown-fields` keeps them. */
export function prune(value: unknown, s: JSONSchema | undefined, root = false): void {
  if (!s) return;
  if (isObj(value)) {
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
    for (const k of Object.keys(value)) {
      if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      if (s['x-kubernetes-embedded-resource'] && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const cs = childSchema(s, k);
      if (!cs && !preserve && s.additionalProperties !== true) {
        delete value[k];
        continue;
      }
      prune(value[k], cs);
    }
  } else if (Array.isArray(value) && s.items) {
    for (const v of value) prune(v, s.items);
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, s: JSONSchema): boolean {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  if (!s.type) return true;
  const t = typeOf(v);
  if (s.type === 'number') return t === 'number' || t === 'integer';
  return t === s.type;
}

/** Called at every node that carries x-kubernetes-validations (CEL). */
export type RuleHook = (s: JSONSchema, value: unknown, old: unknown, path: string) => FieldError[];

const fmtNum = (n: number) => String(n);

function joinPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function formatErrors(v: string, format: string | undefined): string | undefined {
  switch (format) {
    case 'int32':
    case 'int64':
    case undefined:
    case '':
      return undefined;
    case 'date-time':
      return Number.isNaN(Date.parse(v)) ? 'date-time' : undefined;
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(v) ? undefined : 'date';
    case 'uri':
      try {
        new URL(v);
        return undefined;
      } catch {
        return 'uri';
      }
    case 'hostname':
      return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(v) ? undefined : 'hostname';
    case 'ipv4':
      return /^(\d{1,3}\.){3}\d{1,3}$/.test(v) ? undefined : 'ipv4';
    case 'uuid':
      return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v) ? undefined : 'uuid';
    default:
      return undefined;
  }
}

/** Validate `value` (with `old` for transition rules) against `s`; returns Kubernetes field errors. */
export function validate(value: unknown, s: JSONSchema | undefined, path: string, old: unknown, hook?: RuleHook): FieldError[] {
  if (!s) return [];
  const errs: FieldError[] = [];
  const inBody = `${path} in body`;
  if (value === null) {
    if (!s.nullable && (s.type || s['x-kubernetes-int-or-string'])) {
      errs.push({
        field: path,
        type: 'FieldValueTypeInvalid',
        badValue: 'null',
        detail: `${inBody} must be of type ${s['x-kubernetes-int-or-string'] ? 'integer,string' : s.type}: "null"`,
      });
    }
    return errs;
  }
  if (!typeMatches(value, s)) {
    const t = typeOf(value);
    errs.push({
      field: path,
      type: 'FieldValueTypeInvalid',
      badValue: t,
      detail: `${inBody} must be of type ${s['x-kubernetes-int-or-string'] ? 'integer,string' : s.type}: "${t}"`,
    });
    return errs;
  }
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push({ field: path, type: 'FieldValueNotSupported', badValue: value, detail: `supported values: ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum)) {
      errs.push({
        field: path,
        type: 'FieldValueInvalid',
        badValue: value,
        detail: `${inBody} should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${fmtNum(s.minimum)}`,
      });
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum)) {
      errs.push({
        field: path,
        type: 'FieldValueInvalid',
        badValue: value,
        detail: `${inBody} should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${fmtNum(s.maximum)}`,
      });
    }
    if (s.multipleOf && value % s.multipleOf !== 0) {
      errs.push({ field: path, type: 'FieldValueInvalid', badValue: value, detail: `${inBody} should be a multiple of ${s.multipleOf}` });
    }
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (s.maxLength !== undefined && len > s.maxLength) {
      errs.push({ field: path, type: 'FieldValueTooLong', detail: `may not be more than ${s.maxLength} bytes` });
    }
    if (s.minLength !== undefined && len < s.minLength) {
      errs.push({ field: path, type: 'FieldValueInvalid', badValue: value, detail: `${inBody} should be at least ${s.minLength} chars long` });
    }
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) {
      errs.push({ field: path, type: 'FieldValueInvalid', badValue: value, detail: `${inBody} should match '${s.pattern}'` });
    }
    const bad = formatErrors(value, s.format);
    if (bad) errs.push({ field: path, type: 'FieldValueInvalid', badValue: value, detail: `${inBody} must be of type ${bad}: ${JSON.stringify(value)}` });
  }
  if (Array.isArray(value)) {
    if (s.maxItems !== undefined && value.length > s.maxItems) {
      errs.push({ field: path, type: 'FieldValueTooMany', badValue: value.length, detail: `must have at most ${s.maxItems} items` });
    }
    if (s.minItems !== undefined && value.length < s.minItems) {
      errs.push({ field: path, type: 'FieldValueInvalid', badValue: value.length, detail: `${inBody} should have at least ${s.minItems} items` });
    }
    const listType = s['x-kubernetes-list-type'];
    const keys = s['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Map<string, number>();
    value.forEach((item, i) => {
      const id = listType === 'map' && isObj(item) ? JSON.stringify(keys.map((k) => item[k])) : listType === 'set' ? JSON.stringify(item) : undefined;
      if (id !== undefined) {
        if (seen.has(id))
          errs.push({
            field: `${path}[${i}]`,
            type: 'FieldValueDuplicate',
            badValue: listType === 'map' ? Object.fromEntries(keys.map((k) => [k, (item as Obj)[k]])) : item,
            detail: '',
          });
        seen.set(id, i);
      }
      let oldItem: unknown;
      if (listType === 'map' && Array.isArray(old) && isObj(item)) {
        oldItem = old.find((o) => isObj(o) && keys.every((k) => JSON.stringify(o[k]) === JSON.stringify(item[k])));
      }
      errs.push(...validate(item, s.items, `${path}[${i}]`, oldItem, hook));
    });
  }
  if (isObj(value)) {
    for (const r of s.required ?? []) {
      if (value[r] === undefined) errs.push({ field: joinPath(path, r), type: 'FieldValueRequired', detail: '' });
    }
    const n = Object.keys(value).length;
    if (s.maxProperties !== undefined && n > s.maxProperties)
      errs.push({ field: path, type: 'FieldValueTooMany', badValue: n, detail: `must have at most ${s.maxProperties} items` });
    if (s.minProperties !== undefined && n < s.minProperties)
      errs.push({ field: path, type: 'FieldValueInvalid', badValue: n, detail: `${inBody} should have at least ${s.minProperties} properties` });
    const oldObj = isObj(old) ? old : undefined;
    for (const [k, v] of Object.entries(value)) {
      if (path === '' && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
      errs.push(...validate(v, childSchema(s, k), joinPath(path, k), oldObj?.[k], hook));
    }
  }
  for (const sub of s.allOf ?? []) errs.push(...validate(value, sub, path, old));
  if (s.anyOf && !s.anyOf.some((sub) => validate(value, sub, path, old).length === 0)) {
    errs.push({ field: path, type: 'FieldValueInvalid', badValue: '', detail: `"${path}" must validate at least one schema (anyOf)` });
  }
  if (s.oneOf && s.oneOf.filter((sub) => validate(value, sub, path, old).length === 0).length !== 1) {
    errs.push({ field: path, type: 'FieldValueInvalid', badValue: '', detail: `"${path}" must validate one and only one schema (oneOf)` });
  }
  // CEL rules run only on nodes that are otherwise valid, as the apiserver skips them on type errors.
  if (hook && s['x-kubernetes-validations']?.length && errs.length === 0) errs.push(...hook(s, value, old, path));
  return errs;
}

/** The schema's type name as CEL errors show it ("object", "integer", ...). */
export function schemaTypeName(s: JSONSchema): string {
  if (s['x-kubernetes-int-or-string']) return 'integer';
  return s.type ?? 'object';
}

/** Paths of fields pruning would drop (`spec.bogus`), for fieldValidation=Strict|Warn. */
export function unknownFields(value: unknown, s: JSONSchema | undefined, path = '', root = true): string[] {
  if (!s) return [];
  const out: string[] = [];
  if (isObj(value)) {
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
    for (const [k, v] of Object.entries(value)) {
      if ((root || s['x-kubernetes-embedded-resource']) && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const cs = childSchema(s, k);
      const p = path ? `${path}.${k}` : k;
      if (!cs) {
        if (!preserve && s.additionalProperties !== true) out.push(p);
        continue;
      }
      out.push(...unknownFields(v, cs, p, false));
    }
  } else if (Array.isArray(value) && s.items) {
    value.forEach((v, i) => out.push(...unknownFields(v, s.items, `${path}[${i}]`, false)));
  }
  return out;
}
