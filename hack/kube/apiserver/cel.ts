// x-kubernetes-validations: CEL rules evaluated with @marcbachmann/cel-js, `self` bound to the
// node's value and `oldSelf` to the previous value on updates (transition rules).
import { parse } from '@marcbachmann/cel-js';
import type { FieldError } from './errors.ts';
import { schemaTypeName, type JSONSchema, type RuleHook, type ValidationRule } from './schema.ts';

type Program = ReturnType<typeof parse>;
const compiled = new Map<string, Program>();

function program(expr: string): Program {
  let p = compiled.get(expr);
  if (!p) {
    p = parse(expr);
    compiled.set(expr, p);
  }
  return p;
}

/** Parse every rule of a schema; returns messages for rules that do not compile (CRD is then invalid). */
export function compileErrors(s: JSONSchema | undefined, path = 'openAPIV3Schema'): string[] {
  if (!s) return [];
  const out: string[] = [];
  (s['x-kubernetes-validations'] ?? []).forEach((r, i) => {
    try {
      program(r.rule);
    } catch (e) {
      out.push(
        `${path}.x-kubernetes-validations[${i}].rule: Invalid value: ${JSON.stringify(r.rule)}: compilation failed: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    if (r.messageExpression) {
      try {
        program(r.messageExpression);
      } catch (e) {
        out.push(
          `${path}.x-kubernetes-validations[${i}].messageExpression: Invalid value: ${JSON.stringify(r.messageExpression)}: compilation failed: ${(e as Error).message.split('\n')[0]}`,
        );
      }
    }
  });
  for (const [k, c] of Object.entries(s.properties ?? {})) out.push(...compileErrors(c, `${path}.properties[${k}]`));
  if (s.items) out.push(...compileErrors(s.items, `${path}.items`));
  if (typeof s.additionalProperties === 'object') out.push(...compileErrors(s.additionalProperties, `${path}.additionalProperties`));
  return out;
}

/** JSON → CEL values: integers become CEL ints (bigint) unless the schema says `number`. */
function toCel(v: unknown, s: JSONSchema | undefined): unknown {
  if (typeof v === 'number') return Number.isInteger(v) && s?.type !== 'number' ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map((x) => toCel(x, s?.items));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const cs = s?.properties?.[k] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
      out[k] = toCel(x, cs);
    }
    return out;
  }
  return v;
}

const reasonType: Record<string, FieldError['type']> = {
  FieldValueInvalid: 'FieldValueInvalid',
  FieldValueForbidden: 'FieldValueForbidden',
  FieldValueRequired: 'FieldValueRequired',
  FieldValueDuplicate: 'FieldValueDuplicate',
};

function failure(s: JSONSchema, r: ValidationRule, path: string, message: string): FieldError {
  const field = r.fieldPath ? `${path}${r.fieldPath.startsWith('.') || r.fieldPath.startsWith('[') ? '' : '.'}${r.fieldPath}` : path;
  const type = reasonType[r.reason ?? 'FieldValueInvalid'] ?? 'FieldValueInvalid';
  return type === 'FieldValueInvalid' ? { field, type, badValue: schemaTypeName(s), detail: message } : { field, type, detail: message };
}

/** The hook `validate` calls at each node that has rules. */
export const celRules: RuleHook = (s, value, old, path) => {
  const errs: FieldError[] = [];
  const self = toCel(value, s);
  const oldSelf = old === undefined ? undefined : toCel(old, s);
  for (const r of s['x-kubernetes-validations'] ?? []) {
    const transition = /\boldSelf\b/.test(r.rule);
    if (transition && old === undefined && !r.optionalOldSelf) continue;
    let ok: unknown;
    try {
      ok = program(r.rule)({ self, oldSelf });
    } catch (e) {
      // Runtime errors (no such key, type mismatch) fail the rule, with the cause in the message.
      errs.push(failure(s, r, path, `${(e as Error).message.split('\n')[0]} evaluating rule: ${r.rule}`));
      continue;
    }
    if (ok === true) continue;
    let message = r.message ?? `failed rule: ${r.rule}`;
    if (r.messageExpression) {
      try {
        const m = program(r.messageExpression)({ self, oldSelf });
        if (typeof m === 'string' && m.trim() !== '') message = m;
      } catch {
        /* Kubernetes falls back to message on a failing messageExpression */
      }
    }
    errs.push(failure(s, r, path, message));
  }
  return errs;
};
