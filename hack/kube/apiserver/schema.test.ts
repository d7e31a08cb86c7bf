// Unit tests of structural-schema defaulting, pruning, validation messages and CEL rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { celRules } from './cel.ts';
import { renderFieldError } from './errors.ts';
import { applyDefaults, prune, unknownFields, validate, type JSONSchema } from './schema.ts';

const schema: JSONSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'self.max >= self.min', message: 'max must be at least min' },
        { rule: 'self.min >= oldSelf.min', message: 'min may not shrink' },
      ],
      properties: {
        min: { type: 'integer', default: 1 },
        max: { type: 'integer', default: 3 },
        nested: { type: 'object', default: {}, properties: { deep: { type: 'string', default: 'd' } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        name: { type: 'string', nullable: true, format: 'hostname' },
      },
    },
  },
};

const run = (v: unknown, old?: unknown) => validate(v, schema, '', old, celRules).map(renderFieldError);

test('defaults apply top-down, including inside a defaulted object', () => {
  const o: Record<string, unknown> = { spec: {} };
  applyDefaults(o, schema);
  assert.equal(o.spec, { min: 1, max: 3, nested: { deep: 'd' } });
});

test('pruning drops unknown fields but keeps preserved subtrees and root metadata', () => {
  const o = { apiVersion: 'a/v1', kind: 'K', metadata: { name: 'x' }, spec: { min: 1, junk: 1, free: { any: { thing: 1 } } }, top: 1 };
  assert.equal(unknownFields(o, schema), ['spec.junk', 'top']);
  prune(o, schema, true);
  assert.equal(o, { apiVersion: 'a/v1', kind: 'K', metadata: { name: 'x' }, spec: { min: 1, free: { any: { thing: 1 } } } } as never);
});

test('CEL rules with self, and oldSelf only on updates', () => {
  assert.equal(run({ spec: { min: 5, max: 2 } }), ['spec: Invalid value: "object": max must be at least min']);
  assert.equal(run({ spec: { min: 1, max: 2 } }, undefined), []);
  assert.equal(run({ spec: { min: 1, max: 2 } }, { spec: { min: 2, max: 2 } }), ['spec: Invalid value: "object": min may not shrink']);
});

test('CEL messageExpression, reason and fieldPath shape the error', () => {
  const s: JSONSchema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: { n: { type: 'integer' } },
        'x-kubernetes-validations': [
          { rule: 'self.n < 10', messageExpression: '"n is " + string(self.n) + ", must be below 10"', reason: 'FieldValueForbidden', fieldPath: '.n' },
          { rule: 'self.n.missing > 1' },
        ],
      },
    },
  };
  const errs = validate({ spec: { n: 12 } }, s, '', undefined, celRules).map(renderFieldError);
  assert.is(errs[0], 'spec.n: Forbidden: n is 12, must be below 10');
  assert.match(errs[1], /^spec: Invalid value: "object": .* evaluating rule: self.n.missing > 1$/);
});

test('types, nullable and format', () => {
  assert.equal(run({ spec: { min: 1.5, max: 3 } }), ['spec.min: Invalid value: "number": spec.min in body must be of type integer: "number"']);
  assert.equal(run({ spec: { min: 1, max: 3, name: null } }), []);
  assert.equal(run({ spec: { min: 1, max: 3, name: 'not a host!' } }), [
    'spec.name: Invalid value: "not a host!": spec.name in body must be of type hostname: "not a host!"',
  ]);
});

test.run();
