// Unit tests of the selector parsers (label set-based syntax, field selectors and their allow-list).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labelSelectorString, parseFieldSelector, parseLabelSelector, selectableFields } from './selectors.ts';
import type { KObject } from './store.ts';

const obj = (labels: Record<string, string>, extra: Record<string, unknown> = {}): KObject => ({ metadata: { name: 'n', namespace: 'ns', labels }, ...extra });

test('equality, set-based and existence requirements', () => {
  const o = obj({ app: 'web', tier: 'fe' });
  assert.ok(parseLabelSelector('app=web')(o));
  assert.ok(parseLabelSelector('app==web,tier!=be')(o));
  assert.ok(parseLabelSelector('tier in (fe, be),app')(o));
  assert.not.ok(parseLabelSelector('tier notin (fe)')(o));
  assert.ok(parseLabelSelector('!canary')(o));
  assert.not.ok(parseLabelSelector('canary')(o));
  assert.ok(parseLabelSelector('')(o));
});

test('bad selectors are 400 errors', () => {
  assert.throws(() => parseLabelSelector('a in (b'), /unable to parse/);
  assert.throws(() => parseFieldSelector('metadata.name in (a)'), /invalid field selector/);
});

test('field selectors compare dotted paths as strings', () => {
  const o = obj({}, { status: { phase: 'Running' }, spec: { nodeName: 'n1' } });
  assert.ok(parseFieldSelector('metadata.name=n,status.phase=Running')(o));
  assert.ok(parseFieldSelector('spec.nodeName!=n2')(o));
  assert.ok(parseFieldSelector('spec.missing=')(o));
  assert.throws(() => parseFieldSelector('spec.replicas=1', selectableFields('apps', 'statefulsets')), /field label not supported: spec.replicas/);
  assert.ok(parseFieldSelector('spec.nodeName=n1', selectableFields('', 'pods'))(o));
});

test('LabelSelector objects render to the string form', () => {
  assert.is(
    labelSelectorString({
      matchLabels: { a: 'b' },
      matchExpressions: [
        { key: 'c', operator: 'In', values: ['d', 'e'] },
        { key: 'f', operator: 'DoesNotExist' },
      ],
    }),
    'a=b,c in (d,e),!f',
  );
});

test.run();
