import fjp from 'fast-json-patch';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addFinalizerPatch, finalizerAction, removeFinalizerPatch } from './finalizer.ts';

const F = 'storage.cairn.dev/bucket';
const apply = (doc: unknown, ops: unknown[]) => fjp.applyPatch(structuredClone(doc), ops as never, true).newDocument;

test('state machine: present × deleting', () => {
  assert.is(finalizerAction({}, F), 'add');
  assert.is(finalizerAction({ finalizers: [F] }, F), 'apply');
  assert.is(finalizerAction({ finalizers: [F], deletionTimestamp: 't' }, F), 'cleanup');
  assert.is(finalizerAction({ finalizers: ['other'], deletionTimestamp: 't' }, F), 'none');
});

test('add patch creates the list or appends, guarded by a test op', () => {
  const bare = { metadata: { name: 'b', resourceVersion: '7' } };
  assert.equal((apply(bare, addFinalizerPatch(bare.metadata, F)) as any).metadata.finalizers, [F]);
  const other = { metadata: { name: 'b', resourceVersion: '7', finalizers: ['x'] } };
  assert.equal((apply(other, addFinalizerPatch(other.metadata, F)) as any).metadata.finalizers, ['x', F]);
  // a concurrent change makes the guarded patch fail instead of clobbering
  const moved = { metadata: { name: 'b', resourceVersion: '8' } };
  assert.throws(() => apply(moved, addFinalizerPatch(bare.metadata, F)));
  const changed = { metadata: { name: 'b', finalizers: ['x', 'y'] } };
  assert.throws(() => apply(changed, addFinalizerPatch(other.metadata, F)));
});

test('remove patch removes exactly ours, guarded by its index', () => {
  const obj = { metadata: { finalizers: ['a', F, 'b'] } };
  assert.equal((apply(obj, removeFinalizerPatch(obj.metadata, F)) as any).metadata.finalizers, ['a', 'b']);
  const shifted = { metadata: { finalizers: [F, 'b'] } };
  assert.throws(() => apply(shifted, removeFinalizerPatch(obj.metadata, F)));
  assert.equal(removeFinalizerPatch({ finalizers: ['a'] }, F), []);
});

test.run();
