// Unit tests of the patch formats and of FieldsV1 field-set encoding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiError } from './errors.ts';
import { decodeFields, encodeFields, fieldSet, builtinShape } from './fieldset.ts';
import { jsonPatch, mergePatch, strategicMerge } from './patch.ts';

test('merge patch: null deletes, objects merge, lists replace', () => {
  assert.equal(mergePatch({ a: 1, b: { c: 1, d: 2 }, l: [1, 2] }, { a: null, b: { d: 3 }, l: [3] }), { b: { c: 1, d: 3 }, l: [3] });
});

test('json patch: a failing test op is a 422 Invalid', () => {
  assert.equal(
    jsonPatch({ a: 1 }, [
      { op: 'test', path: '/a', value: 1 },
      { op: 'replace', path: '/a', value: 2 },
    ]),
    { a: 2 },
  );
  try {
    jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 9 }]);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ApiError);
    assert.is((e as ApiError).code, 422);
  }
});

test('strategic merge: keyed lists, $patch delete, $retainKeys, primitive merge lists', () => {
  const base = {
    metadata: { finalizers: ['a'] },
    spec: {
      containers: [
        { name: 'a', image: '1' },
        { name: 'b', image: '1' },
      ],
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
    },
  };
  const out = strategicMerge(base, {
    metadata: { finalizers: ['b'] },
    spec: {
      '$setElementOrder/containers': [{ name: 'a' }, { name: 'c' }],
      containers: [
        { name: 'b', $patch: 'delete' },
        { name: 'c', image: '2' },
        { name: 'a', image: '3' },
      ],
      strategy: { $retainKeys: ['type'], type: 'Recreate' },
    },
  }) as typeof base;
  assert.equal(out.spec.containers, [
    { name: 'a', image: '3' },
    { name: 'c', image: '2' },
  ]);
  assert.equal(out.spec.strategy, { type: 'Recreate' });
  assert.equal(Object.keys(out.spec).sort(), ['containers', 'strategy']);
  assert.equal(out.metadata.finalizers, ['a', 'b']);
});

test('field sets round-trip through FieldsV1 with keyed list items', () => {
  const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  const set = fieldSet(obj, builtinShape());
  const trie = encodeFields(set);
  assert.equal(trie, {
    'f:metadata': { 'f:labels': { 'f:a': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:image': {} } } },
  });
  assert.equal([...decodeFields(trie)].sort(), [...set].sort());
});

test.run();
